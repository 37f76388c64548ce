"""Adapter files (verified bytes) -> per-module LoRA factors in float64: PEFT directories,
plain .safetensors files with a scale, legacy .bin files, and full base/aligned weights.
Knows nothing of plans: the mechanism diagnostic hands it each file's bytes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .model import AdapterError, AdapterFile, LoraModule, TensorInfo
from .peft import module_names, module_scale, parse_config
from .safetensors import parse_safetensors_header, read_tensor, stored_eps, widen_into
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
    "read_stacked",
    "Stacked",
    "tensor",
    "tensor_shape",
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


def tensor_shape(adapter: AdapterFile, key: str) -> tuple[int, ...]:
    """A tensor's shape, without reading it."""
    if adapter.torch_tensors is not None:
        return tuple(adapter.torch_tensors[key].shape)
    return adapter.tensors[key].shape


def _widen_into(adapter: AdapterFile, key: str, out: NDArray[np.float64]) -> None:
    if adapter.torch_tensors is not None:
        out[...] = adapter.torch_tensors[key]
    else:
        widen_into(adapter.data, adapter.offset, adapter.tensors[key], out)


@dataclass(frozen=True)
class Stacked:
    """One module of several adapters, factors side by side: B = [B_1 ... B_k] (out x sum
    r) and A = [A_1; ...; A_k], read once, and every product B_i^T B_j and A_i A_j^T from one
    Gram matrix each (one pass over each factor, whatever the number of products)."""

    modules: tuple[LoraModule, ...]
    gram_b: NDArray[np.float64]
    blocks: tuple[slice, ...]

    def cross_b(self, i: int, j: int) -> NDArray[np.float64]:
        """B_i^T B_j."""
        return self.gram_b[self.blocks[i], self.blocks[j]]


def read_stacked(
    adapters: tuple[AdapterFile, ...], module: str, keys: tuple[dict[str, str], ...]
) -> Stacked:
    """`module` of each adapter, stacked (see Stacked); the problems of `read_module`, and
    different (out, in) shapes across the adapters, are AdapterErrors."""
    shapes = []
    for adapter, names in zip(adapters, keys, strict=True):
        a, b = tensor_shape(adapter, names["A"]), tensor_shape(adapter, names["B"])
        if len(a) != 2 or len(b) != 2 or a[0] != b[1]:
            raise AdapterError(
                f"module `{module}` has lora_A {a} and lora_B {b}, which do not multiply",
                adapter.label,
                names["A"],
            )
        shapes.append((b[0], a[1], a[0]))
    if len({(out, inp) for out, inp, _ in shapes}) != 1:
        raise AdapterError(
            f"module `{module}` has different shapes (out, in) in the three adapters: "
            f"{sorted({(out, inp) for out, inp, _ in shapes})}"
        )
    out, inp = shapes[0][:2]
    ends = np.cumsum([0] + [rank for _, _, rank in shapes])
    blocks = tuple(slice(int(lo), int(hi)) for lo, hi in zip(ends[:-1], ends[1:], strict=True))
    b_all, a_all = np.empty((out, int(ends[-1]))), np.empty((int(ends[-1]), inp))
    for adapter, names, block in zip(adapters, keys, blocks, strict=True):
        _widen_into(adapter, names["B"], b_all[:, block])
        _widen_into(adapter, names["A"], a_all[block])
    gram_b, gram_a = b_all.T @ b_all, a_all @ a_all.T
    modules = tuple(
        _module(
            adapter,
            module,
            names,
            a_all[block],
            b_all[:, block],
            gram_a[block, block],
            gram_b[block, block],
        )
        for adapter, names, block in zip(adapters, keys, blocks, strict=True)
    )
    return Stacked(modules, gram_b, blocks)


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
    return _module(adapter, module, keys, a, b, a @ a.T, b.T @ b)


def _module(
    adapter: AdapterFile,
    module: str,
    keys: dict[str, str],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    gram_a: NDArray[np.float64],
    gram_b: NDArray[np.float64],
) -> LoraModule:
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
