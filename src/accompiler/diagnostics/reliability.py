"""Diagnostic (a), statistical reliability: the held-out delta_gap's upper bound is below 0."""

from __future__ import annotations

from typing import Any

from ..claim.model import Claim
from .context import RunContext, reported, upper_below_zero
from .registry import Diagnostic


def run(context: RunContext) -> dict[str, Any]:
    heldout = context.datasets["heldout"]
    numbers = reported(heldout, "delta_gap", "delta_deploy")
    if not heldout.installed:
        return {
            "status": "not_evaluable",
            **numbers,
            "deploy_cost_gate": None,
            "reason": heldout.not_installed_reason(),
        }
    passed, reason = upper_below_zero(heldout, "delta_gap")
    gate = _deploy_cost_gate(context)
    if passed and gate is not None and not gate["pass"]:
        passed, reason = False, gate["reason"]
    return {
        "status": "pass" if passed else "fail",
        **numbers,
        "deploy_cost_gate": gate,
        "reason": reason,
    }


def _deploy_cost_gate(context: RunContext) -> dict[str, Any] | None:
    limit = context.claim.settings.max_deploy_cost
    if limit is None:
        return None
    low = context.datasets["heldout"].interval("delta_deploy").ci_low
    passed = low >= -limit
    reason = (
        ""
        if passed
        else (
            f"the deployment-accuracy cost may reach {-low:.3f} (lower bound "
            f"of delta_deploy), above max_deploy_cost {limit}"
        )
    )
    return {
        "max_deploy_cost": limit,
        "rule": "delta_deploy.ci_low >= -max_deploy_cost",
        "pass": passed,
        "reason": reason,
    }


def _reads(_claim: Claim) -> tuple[str, ...]:
    return ("records.heldout",)


def _always(_claim: Claim) -> str:
    return ""


DIAGNOSTIC = Diagnostic(
    "reliability",
    "a",
    "reliability",
    ("delta_gap", "delta_deploy"),
    _reads,
    _always,
    run,
)
