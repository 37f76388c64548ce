"""safetensors bytes -> tensor headers and float64 arrays.

safetensors' own numpy loader refuses bf16 and copies every tensor, so the file's documented
layout (8-byte little-endian header length, JSON header, raw little-endian data) is read
here, with every offset checked, and bf16 is widened through its bit pattern.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import AdapterError, TensorInfo

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


def read_tensor(data: bytes, offset: int, info: TensorInfo) -> NDArray[np.float64]:
    """One tensor as float64 (bf16 widened bit-exactly)."""
    raw = np.frombuffer(
        data,
        dtype=_DTYPES[info.dtype],
        count=math.prod(info.shape),
        offset=offset + info.start,
    )
    if info.dtype == "BF16":
        raw = np.left_shift(raw, 16, dtype=np.uint32).view(np.float32)
    widened: NDArray[np.float64] = raw.astype(np.float64).reshape(info.shape)
    return widened


def stored_eps(dtype: str) -> float:
    """Machine epsilon of a stored safetensors dtype."""
    return _EPS[dtype]
