"""LoRA adapter files (PEFT directory, plain .safetensors, legacy .bin) -> per-module factors.

safetensors' own numpy loader refuses bf16, so the file's documented layout (8-byte
little-endian header length, JSON header, raw little-endian data) is read here, with
every offset checked, and bf16 is widened through its bit pattern. Tensors are
converted one module at a time, in float64.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .problems import Problem
from .span import Span

MAX_HEADER_BYTES = 100 << 20
_DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
}
_EPS = {
    "F64": float(np.finfo(np.float64).eps),
    "F32": float(np.finfo(np.float32).eps),
    "F16": float(np.finfo(np.float16).eps),
    "BF16": 2.0**-7,
}
_KEY = re.compile(
    r"^(?:base_model\.model\.)?(?P<module>.+?)\.(?P<factor>lora_A|lora_B|lora_down|lora_up)"
    r"(?:\.[A-Za-z0-9_-]+)?\.weight$"
)
_ALPHA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+?)\.alpha$")


class AdapterError(Exception):
    """An adapter that cannot be read; the message names what and where."""


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class LoraModule:
    """One adapted module: dW = scale * B @ A, with A (r x in) and B (out x r) in float64."""

    name: str
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    scale: float
    eps: float
    """Machine epsilon of the stored dtype (float64's for .bin tensors widened by torch)."""


@dataclass(frozen=True)
class AdapterFile:
    """An adapter's tensors (bytes + header) and how to scale each module."""

    tensors: dict[str, TensorInfo]
    data: bytes
    offset: int
    config: dict[str, Any] | None
    plain_scale: float | None
    label: str
    torch_tensors: dict[str, NDArray[np.float64]] | None = None
    torch_eps: dict[str, float] = field(default_factory=dict)


def parse_safetensors_header(data: bytes, label: str) -> tuple[dict[str, TensorInfo], int]:
    if len(data) < 8:
        raise AdapterError(f"{label}: not a safetensors file (shorter than its header length)")
    length = int.from_bytes(data[:8], "little")
    if length > min(MAX_HEADER_BYTES, len(data) - 8):
        raise AdapterError(f"{label}: safetensors header length {length} exceeds the file")
    try:
        header = json.loads(data[8 : 8 + length])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise AdapterError(f"{label}: the safetensors header is not valid JSON") from None
    if not isinstance(header, dict):
        raise AdapterError(f"{label}: the safetensors header is not an object")
    body = len(data) - 8 - length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _tensor_info(name, entry, body, label)
    return tensors, 8 + length


def _tensor_info(name: str, entry: Any, body: int, label: str) -> TensorInfo:
    if not isinstance(entry, dict):
        raise AdapterError(f"{label}: tensor `{name}` has no header entry")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _DTYPES:
        raise AdapterError(
            f"{label}: tensor `{name}` has dtype {dtype!r}; supported: F64, F32, F16, BF16"
        )
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise AdapterError(f"{label}: tensor `{name}` has an invalid shape {shape!r}")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) for o in offsets)
        and 0 <= offsets[0] <= offsets[1] <= body
    ):
        raise AdapterError(f"{label}: tensor `{name}` has data offsets outside the file")
    if offsets[1] - offsets[0] != math.prod(shape) * _DTYPES[dtype].itemsize:
        raise AdapterError(f"{label}: tensor `{name}`'s byte size does not match its shape")
    return TensorInfo(dtype, tuple(shape), offsets[0], offsets[1])


def tensor(adapter: AdapterFile, name: str) -> NDArray[np.float64]:
    """Read one tensor as float64 (bf16 widened bit-exactly)."""
    if adapter.torch_tensors is not None:
        return adapter.torch_tensors[name]
    info = adapter.tensors[name]
    raw = np.frombuffer(
        adapter.data,
        dtype=_DTYPES[info.dtype],
        count=math.prod(info.shape),
        offset=adapter.offset + info.start,
    )
    if info.dtype == "BF16":
        raw = np.left_shift(raw, 16, dtype=np.uint32).view(np.float32)
    widened: NDArray[np.float64] = raw.astype(np.float64).reshape(info.shape)
    return widened


def load_bin(data: bytes, label: str) -> dict[str, tuple[NDArray[np.float64], float]]:
    """A legacy adapter_model.bin, through torch.load(weights_only=True) only."""
    try:
        import torch
    except ImportError:
        raise AdapterError(
            f"{label}: reading .bin adapters needs torch: "
            "pip install torch==2.13.0 (CPU) or 'accard[torch]'"
        ) from None
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any failure of the restricted unpickler
        raise AdapterError(
            f"{label}: refused: this file is not a plain tensor dictionary "
            f"that loads without full unpickling ({type(error).__name__})"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise AdapterError(f"{label}: a .bin adapter must hold a dictionary of tensors")
    return {
        str(k): (
            v.detach().to(torch.float64).numpy(),
            float(torch.finfo(v.dtype).eps) if v.is_floating_point() else _EPS["F64"],
        )
        for k, v in state.items()
    }


def open_adapter(
    weights: bytes, weights_name: str, config: bytes | None, plain_scale: float | None, label: str
) -> AdapterFile:
    parsed_config = _parse_config(config, label) if config is not None else None
    if weights_name.endswith(".bin"):
        loaded = load_bin(weights, label)
        infos = {k: TensorInfo("F64", v.shape, 0, 0) for k, (v, _) in loaded.items()}
        arrays = {k: v for k, (v, _) in loaded.items()}
        eps = {k: e for k, (_, e) in loaded.items()}
        return AdapterFile(infos, b"", 0, parsed_config, plain_scale, label, arrays, eps)
    tensors, offset = parse_safetensors_header(weights, label)
    return AdapterFile(tensors, weights, offset, parsed_config, plain_scale, label)


def _parse_config(config: bytes, label: str) -> dict[str, Any]:
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


def module_scale(adapter: AdapterFile, module: str, rank: int, alpha_key: str | None) -> float:
    if adapter.plain_scale is not None:
        return adapter.plain_scale
    if alpha_key is not None:
        return float(tensor(adapter, alpha_key).reshape(-1)[0]) / rank
    config = adapter.config
    if config is None:
        raise AdapterError(f"{adapter.label}: no adapter_config.json and no stated scale")
    r = _pattern_value(config.get("rank_pattern") or {}, module, config["r"])
    alpha = _pattern_value(config.get("alpha_pattern") or {}, module, config["lora_alpha"])
    if r != rank:
        raise AdapterError(
            f"{adapter.label}: module `{module}` has rank {rank} in its tensors "
            f"but r = {r} in adapter_config.json"
        )
    return float(alpha) / (math.sqrt(r) if config.get("use_rslora") else r)


def iter_modules(
    adapter: AdapterFile, names: dict[str, dict[str, str]], wanted: list[str]
) -> Iterator[LoraModule]:
    for module in wanted:
        keys = names[module]
        a, b = tensor(adapter, keys["A"]), tensor(adapter, keys["B"])
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterError(
                f"{adapter.label}: module `{module}` has lora_A {a.shape} and "
                f"lora_B {b.shape}, which do not multiply"
            )
        eps = max(_stored_eps(adapter, keys["A"]), _stored_eps(adapter, keys["B"]))
        scale = module_scale(adapter, module, a.shape[0], keys.get("alpha"))
        yield LoraModule(module, a, b, scale, eps)


def _stored_eps(adapter: AdapterFile, key: str) -> float:
    if adapter.torch_tensors is not None:
        return adapter.torch_eps.get(key, _EPS["F64"])
    return _EPS[adapter.tensors[key].dtype]


def open_weights(data: bytes, label: str) -> AdapterFile:
    """A plain .safetensors file of full weights (the base or aligned model)."""
    tensors, offset = parse_safetensors_header(data, label)
    return AdapterFile(tensors, data, offset, None, None, label)


def weight_of(weights: AdapterFile, module: str) -> NDArray[np.float64]:
    """The dense weight of `module` (PEFT's base_model.model. prefix already stripped)."""
    for key in (f"{module}.weight", f"{module}.base_layer.weight"):
        if key in weights.tensors:
            return tensor(weights, key)
    raise AdapterError(f"{weights.label}: no weight `{module}.weight` for an adapted module")


def adapter_problem(error: AdapterError, path: str) -> Problem:
    return Problem(str(error), Span(path, 0), "", "adapters")
