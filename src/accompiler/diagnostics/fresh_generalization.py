"""Diagnostic (b), fresh semantic generalisation: the reduction survives fresh subjects."""

from __future__ import annotations

from typing import Any

from ..claim.model import Claim
from .context import DataSetResult, RunContext, reported, upper_below_zero
from .registry import Diagnostic


def run(context: RunContext) -> dict[str, Any]:
    tau = context.claim.settings.tau_fresh
    heldout = context.datasets["heldout"]
    fresh = context.datasets.get("fresh")
    section: dict[str, Any] = {
        "status": "not_evaluable",
        "delta_gap": None,
        "retention": None,
        "tau_fresh": tau,
        "subjects_heldout": sorted(heldout.subjects),
        "subjects_fresh": sorted(fresh.subjects) if fresh else [],
        "installed_gap": None,
        "delta_deploy": None,
        "reason": "",
    }
    if fresh is None:
        return section | {"reason": "the claim declares no fresh-subject records"}
    section |= reported(fresh, "delta_gap", "installed_gap", "delta_deploy")
    reason = _not_evaluable(heldout, fresh)
    if reason:
        return section | {"reason": reason}
    passed, reason = upper_below_zero(fresh, "delta_gap")
    retention = fresh.interval("delta_gap").estimate / heldout.interval("delta_gap").estimate
    if passed and retention < tau:
        passed, reason = False, f"retention {retention:.3f} is below tau_fresh {tau}"
    return section | {
        "status": "pass" if passed else "fail",
        "retention": retention,
        "reason": reason,
    }


def _not_evaluable(heldout: DataSetResult, fresh: DataSetResult) -> str:
    """Why (b) cannot be judged: a gap not installed on either set, or no held-out reduction
    to generalise (retention is defined only when the held-out reduction is established)."""
    if not heldout.installed:
        return heldout.not_installed_reason()
    if not fresh.installed:
        return fresh.not_installed_reason()
    established, why = upper_below_zero(heldout, "delta_gap")
    if not established:
        return f"the held-out reduction is not established ({why}): nothing to generalise"
    return ""


def _reads(_claim: Claim) -> tuple[str, ...]:
    return ("records.heldout", "records.fresh")


def _unavailable(claim: Claim) -> str:
    return "" if claim.fresh else "the claim declares no fresh-subject records"


DIAGNOSTIC = Diagnostic(
    "fresh_generalization",
    "b",
    "fresh generalisation",
    ("delta_gap_fresh", "retention"),
    _reads,
    _unavailable,
    run,
)
