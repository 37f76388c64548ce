"""Diagnostic (a), statistical reliability: the held-out delta_gap's upper bound is below 0."""

from __future__ import annotations

from typing import Any

from ..claim.model import Claim
from .context import IntervalJson, RunContext, installed, not_installed_reason, upper_below_zero
from .registry import CardDocument, Diagnostic, Implied, Section, dataset_name, recorded

GATE_RULE = "delta_deploy.ci_low >= -max_deploy_cost"


def run(context: RunContext) -> dict[str, Any]:
    heldout = context.datasets["heldout"]
    numbers = {
        "delta_gap": heldout.reported("delta_gap"),
        "delta_deploy": heldout.reported("delta_deploy"),
    }
    judged = judge(
        numbers,
        heldout.reported("installed_gap"),
        context.claim.settings.max_deploy_cost,
        heldout.name,
        heldout.reason,
    )
    return {
        "status": judged["status"],
        **numbers,
        "deploy_cost_gate": judged["deploy_cost_gate"],
        "reason": judged["reason"],
    }


def judge(
    numbers: Section,
    installed_gap: IntervalJson | None,
    max_deploy_cost: float | None,
    dataset: str,
    missing: str = "",
) -> dict[str, Any]:
    """(a)'s status, deploy-cost gate and reason from the held-out numbers: not evaluable
    unless the gap is installed; pass iff the upper bound of delta_gap is below 0 and the
    deploy-cost gate (when the spec sets one) passes."""
    if not installed(installed_gap) or numbers["delta_gap"] is None:
        reason = not_installed_reason(dataset, installed_gap, missing)
        return {"status": "not_evaluable", "deploy_cost_gate": None, "reason": reason}
    passed, reason = upper_below_zero(numbers["delta_gap"], "delta_gap", dataset)
    gate = deploy_cost_gate(numbers["delta_deploy"], max_deploy_cost)
    if passed and gate is not None and not gate["pass"]:
        passed, reason = False, gate["reason"]
    return {"status": "pass" if passed else "fail", "deploy_cost_gate": gate, "reason": reason}


def deploy_cost_gate(
    delta_deploy: IntervalJson | None, limit: float | None
) -> dict[str, Any] | None:
    if limit is None or delta_deploy is None:
        return None
    low = delta_deploy["ci_low"]
    passed = low >= -limit
    reason = (
        ""
        if passed
        else (
            f"the deployment-accuracy cost may reach {-low:.3f} (lower bound "
            f"of delta_deploy), above max_deploy_cost {limit}"
        )
    )
    return {"max_deploy_cost": limit, "rule": GATE_RULE, "pass": passed, "reason": reason}


def implied(section: Section, card: CardDocument) -> list[Implied]:
    numbers = recorded(card, "heldout", "delta_gap", "delta_deploy")
    found = [
        Implied((name,), value, "(a) reports the held-out data set's interval")
        for name, value in numbers.items()
    ]
    limit = card["settings"]["thresholds"]["max_deploy_cost"]
    gap = card["precondition"]["installed_gap"]
    judged = judge(section | numbers, gap, limit, dataset_name(card, "heldout"))
    gate = judged["deploy_cost_gate"]
    gate_rule = f"the deploy-cost gate: {GATE_RULE}, when settings.thresholds sets the limit"
    gates = (
        [Implied(("deploy_cost_gate",), None, gate_rule)]
        if gate is None
        else [
            Implied(("deploy_cost_gate", key), gate[key], gate_rule)
            for key in ("max_deploy_cost", "rule", "pass")
        ]
    )
    status_rule = (
        "(a) is not_evaluable unless the gap is installed (precondition); else pass iff the "
        "upper bound of delta_gap is below 0 and the deploy-cost gate, if set, passes"
    )
    return found + gates + [Implied(("status",), judged["status"], status_rule)]


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
    implied=implied,
)
