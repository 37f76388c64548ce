"""Diagnostic (d), cross-task transfer: every declared target's delta_gap bound is below 0."""

from __future__ import annotations

from typing import Any

from ..claim.model import Claim
from .context import RunContext, reported, upper_below_zero
from .registry import Diagnostic, Section


def _target(context: RunContext, key: str) -> dict[str, Any]:
    result = context.datasets[key]
    numbers = reported(result, "delta_gap", "installed_gap", "delta_deploy")
    if not result.installed:
        status, reason = "not_evaluable", result.not_installed_reason()
    else:
        passed, reason = upper_below_zero(result, "delta_gap")
        status = "pass" if passed else "fail"
    return {"name": result.name, "status": status, **numbers, "reason": reason}


def run(context: RunContext) -> dict[str, Any]:
    keys = [k for k in context.datasets if k.startswith("transfer:")]
    targets = [_target(context, k) for k in keys]
    if not targets:
        reason = "the claim declares no transfer target"
        return {
            "status": "not_evaluable",
            "mode": "strict",
            "permissive_status": "not_evaluable",
            "targets": [],
            "reason": reason,
        }
    statuses = [t["status"] for t in targets]
    strict = (
        "pass"
        if all(s == "pass" for s in statuses)
        else ("not_evaluable" if all(s == "not_evaluable" for s in statuses) else "fail")
    )
    permissive = "pass" if "pass" in statuses else strict
    failing = [t for t in targets if t["status"] != "pass"]
    reason = "; ".join(t["reason"] for t in failing)
    return {
        "status": strict,
        "mode": "strict",
        "permissive_status": permissive,
        "targets": targets,
        "reason": reason,
    }


def _reads(claim: Claim) -> tuple[str, ...]:
    return tuple(f"records.{t.key}" for t in claim.transfer)


def _unavailable(claim: Claim) -> str:
    return "" if claim.transfer else "the claim declares no transfer target"


def _permissive(section: Section) -> str:
    return str(section["permissive_status"])


DIAGNOSTIC = Diagnostic(
    "transfer",
    "d",
    "transfer",
    ("delta_gap per target",),
    _reads,
    _unavailable,
    run,
    permissive=_permissive,
)
