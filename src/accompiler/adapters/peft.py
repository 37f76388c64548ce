"""PEFT's conventions: adapter_config.json, tensor key spellings, and each module's scale
(lora_alpha / r, rsLoRA's lora_alpha / sqrt(r), rank_pattern / alpha_pattern overrides)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .model import AdapterError, AdapterFile

_KEY = re.compile(
    r"^(?:base_model\.model\.)?(?P<module>.+?)\.(?P<factor>lora_A|lora_B|lora_down|lora_up)"
    r"(?:\.[A-Za-z0-9_-]+)?\.weight$"
)
_ALPHA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+?)\.alpha$")


def parse_config(config: bytes, label: str) -> dict[str, Any]:
    try:
        parsed = json.loads(config)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise AdapterError(f"{label}: adapter_config.json is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise AdapterError(f"{label}: adapter_config.json is not an object")
    for key in ("r", "lora_alpha"):
        value = parsed.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise AdapterError(
                f"{label}: adapter_config.json lacks a positive `{key}` (no default is assumed)"
            )
    if parsed.get("use_dora"):
        raise AdapterError(f"{label}: DoRA adapters are not LoRA updates B @ A; not supported")
    for key in ("rank_pattern", "alpha_pattern"):
        if not isinstance(parsed.get(key) or {}, dict):
            raise AdapterError(f"{label}: `{key}` in adapter_config.json is not an object")
    return parsed


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
                    f"{adapter.label}: module `{match['module']}` has two lora_{factor} tensors"
                )
            slot[factor] = key
        elif alpha:
            modules.setdefault(alpha["module"], {})["alpha"] = key
        else:
            unknown.append(key)
    if unknown:
        raise AdapterError(
            f"{adapter.label}: tensors that are not LoRA factors: " + ", ".join(sorted(unknown)[:5])
        )
    incomplete = sorted(m for m, s in modules.items() if "A" not in s or "B" not in s)
    if incomplete:
        raise AdapterError(
            f"{adapter.label}: modules lacking lora_A or lora_B: " + ", ".join(incomplete[:5])
        )
    return modules


def _pattern_value(patterns: dict[str, Any], module: str, default: Any) -> Any:
    """PEFT's get_pattern_key: the first key k with re.match(rf"(.*\\.)?({k})$", module)."""
    for key, value in patterns.items():
        if len(key) <= 256 and re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def module_scale(adapter: AdapterFile, module: str, rank: int, alpha: float | None) -> float:
    """dW's scale: a plain file's stated scale, a kohya `.alpha` / r, or PEFT's config rule."""
    if adapter.plain_scale is not None:
        return adapter.plain_scale
    if alpha is not None:
        return alpha / rank
    config = adapter.config
    if config is None:
        raise AdapterError(f"{adapter.label}: no adapter_config.json and no stated scale")
    r = _pattern_value(config.get("rank_pattern") or {}, module, config["r"])
    config_alpha = _pattern_value(config.get("alpha_pattern") or {}, module, config["lora_alpha"])
    if r != rank:
        raise AdapterError(
            f"{adapter.label}: module `{module}` has rank {rank} in its tensors "
            f"but r = {r} in adapter_config.json"
        )
    return float(config_alpha) / (math.sqrt(r) if config.get("use_rslora") else r)
