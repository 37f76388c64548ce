"""Diagnostic (c), mechanism alignment: does the adapters' signature match the claimed class?

It prepares its own evidence (read.py: the three adapters, and the base and aligned weights
for SafeLoRA's statistic) before any diagnostic runs, so a bad adapter is an input error;
evidence.py holds what that step returns."""

from __future__ import annotations

from typing import Any

from ...claim.model import Claim
from ...problems import Problem
from ...stats.energy import ModuleEnergy, classify
from ..context import RunContext
from ..registry import Diagnostic, InputReader, Section
from .evidence import MechanismEvidence

NO_ADAPTERS = "the claim declares no adapters"


def prepare(claim: Claim, read: InputReader) -> tuple[MechanismEvidence | None, list[Problem]]:
    if not claim.adapters:
        return None, []
    # numpy and the adapter readers load only for claims that have adapters.
    from .read import read_evidence

    return read_evidence(claim, read)


def run(context: RunContext) -> Section:
    defense = context.claim.defense
    relabel = defense.relabel
    section: Section = {
        "status": "not_evaluable",
        "claimed": defense.mechanism,
        "measured": None,
        "alpha_t": None,
        "alpha_a": None,
        "rho_at": None,
        "rho_at_threshold": context.claim.settings.rho_at,
        "modules": 0,
        "reason": "",
        "relabel": (
            {"to": relabel.to, "because": relabel.because, "status": "not_evaluable"}
            if relabel
            else None
        ),
        "coverage": None,
        "per_module": [],
        "safelora": None,
    }
    evidence = context.prepared.get("mechanism")
    if not isinstance(evidence, MechanismEvidence):
        return section | {"reason": NO_ADAPTERS}
    signature = classify(list(evidence.modules), context.claim.settings.rho_at)
    section |= {
        "alpha_t": signature.alpha_t,
        "alpha_a": signature.alpha_a,
        "rho_at": signature.rho_at,
        "measured": signature.measured,
        "modules": len(evidence.modules),
        "coverage": evidence.coverage_json(),
        "per_module": per_module(evidence.modules),
        "safelora": evidence.safelora.to_json() if evidence.safelora else None,
    }
    if signature.measured is None:
        return section | {"reason": signature.reason}
    strict = signature.measured == defense.mechanism
    reason = signature.reason
    if not strict:
        reason = (
            f"the adapters sign as {signature.measured} (rho_AT "
            f"{_fmt(signature.rho_at)}, alpha_T {_fmt(signature.alpha_t)}), "
            f"not {defense.mechanism} as claimed"
        )
    section |= {"status": "pass" if strict else "fail", "reason": reason}
    if relabel is not None:
        section["relabel"]["status"] = "pass" if signature.measured == relabel.to else "fail"
    return section


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def per_module(modules: tuple[ModuleEnergy, ...]) -> list[dict[str, Any]]:
    """Each module's energies and its share of the undefended energy inside the subspace."""
    total_in = sum(m.in_u for m in modules) or 1.0
    return [
        {
            "module": m.name,
            "reference_rank": m.reference_rank,
            "energy_in_u": m.in_u,
            "energy_out_u": m.out_u,
            "energy_in_d": m.in_d,
            "energy_out_d": m.out_d,
            "share_of_attack_energy": m.in_u / total_in,
        }
        for m in modules
    ]


def _reads(claim: Claim) -> tuple[str, ...]:
    return tuple(f"adapter.{a.role}" for a in claim.adapters)


def _unavailable(claim: Claim) -> str:
    return "" if claim.adapters else NO_ADAPTERS


def _permissive(section: Section) -> str:
    relabel = section.get("relabel")
    return str(relabel["status"]) if relabel else str(section["status"])


def _warnings(section: Section) -> list[str]:
    missing = (section.get("coverage") or {}).get("not_in_reference")
    if not missing:
        return []
    return [
        f"the reference adapter does not cover {len(missing)} adapted module(s); the "
        "signature sums over the covered ones"
    ]


DIAGNOSTIC = Diagnostic(
    "mechanism",
    "c",
    "mechanism",
    ("alpha_t", "alpha_a", "rho_at", "measured_class"),
    _reads,
    _unavailable,
    run,
    prepare=prepare,
    permissive=_permissive,
    warnings=_warnings,
)
