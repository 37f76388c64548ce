"""safetensors bytes -> tensor headers and float64 arrays.

safetensors' own numpy loader refuses bf16 and copies every tensor, so the file's documented
layout (8-byte little-endian header length, JSON header, raw little-endian data) is read
here, and checked at least as strictly as the safetensors library checks it (tested
against it): a UTF-8 JSON object without duplicate keys, NaN or lone surrogates;
`__metadata__` a map of strings; each tensor a known dtype, a shape of non-negative integers
(not booleans) and two data offsets; the tensors' byte ranges, sorted, tile the data
exactly (no overlap, no hole, nothing after the last), each the size its shape and dtype
say. This accard is stricter in three ways: a header of at most 16 MiB (the library allows
100 MB), at most 8 dimensions, and only the floating-point dtypes a LoRA factor or a weight
can have (F64, F32, F16, BF16).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import AdapterError, TensorInfo

MAX_HEADER_BYTES = 16 << 20
MAX_DIMENSIONS = 8
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
_USIZE = 1 << 64


def parse_safetensors_header(data: bytes, label: str) -> tuple[dict[str, TensorInfo], int]:
    """The tensors a safetensors file holds and where its data starts; AdapterError (naming
    `label`, and the tensor when one is at fault) on anything the format does not allow."""
    if len(data) < 8:
        raise AdapterError(
            "not a safetensors file (shorter than its header length, 8 bytes)", label
        )
    length = int.from_bytes(data[:8], "little")
    if length > MAX_HEADER_BYTES:
        raise AdapterError(
            f"the safetensors header length {length} is too large (at most 16 MiB)", label
        )
    if length > len(data) - 8:
        raise AdapterError(f"the safetensors header length {length} exceeds the file", label)
    header, walk = _header_json(data[8 : 8 + length], label)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            _check_metadata(entry, label)
            continue
        tensors[name] = _tensor_info(name, entry, label)
    found = _not_json(header) if walk else ""
    if found:
        raise AdapterError(f"the safetensors header is not valid JSON (it holds {found})", label)
    _check_layout(tensors, len(data) - 8 - length, label)
    return tensors, 8 + length


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"the key `{duplicate}` appears twice")
    return dict(pairs)


class _Constant(float):
    """NaN or Infinity in a header: not JSON. Kept until the end so that a tensor's shape
    or offsets holding one are refused at that tensor."""


def _constant(name: str) -> float:
    return _Constant(name.replace("-Infinity", "-inf").replace("Infinity", "inf"))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _header_json(raw: bytes, label: str) -> tuple[dict[str, Any], bool]:
    constants: list[str] = []

    def constant(name: str) -> float:
        constants.append(name)
        return _constant(name)

    try:
        text = raw.decode("utf-8")
        header = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=constant)
    except UnicodeDecodeError:
        raise AdapterError("the safetensors header is not UTF-8", label) from None
    except RecursionError:
        raise AdapterError("the safetensors header is nested too deeply", label) from None
    except ValueError as error:
        raise AdapterError(f"the safetensors header is not valid JSON ({error})", label) from None
    if not isinstance(header, dict):
        raise AdapterError("the safetensors header is not a JSON object", label)
    # only a NaN or Infinity parsed, or a surrogate escape in the text, needs the walk
    return header, bool(constants) or _SURROGATE_ESCAPE.search(text) is not None


def _not_json(value: Any) -> str:
    """What in a parsed header JSON does not allow ('' if nothing): NaN or Infinity, or a
    lone surrogate escape (Python's json accepts both)."""
    if isinstance(value, _Constant):
        return "NaN or Infinity"
    if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
        return "a lone surrogate escape"
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
        return next((found for found in map(_not_json, items) if found), "")
    if isinstance(value, list):
        return next((found for found in map(_not_json, value) if found), "")
    return ""


def _check_metadata(entry: Any, label: str) -> None:
    if entry is None:
        return
    if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
        raise AdapterError("`__metadata__` is not a map of strings", label, "__metadata__")


def _usize(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _USIZE


def _tensor_info(name: str, entry: Any, label: str) -> TensorInfo:
    def fault(what: str) -> AdapterError:
        return AdapterError(f"tensor `{name}` {what}", label, name)

    if not isinstance(entry, dict):
        raise fault("has no header entry")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _DTYPES:
        raise fault(f"has dtype {dtype!r}; supported: F64, F32, F16, BF16")
    if not (isinstance(shape, list) and all(_usize(d) for d in shape)):
        raise fault(f"has an invalid shape {_short(shape)} (a list of non-negative integers)")
    if len(shape) > MAX_DIMENSIONS:
        raise fault(f"has {len(shape)} dimensions (at most {MAX_DIMENSIONS})")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_usize, offsets))):
        raise fault(f"has invalid data offsets {_short(offsets)} (two non-negative integers)")
    start, end = offsets
    if start > end:
        raise fault(f"has data offsets in reverse order {offsets}")
    if end - start != math.prod(shape) * _DTYPES[dtype].itemsize:
        raise fault(f"has {end - start} bytes of data, not the size of its shape {shape}")
    return TensorInfo(dtype, tuple(shape), start, end)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _check_layout(tensors: dict[str, TensorInfo], body: int, label: str) -> None:
    """The data ranges, sorted, must tile the data exactly, as the library requires."""
    position = 0
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if info.start != position:
            what = "overlaps another tensor" if info.start < position else "leaves a hole before it"
            raise AdapterError(
                f"tensor `{name}`'s data offsets are invalid: it {what} "
                "(safetensors data must be contiguous)",
                label,
                name,
            )
        position = info.end
    if position > body:
        raise AdapterError(
            f"tensor data offsets outside the file (they reach byte {position} of {body}): "
            "the file is truncated",
            label,
        )
    if position != body:
        raise AdapterError(
            f"the tensors cover {position} of the {body} data bytes: the file has trailing "
            "bytes (safetensors data must cover the file exactly)",
            label,
        )


def read_tensor(data: bytes, offset: int, info: TensorInfo) -> NDArray[np.float64]:
    """One tensor as float64 (bf16 widened bit-exactly)."""
    raw = np.frombuffer(
        data,
        dtype=_DTYPES[info.dtype],
        count=math.prod(info.shape),
        offset=offset + info.start,
    )
    if info.dtype == "BF16":
        widened = np.empty(raw.shape, np.uint32)
        np.left_shift(raw, 16, out=widened, dtype=np.uint32)
        return widened.view(np.float32).astype(np.float64).reshape(info.shape)
    return raw.astype(np.float64).reshape(info.shape)


def widen_into(data: bytes, offset: int, info: TensorInfo, out: NDArray[np.float64]) -> None:
    """Write one 2-D tensor, widened to float64, into `out` (a view of its shape): one pass
    over the stored values, no float64 temporary."""
    raw = np.frombuffer(
        data, dtype=_DTYPES[info.dtype], count=math.prod(info.shape), offset=offset + info.start
    ).reshape(info.shape)
    if info.dtype == "BF16":
        bits = np.empty(info.shape, np.uint32)
        np.left_shift(raw, 16, out=bits, dtype=np.uint32)
        out[...] = bits.view(np.float32)
    else:
        out[...] = raw


def stored_eps(dtype: str) -> float:
    """Machine epsilon of a stored safetensors dtype."""
    return _EPS[dtype]
