"""Adapter files (verified bytes) -> per-module LoRA factors in float64: PEFT directories,
plain .safetensors files with a scale, legacy .bin files, and full base/aligned weights.
Knows nothing of plans: the mechanism diagnostic hands it each file's bytes."""

from __future__ import annotations

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
    "tensor",
    "weight_of",
]


def tensor(adapter: AdapterFile, name: str) -> NDArray[np.float64]:
    """Read one tensor as float64 (bf16 widened bit-exactly)."""
    if adapter.torch_tensors is not None:
        return adapter.torch_tensors[name]
    return read_tensor(adapter.data, adapter.offset, adapter.tensors[name])


def open_adapter(
    weights: bytes, weights_name: str, config: bytes | None, plain_scale: float | None, label: str
) -> AdapterFile:
    """An adapter from its weights' bytes (safetensors, or .bin by name) and config's bytes."""
    parsed_config = parse_config(config, label) if config is not None else None
    if weights_name.endswith(".bin"):
        loaded = load_bin(weights, label)
        infos = {k: TensorInfo("F64", v.shape, 0, 0) for k, (v, _) in loaded.items()}
        arrays = {k: v for k, (v, _) in loaded.items()}
        eps = {k: e for k, (_, e) in loaded.items()}
        return AdapterFile(infos, b"", 0, parsed_config, plain_scale, label, arrays, eps)
    tensors, offset = parse_safetensors_header(weights, label)
    return AdapterFile(tensors, weights, offset, parsed_config, plain_scale, label)


def iter_modules(
    adapter: AdapterFile, names: dict[str, dict[str, str]], wanted: list[str]
) -> Iterator[LoraModule]:
    """The `wanted` modules' factors and scales, one module at a time."""
    for module in wanted:
        keys = names[module]
        a, b = tensor(adapter, keys["A"]), tensor(adapter, keys["B"])
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterError(
                f"{adapter.label}: module `{module}` has lora_A {a.shape} and "
                f"lora_B {b.shape}, which do not multiply"
            )
        eps = max(_stored_eps(adapter, keys["A"]), _stored_eps(adapter, keys["B"]))
        alpha = keys.get("alpha")
        alpha_value = float(tensor(adapter, alpha).reshape(-1)[0]) if alpha else None
        scale = module_scale(adapter, module, a.shape[0], alpha_value)
        yield LoraModule(module, a, b, scale, eps)


def _stored_eps(adapter: AdapterFile, key: str) -> float:
    if adapter.torch_tensors is not None:
        return adapter.torch_eps.get(key, F64_EPS)
    return stored_eps(adapter.tensors[key].dtype)


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
