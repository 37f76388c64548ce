"""The diagnostic registry: a fifth diagnostic reaches the plan, the verdict, the counts and
the renderers through its one entry, with no edit anywhere else."""

from __future__ import annotations

import pytest

from accompiler import check
from accompiler.canonical import dumps
from accompiler.claim import load_spec
from accompiler.diagnostics import DIAGNOSTICS, Diagnostic, RunContext
from accompiler.diagnostics.context import interval_json
from accompiler.plan import compile_plan, plan_to_json
from accompiler.render.plan import render_plan
from conftest import SPECS

ORACLE = SPECS / "example" / "oracle.ac"


def _toy(passes: bool) -> Diagnostic:
    """(e): the held-out deployment cost, gated at 'no cost at all' when `passes` is False."""

    def run(context: RunContext) -> dict:
        heldout = context.datasets["heldout"]
        bound = heldout.interval("delta_deploy").ci_low
        passed = passes or bound >= 0
        return {
            "status": "pass" if passed else "fail",
            "delta_deploy": interval_json(heldout, "delta_deploy"),
            "reason": "" if passed else f"the lower bound {bound:+.3f} is below 0",
        }

    return Diagnostic(
        "toy",
        "e",
        "toy cost",
        ("delta_deploy",),
        lambda claim: ("records.heldout",),
        lambda claim: "",
        run,
    )


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch):
    def register(passes: bool) -> None:
        monkeypatch.setitem(DIAGNOSTICS, "toy", _toy(passes))

    return register


def test_a_fifth_diagnostic_is_planned(toy) -> None:
    toy(True)
    claim, _ = load_spec(ORACLE)
    plan, _ = compile_plan(claim, ORACLE.parent)
    steps = {s["name"]: s for s in plan_to_json(plan)["steps"]}
    assert steps["toy"]["status"] == "planned"
    assert steps["toy"]["reads"] == ["records.heldout"]
    assert "(e) toy cost" in render_plan(plan_to_json(plan))


def test_a_fifth_diagnostic_counts_in_both_verdicts_and_renders(toy) -> None:
    toy(True)
    card = check(ORACLE)
    assert card["verdict"]["strict"] == {
        "pass": True,
        "passed": 5,
        "failed": [],
        "not_evaluable": [],
    }
    text = card.render("text")
    assert "PASS  (e) toy cost" in text and "strict PASS (5/5 pass)" in text
    assert "estimate -0.007 [-0.042, +0.027]" in text
    assert "| (e) toy cost | **pass** |" in card.render("markdown")


def test_a_failing_fifth_diagnostic_fails_the_card(toy) -> None:
    toy(False)
    card = check(ORACLE)
    assert not card.passes
    assert card["verdict"]["permissive"]["failed"] == ["toy"]
    assert "strict FAIL (4/5 pass)" in card.render("text")
    assert "↳ the lower bound -0.042 is below 0" in card.render("text")


def test_without_the_toy_the_card_is_unchanged() -> None:
    assert "toy" not in DIAGNOSTICS
    assert dumps(check(ORACLE).document) == (
        (SPECS.parent / "tests" / "golden" / "oracle.card.json").read_text()
    )
