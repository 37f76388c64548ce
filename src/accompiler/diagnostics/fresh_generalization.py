"""Diagnostic (b), fresh semantic generalisation: the reduction survives fresh subjects."""

from __future__ import annotations

from typing import Any

from ..claim.model import Claim
from .context import RunContext, interval_json, upper_below_zero
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
        "reason": "",
    }
    if fresh is None:
        return section | {"reason": "the claim declares no fresh-subject records"}
    if not heldout.installed:
        return section | {"reason": heldout.not_installed_reason()}
    if not fresh.installed:
        return section | {"reason": fresh.not_installed_reason()}
    section["installed_gap"] = interval_json(fresh, "installed_gap")
    section["delta_gap"] = interval_json(fresh, "delta_gap")
    passed, reason = upper_below_zero(fresh, "delta_gap")
    reference = heldout.interval("delta_gap").estimate
    if reference >= 0:
        retention = None
        passed, reason = (
            False,
            (
                f"retention is undefined: the held-out delta_gap is "
                f"{reference:+.3f}, not a reduction"
            ),
        )
    else:
        retention = fresh.interval("delta_gap").estimate / reference
        if passed and retention < tau:
            passed, reason = False, f"retention {retention:.3f} is below tau_fresh {tau}"
    return section | {
        "status": "pass" if passed else "fail",
        "retention": retention,
        "reason": reason,
    }


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
