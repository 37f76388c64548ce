"""What the mechanism diagnostic's preparation returns: module energies and SafeLoRA's view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...stats.energy import ModuleEnergy


@dataclass(frozen=True)
class SafeLoraModule:
    """SafeLoRA's statistic on one module of the undefended adapter."""

    module: str
    cosine: float | None
    projected: bool


@dataclass(frozen=True)
class SafeLoraReport:
    """What SafeLoRA itself would do to the undefended adapter, module by module."""

    threshold: float
    modules: tuple[SafeLoraModule, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "rule": "project B -> C B where cos(C B A, B A) <= threshold",
            "projected": sum(m.projected for m in self.modules),
            "modules": [vars(m) for m in self.modules],
        }


@dataclass(frozen=True)
class MechanismEvidence:
    """The adapters' per-module energies over the modules the reference covers."""

    modules: tuple[ModuleEnergy, ...]
    not_in_reference: tuple[str, ...]
    reference_only: tuple[str, ...]
    safelora: SafeLoraReport | None = None

    def coverage_json(self) -> dict[str, list[str]]:
        return {
            "not_in_reference": list(self.not_in_reference),
            "reference_only": list(self.reference_only),
        }
