"""What the adapter readers produce: tensors' places, modules' factors, and their errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


class AdapterError(Exception):
    """An adapter that cannot be read. `file` is the input at fault (as the plan names it,
    '' when the fault lies between adapters), `key` the config key or tensor name, and
    `summary` what is wrong; str() says all three."""

    def __init__(self, summary: str, file: str = "", key: str = "", detail: str = "") -> None:
        super().__init__(f"{file}: {summary}" if file else summary)
        self.summary = summary
        self.file = file
        self.key = key
        self.detail = detail


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
    gram_a: NDArray[np.float64]
    """A A^T (r x r)."""
    gram_b: NDArray[np.float64]
    """B^T B (r x r)."""


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
    config_label: str = ""
    """The adapter_config.json the config came from (problems name it)."""
