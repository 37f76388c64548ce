"""The four diagnostics of the protocol, by their card field names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import fresh_generalization, mechanism, reliability, transfer
from .context import RunContext

DIAGNOSTICS: dict[str, Callable[[RunContext], dict[str, Any]]] = {
    "reliability": reliability.run,
    "fresh_generalization": fresh_generalization.run,
    "mechanism": mechanism.run,
    "transfer": transfer.run,
}
