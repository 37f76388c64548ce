"""Diagnostic (d), cross-task transfer: every declared target's delta_gap bound is below 0."""

from __future__ import annotations

from typing import Any

from ..claim.model import Claim
from .context import IntervalJson, RunContext, installed, not_installed_reason, upper_below_zero
from .registry import CardDocument, Diagnostic, Implied, Section, recorded

NO_TARGET = "the claim declares no transfer target"
NUMBERS = ("delta_gap", "installed_gap", "delta_deploy")


def _target(context: RunContext, key: str) -> dict[str, Any]:
    result = context.datasets[key]
    numbers = {name: result.reported(name) for name in NUMBERS}
    status, reason = judge_target(numbers, result.name, result.reason)
    return {"name": result.name, "status": status, **numbers, "reason": reason}


def judge_target(numbers: Section, name: str, missing: str = "") -> tuple[str, str]:
    """A target's status: not evaluable unless its own gap is installed; pass iff the upper
    bound of its delta_gap is below 0."""
    gap: IntervalJson | None = numbers["installed_gap"]
    if not installed(gap) or numbers["delta_gap"] is None:
        return "not_evaluable", not_installed_reason(name, gap, missing)
    passed, reason = upper_below_zero(numbers["delta_gap"], "delta_gap", name)
    return "pass" if passed else "fail", reason


def aggregate(statuses: list[str]) -> tuple[str, str]:
    """(strict, permissive) status of (d) from its targets': strict passes when all pass
    (not evaluable when none could be evaluated, or none is declared), permissive when any
    passes."""
    if not statuses:
        return "not_evaluable", "not_evaluable"
    strict = (
        "pass"
        if all(s == "pass" for s in statuses)
        else ("not_evaluable" if all(s == "not_evaluable" for s in statuses) else "fail")
    )
    return strict, "pass" if "pass" in statuses else strict


def run(context: RunContext) -> dict[str, Any]:
    keys = [k for k in context.datasets if k.startswith("transfer:")]
    targets = [_target(context, k) for k in keys]
    strict, permissive = aggregate([t["status"] for t in targets])
    failing = [t for t in targets if t["status"] != "pass"]
    return {
        "status": strict,
        "mode": "strict",
        "permissive_status": permissive,
        "targets": targets,
        "reason": "; ".join(t["reason"] for t in failing) if targets else NO_TARGET,
    }


def implied(section: Section, card: CardDocument) -> list[Implied]:
    names = [d["name"] for d in card["datasets"] if d["key"].startswith("transfer:")]
    found: list[Implied] = [
        Implied(("targets",), names, "(d) has one target per transfer data set", "name")
    ]
    targets = section["targets"]
    if [t["name"] for t in targets] != names:
        return found
    statuses = []
    for index, target in enumerate(targets):
        numbers = recorded(card, f"transfer:{target['name']}", *NUMBERS)
        found += [
            Implied(("targets", index, n), v, "a target reports its data set's interval")
            for n, v in numbers.items()
        ]
        status, _ = judge_target(target | numbers, target["name"])
        statuses.append(status)
        found.append(Implied(("targets", index, "status"), status, TARGET_RULE))
    strict, permissive = aggregate(statuses)
    return found + [
        Implied(("status",), strict, STRICT_RULE),
        Implied(("permissive_status",), permissive, PERMISSIVE_RULE),
    ]


TARGET_RULE = (
    "a target is not_evaluable unless its gap is installed; else pass iff the upper bound "
    "of its delta_gap is below 0"
)
STRICT_RULE = (
    "(d) strict: pass when every target passes, not_evaluable when none could be evaluated "
    "(or none is declared), else fail"
)
PERMISSIVE_RULE = "(d) permissive: pass when any target passes, else as strict"


def _reads(claim: Claim) -> tuple[str, ...]:
    return tuple(f"records.{t.key}" for t in claim.transfer)


def _unavailable(claim: Claim) -> str:
    return "" if claim.transfer else NO_TARGET


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
    implied=implied,
)
