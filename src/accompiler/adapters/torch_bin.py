"""Legacy adapter_model.bin -> float64 arrays, through torch.load(weights_only=True) only."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import AdapterError

F64_EPS = float(np.finfo(np.float64).eps)


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
        raise AdapterError("a .bin adapter must hold a dictionary of tensors", label)
    for key, value in state.items():
        fault = _tensor_fault(torch, value)
        if fault:
            raise AdapterError(f"tensor `{key}` is {fault}", label, str(key))
    return {
        str(k): (v.detach().to(torch.float64).numpy(), float(torch.finfo(v.dtype).eps))
        for k, v in state.items()
    }


def _tensor_fault(torch: Any, value: Any) -> str:
    """'' for a dense, strided, real floating-point tensor on the CPU; else what it is."""
    if value.layout != torch.strided:
        return f"not dense ({value.layout} layout); LoRA factors are dense tensors"
    if value.is_quantized:
        return "quantized; LoRA factors are floating-point tensors"
    if value.device.type != "cpu":
        return f"on the {value.device.type} device, not the CPU"
    if not value.is_floating_point():
        return f"of dtype {value.dtype}; LoRA factors are real floating-point tensors"
    return ""
