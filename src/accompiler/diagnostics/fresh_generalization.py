"""Diagnostic (b), fresh semantic generalisation: the reduction survives fresh subjects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..canonical import round_numbers
from ..claim.model import Claim
from .context import IntervalJson, RunContext, installed, not_installed_reason, upper_below_zero
from .registry import CardDocument, Diagnostic, Implied, Section, agreeing, dataset_name, recorded

NO_FRESH = "the claim declares no fresh-subject records"
NUMBERS = ("delta_gap", "installed_gap", "delta_deploy")


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
        return section | {"reason": NO_FRESH}
    section |= {name: fresh.reported(name) for name in NUMBERS}
    held = Held(
        heldout.name,
        heldout.reported("installed_gap"),
        heldout.reported("delta_gap"),
        heldout.reason,
    )

    def ratio() -> float:
        return fresh.interval("delta_gap").estimate / heldout.interval("delta_gap").estimate

    return section | judge(section, held, tau, fresh.name, fresh.reason, ratio)


@dataclass(frozen=True)
class Held:
    """What (b) reads of the held-out data set: its name, installed gap and delta_gap (and
    why it has none, when it could not be bootstrapped)."""

    name: str
    gap: IntervalJson | None
    delta: IntervalJson | None
    missing: str = ""


def judge(
    numbers: Section,
    held: Held,
    tau: float,
    dataset: str,
    missing: str = "",
    ratio: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """(b)'s status, retention and reason: not evaluable unless the gap is installed on both
    data sets and the held-out reduction is established (the upper bound of its delta_gap
    below 0); then retention = fresh / held-out delta_gap estimates (`ratio`, by default of
    the estimates in `numbers` and `held`), and pass iff the fresh upper bound is below 0
    and retention >= tau_fresh, decided on retention as the card records it."""
    reason = _not_evaluable(numbers, held, dataset, missing)
    if reason:
        return {"status": "not_evaluable", "retention": None, "reason": reason}
    assert held.delta is not None
    passed, reason = upper_below_zero(numbers["delta_gap"], "delta_gap", dataset)
    held_estimate = held.delta["estimate"]
    raw = ratio() if ratio else numbers["delta_gap"]["estimate"] / held_estimate
    retention = round_numbers(raw)
    if passed and retention < tau:
        passed, reason = False, f"retention {retention:.3f} is below tau_fresh {tau}"
    return {"status": "pass" if passed else "fail", "retention": retention, "reason": reason}


def _not_evaluable(numbers: Section, held: Held, dataset: str, missing: str) -> str:
    """Why (b) cannot be judged: a gap not installed on either set, or no held-out reduction
    to generalise (retention is defined only when the held-out reduction is established)."""
    if not installed(held.gap) or held.delta is None:
        return not_installed_reason(held.name, held.gap, held.missing)
    if not installed(numbers["installed_gap"]) or numbers["delta_gap"] is None:
        return not_installed_reason(dataset, numbers["installed_gap"], missing or NO_FRESH)
    established, why = upper_below_zero(held.delta, "delta_gap", held.name)
    if not established:
        return f"the held-out reduction is not established ({why}): nothing to generalise"
    if held.delta["estimate"] == 0:  # only a forged card: its interval lies below 0
        return "the held-out delta_gap estimate is 0: retention is undefined"
    return ""


def implied(section: Section, card: CardDocument) -> list[Implied]:
    numbers = recorded(card, "fresh", *NUMBERS)
    subjects = {d["key"]: d["subjects"] for d in card["datasets"]}
    held = Held(
        dataset_name(card, "heldout"),
        card["precondition"]["installed_gap"],
        card["diagnostics"]["reliability"]["delta_gap"],
    )
    tau = card["settings"]["thresholds"]["tau_fresh"]
    view = section | numbers

    def ratio() -> float:
        derived = view["delta_gap"]["estimate"] / held.delta["estimate"]  # type: ignore[index]
        return agreeing(section["retention"], derived)

    judged = judge(view, held, tau, dataset_name(card, "fresh"), ratio=ratio)
    return [
        *(
            Implied((n,), v, "(b) reports the fresh data set's interval")
            for n, v in numbers.items()
        ),
        Implied(("tau_fresh",), tau, "(b) reads settings.thresholds.tau_fresh"),
        Implied(("subjects_heldout",), subjects.get("heldout", []), "the held-out subjects"),
        Implied(("subjects_fresh",), subjects.get("fresh", []), "the fresh data set's subjects"),
        Implied(("retention",), judged["retention"], RETENTION_RULE),
        Implied(("status",), judged["status"], STATUS_RULE),
    ]


RETENTION_RULE = (
    "retention = fresh delta_gap estimate / held-out delta_gap estimate, defined (else null) "
    "only when the gap is installed on both data sets and the held-out reduction is "
    "established (its upper bound below 0)"
)
STATUS_RULE = (
    "(b) is not_evaluable when retention is undefined; else pass iff the fresh delta_gap's "
    "upper bound is below 0 and retention >= tau_fresh"
)


def _reads(_claim: Claim) -> tuple[str, ...]:
    return ("records.heldout", "records.fresh")


def _unavailable(claim: Claim) -> str:
    return "" if claim.fresh else NO_FRESH


DIAGNOSTIC = Diagnostic(
    "fresh_generalization",
    "b",
    "fresh generalisation",
    ("delta_gap_fresh", "retention"),
    _reads,
    _unavailable,
    run,
    implied=implied,
)
