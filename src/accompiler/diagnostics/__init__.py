"""The protocol's diagnostics, one registry entry each, by their card field names. Plans,
verdicts, counts and every renderer take their list from DIAGNOSTICS."""

from __future__ import annotations

from . import fresh_generalization, mechanism, reliability, transfer
from .context import DataSetResult, RunContext
from .registry import Diagnostic

DIAGNOSTICS: dict[str, Diagnostic] = {
    d.name: d
    for d in (
        reliability.DIAGNOSTIC,
        fresh_generalization.DIAGNOSTIC,
        mechanism.DIAGNOSTIC,
        transfer.DIAGNOSTIC,
    )
}

__all__ = ["DIAGNOSTICS", "DataSetResult", "Diagnostic", "RunContext"]
