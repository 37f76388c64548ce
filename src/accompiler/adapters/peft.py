"""PEFT's conventions: adapter_config.json, tensor key spellings, and each module's scale
(lora_alpha / r, rsLoRA's lora_alpha / sqrt(r), rank_pattern / alpha_pattern overrides).

Config values are checked by type (`use_rslora: "false"` is a string, not false). Pattern
keys are matched by PEFT's rule, re.match(rf"(.*\\.)?({key})$", module), but only in the
form PEFT documents (a module name or a suffix of one; `.` is any character, `\\.` a dot,
an optional `^` and `$`), with an index instead of a regular expression per key: the time
is bounded, whatever the config holds. A key outside that form is refused."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..spec.ast import Huge, integer
from .model import AdapterError, AdapterFile

_KEY = re.compile(
    r"^(?:base_model\.model\.)?(?P<module>.+?)\.(?P<factor>lora_A|lora_B|lora_down|lora_up)"
    r"(?:\.[A-Za-z0-9_-]+)?\.weight$"
)
_ALPHA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+?)\.alpha$")
MAX_PATTERNS = 1024
"""Keys of rank_pattern or alpha_pattern: a real config has at most one per adapted module."""
MAX_PATTERN_LENGTH = 512
_NAME = re.compile(r"(?:[A-Za-z0-9_\-.]|\\\.)+")
PATTERN_FORM = (
    "accard matches PEFT's pattern keys in their documented form: a module name or a suffix "
    "of one (`.` any character, `\\.` a dot), optionally with `^` and `$`"
)
CONFIG_HELP = "see README, 'Adapters'"


def parse_config(config: bytes, label: str) -> dict[str, Any]:
    """adapter_config.json, every value accard reads checked by type and range."""
    try:
        parsed = json.loads(config.decode("utf-8"), parse_int=integer)
    except UnicodeDecodeError:
        raise AdapterError("adapter_config.json is not UTF-8 text", label) from None
    except RecursionError:
        raise AdapterError(
            "adapter_config.json is not valid JSON (nested too deeply)", label
        ) from None
    except ValueError as error:
        raise AdapterError(f"adapter_config.json is not valid JSON ({error})", label) from None
    if not isinstance(parsed, dict):
        raise AdapterError("adapter_config.json is not an object", label)
    _positive(parsed, "r", label, whole=True, required=True)
    _positive(parsed, "lora_alpha", label, required=True)
    for key in ("use_rslora", "use_dora"):
        if parsed.get(key) is not None and not isinstance(parsed[key], bool):
            raise AdapterError(
                f"`{key}` must be true or false, not {_shown(parsed[key])}", label, key
            )
    if parsed.get("use_dora"):
        raise AdapterError(
            "DoRA adapters are not LoRA updates B @ A; not supported", label, "use_dora"
        )
    for key, whole in (("rank_pattern", True), ("alpha_pattern", False)):
        parsed[key] = _patterns(parsed.get(key), key, whole, label)
    return parsed


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, Huge) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _positive_fault(value: Any, whole: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "a positive whole number" if whole else "a positive number"
    if isinstance(value, Huge) or not math.isfinite(value) or not 0 < value <= 1e300:
        return "a positive finite number"
    if whole and not float(value).is_integer():
        return "a positive whole number"
    return ""


def _positive(
    config: dict[str, Any], key: str, label: str, *, whole: bool = False, required: bool = False
) -> None:
    if key not in config or config[key] is None:
        if required:
            raise AdapterError(
                f"adapter_config.json lacks a positive `{key}` (no default is assumed)", label, key
            )
        return
    fault = _positive_fault(config[key], whole)
    if fault:
        raise AdapterError(f"`{key}` must be {fault}, not {_shown(config[key])}", label, key)


@dataclass(frozen=True)
class _Pattern:
    index: int
    anchored: bool
    body: tuple[str | None, ...]
    """Characters to match exactly; None where PEFT's regex `.` matches any character."""
    value: float


MAX_PATTERN_WORK = 10**7
"""Index probes one pattern map may make over all modules (a few seconds at most)."""


class Patterns:
    """rank_pattern or alpha_pattern, indexed: the value of the first key (in the config's
    order) that matches a module by PEFT's rule. Keys are grouped by (length, positions of
    `.`); a module is looked up once per group whose length one of its suffixes has, and
    the probes over all modules are capped (MAX_PATTERN_WORK), so the time is bounded."""

    def __init__(self, patterns: list[_Pattern], key: str = "", label: str = "") -> None:
        self.by_length: dict[int, list[tuple[bool, tuple[int, ...], dict[str, _Pattern]]]] = {}
        groups: dict[tuple[bool, int, tuple[int, ...]], dict[str, _Pattern]] = {}
        for pattern in patterns:
            wild = tuple(i for i, c in enumerate(pattern.body) if c is None)
            masked = "".join("\0" if c is None else c for c in pattern.body)
            shape = (pattern.anchored, len(pattern.body), wild)
            if shape not in groups:
                groups[shape] = {}
                self.by_length.setdefault(len(pattern.body), []).append(
                    (pattern.anchored, wild, groups[shape])
                )
            groups[shape].setdefault(masked, pattern)
        self.key, self.label, self.work = key, label, 0

    def __bool__(self) -> bool:
        return bool(self.by_length)

    def value(self, module: str, default: float) -> float:
        starts = [0] + [i + 1 for i, c in enumerate(module) if c == "."]
        best: _Pattern | None = None
        for start in starts:
            for anchored, wild, group in self.by_length.get(len(module) - start, ()):
                if anchored and start:
                    continue
                self.work += 1
                chars = list(module[start:])
                if any(chars[i] == "\n" for i in wild):
                    continue
                for i in wild:
                    chars[i] = "\0"
                found = group.get("".join(chars))
                if found is not None and (best is None or found.index < best.index):
                    best = found
        if self.work > MAX_PATTERN_WORK:
            raise AdapterError(
                f"`{self.key}` keys of too many different shapes to match against this "
                "many modules in bounded time",
                self.label,
                self.key,
                PATTERN_FORM,
            )
        return default if best is None else best.value


def _compile_key(key: str) -> tuple[bool, tuple[str | None, ...]] | None:
    """(anchored, body) of a key in PEFT's documented form, or None."""
    anchored = key.startswith("^")
    text = key[1:] if anchored else key
    text = text[:-1] if text.endswith("$") and not text.endswith("\\$") else text
    if not _NAME.fullmatch(text):
        return None
    body: list[str | None] = []
    position = 0
    while position < len(text):
        if text.startswith("\\.", position):
            body.append(".")
            position += 2
        else:
            body.append(None if text[position] == "." else text[position])
            position += 1
    return anchored, tuple(body)


def _patterns(value: Any, key: str, whole: bool, label: str) -> Patterns:
    if value is None:
        return Patterns([])
    if not isinstance(value, dict):
        raise AdapterError(f"`{key}` in adapter_config.json is not an object", label, key)
    if len(value) > MAX_PATTERNS:
        raise AdapterError(
            f"`{key}` has {len(value)} keys; at most {MAX_PATTERNS} are allowed (one per "
            "adapted module is what PEFT writes)",
            label,
            key,
        )
    patterns = []
    for index, (pattern, number) in enumerate(value.items()):
        shown = pattern if len(pattern) <= 60 else pattern[:59] + "…"
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise AdapterError(
                f"`{key}` key `{shown}` is {len(pattern)} characters long; at most "
                f"{MAX_PATTERN_LENGTH} are allowed",
                label,
                key,
            )
        compiled = _compile_key(pattern)
        if compiled is None:
            raise AdapterError(
                f"`{key}` key `{shown}` is a regular expression pattern accard does not match",
                label,
                key,
                PATTERN_FORM,
            )
        fault = _positive_fault(number, whole)
        if fault:
            raise AdapterError(
                f"`{key}` value of `{shown}` must be {fault}, not {_shown(number)}", label, key
            )
        patterns.append(_Pattern(index, *compiled, float(number)))
    return Patterns(patterns, key, label)


def module_names(adapter: AdapterFile) -> dict[str, dict[str, str]]:
    """module -> {'A': key, 'B': key, 'alpha': key?}; unknown keys raise AdapterError."""
    modules: dict[str, dict[str, str]] = {}
    unknown = []
    for key in adapter.tensors:
        match = _KEY.match(key)
        alpha = _ALPHA_KEY.match(key)
        if match:
            factor = "A" if match["factor"] in ("lora_A", "lora_down") else "B"
            slot = modules.setdefault(match["module"], {})
            if factor in slot:
                raise AdapterError(
                    f"module `{match['module']}` has two lora_{factor} tensors", adapter.label, key
                )
            slot[factor] = key
        elif alpha:
            modules.setdefault(alpha["module"], {})["alpha"] = key
        else:
            unknown.append(key)
    if unknown:
        raise AdapterError(
            "tensors that are not LoRA factors: " + ", ".join(sorted(unknown)[:5]),
            adapter.label,
            sorted(unknown)[0],
        )
    incomplete = sorted(m for m, s in modules.items() if "A" not in s or "B" not in s)
    if incomplete:
        raise AdapterError(
            "modules lacking lora_A or lora_B: " + ", ".join(incomplete[:5]), adapter.label
        )
    return modules


def module_scale(adapter: AdapterFile, module: str, rank: int, alpha: float | None) -> float:
    """dW's scale: a plain file's stated scale, a kohya `.alpha` / r, or PEFT's config rule."""
    if adapter.plain_scale is not None:
        return adapter.plain_scale
    if alpha is not None:
        return alpha / rank
    config = adapter.config
    if config is None:
        raise AdapterError("no adapter_config.json and no stated scale", adapter.label)
    r = config["rank_pattern"].value(module, float(config["r"]))
    config_alpha = config["alpha_pattern"].value(module, float(config["lora_alpha"]))
    if r != rank:
        raise AdapterError(
            f"module `{module}` has rank {rank} in its tensors but r = {int(r)} in "
            "adapter_config.json",
            adapter.config_label or adapter.label,
            "rank_pattern" if config["rank_pattern"] else "r",
        )
    return float(config_alpha / (math.sqrt(r) if config.get("use_rslora") else r))
