"""Adapter files (verified bytes) -> per-module LoRA factors in float64: PEFT directories,
plain .safetensors files with a scale, legacy .bin files, and full base/aligned weights.
Knows nothing of plans: the mechanism diagnostic hands it each file's bytes."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from .model import AdapterError, AdapterFile, LoraModule, TensorInfo
from .peft import module_names, module_scale, parse_config
from .safetensors import parse_safetensors_header, read_tensor, stored_eps
from .torch_bin import F64_EPS, load_bin

__all__ = [
    "AdapterError",
    "AdapterFile",
    "LoraModule",
    "iter_modules",
    "module_names",
    "open_adapter",
    "open_weights",
    "read_module",
    "tensor",
    "weight_of",
]


def tensor(adapter: AdapterFile, name: str) -> NDArray[np.float64]:
    """Read one tensor as float64 (bf16 widened bit-exactly)."""
    if adapter.torch_tensors is not None:
        return adapter.torch_tensors[name]
    return read_tensor(adapter.data, adapter.offset, adapter.tensors[name])


def open_adapter(
    weights: bytes,
    weights_name: str,
    config: bytes | None,
    plain_scale: float | None,
    label: str,
    config_label: str = "",
) -> AdapterFile:
    """An adapter from its weights' bytes (safetensors, or .bin by name) and config's bytes;
    `label` and `config_label` name the two files in problems."""
    config_label = config_label or label
    parsed_config = parse_config(config, config_label) if config is not None else None
    if weights_name.endswith(".bin"):
        loaded = load_bin(weights, label)
        infos = {k: TensorInfo("F64", v.shape, 0, 0) for k, (v, _) in loaded.items()}
        arrays = {k: v for k, (v, _) in loaded.items()}
        eps = {k: e for k, (_, e) in loaded.items()}
        return AdapterFile(
            infos, b"", 0, parsed_config, plain_scale, label, arrays, eps, config_label
        )
    tensors, offset = parse_safetensors_header(weights, label)
    return AdapterFile(
        tensors, weights, offset, parsed_config, plain_scale, label, config_label=config_label
    )


def iter_modules(
    adapter: AdapterFile, names: dict[str, dict[str, str]], wanted: list[str]
) -> Iterator[LoraModule]:
    """The `wanted` modules' factors and scales, one module at a time."""
    for module in wanted:
        yield read_module(adapter, module, names[module])


def read_module(adapter: AdapterFile, module: str, keys: dict[str, str]) -> LoraModule:
    """One module's factors, scale and Gram matrices; non-finite values (or values whose
    squares overflow float64) are refused here, naming the file and the tensor."""
    a, b = tensor(adapter, keys["A"]), tensor(adapter, keys["B"])
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
        raise AdapterError(
            f"module `{module}` has lora_A {a.shape} and lora_B {b.shape}, which do not multiply",
            adapter.label,
            keys["A"],
        )
    gram_a, gram_b = a @ a.T, b.T @ b
    for key, gram in ((keys["A"], gram_a), (keys["B"], gram_b)):
        if not np.isfinite(gram).all():
            raise AdapterError(
                f"tensor `{key}` holds NaN or infinite values (or values whose squares "
                "overflow float64)",
                adapter.label,
                key,
            )
    eps = max(_stored_eps(adapter, keys["A"]), _stored_eps(adapter, keys["B"]))
    alpha = _kohya_alpha(adapter, keys["alpha"]) if "alpha" in keys else None
    scale = module_scale(adapter, module, a.shape[0], alpha)
    return LoraModule(module, a, b, scale, eps, gram_a, gram_b)


def _kohya_alpha(adapter: AdapterFile, key: str) -> float:
    """A kohya `.alpha` tensor: one positive finite number."""
    values = tensor(adapter, key).reshape(-1)
    if values.size != 1:
        raise AdapterError(
            f"tensor `{key}` holds {values.size} values; a kohya .alpha holds one number",
            adapter.label,
            key,
        )
    alpha = float(values[0])
    if not (math.isfinite(alpha) and alpha > 0):
        raise AdapterError(
            f"tensor `{key}` is {alpha}; a kohya .alpha is a positive finite number",
            adapter.label,
            key,
        )
    return alpha


def _stored_eps(adapter: AdapterFile, key: str) -> float:
    if adapter.torch_tensors is not None:
        return adapter.torch_eps.get(key, F64_EPS)
    return stored_eps(adapter.tensors[key].dtype)


def open_weights(data: bytes, label: str) -> AdapterFile:
    """A plain .safetensors file of full weights (the base or aligned model)."""
    tensors, offset = parse_safetensors_header(data, label)
    return AdapterFile(tensors, data, offset, None, None, label)


def weight_of(weights: AdapterFile, module: str, shape: tuple[int, int]) -> NDArray[np.float64]:
    """The dense weight of `module` (PEFT's base_model.model. prefix already stripped), which
    must have the update's `shape` (out, in) and finite values whose squares sum in float64."""
    for key in (f"{module}.weight", f"{module}.base_layer.weight"):
        if key in weights.tensors:
            if weights.tensors[key].shape != shape:
                raise AdapterError(
                    f"weight `{key}` has shape {list(weights.tensors[key].shape)}; the adapted "
                    f"module's update is {list(shape)}",
                    weights.label,
                    key,
                )
            weight = tensor(weights, key)
            flat = weight.reshape(-1)
            if not math.isfinite(float(flat @ flat)):
                raise AdapterError(
                    f"weight `{key}` holds NaN or infinite values (or values too large "
                    "for float64)",
                    weights.label,
                    key,
                )
            return weight
    raise AdapterError(
        f"no weight `{module}.weight` for an adapted module", weights.label, f"{module}.weight"
    )
