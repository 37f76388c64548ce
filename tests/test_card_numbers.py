"""Card 1.1 hides nothing: every estimate it computed is reported (marked not gated where a
gate could not read it), each arm's gap, the four accuracy cells and Δdeploy of every data
set, all checked against a direct computation; retention follows PROTOCOL's rule; 1.0 cards
migrate."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from accompiler.card import CARD_VERSION, Card, parse_card
from conftest import GOLDEN, SPECS, validation_errors
from test_records import jsonl, run_spec

EXTRA = '\n  fresh {\n    file "fresh.jsonl"\n  }\n  transfer "t" {\n    file "t.jsonl"\n  }'


def gap_rows(seed: int, wrong_u: float, wrong_d: float, subject: str, n: int = 30) -> list:
    """Deploy items are right; eval items are wrong with the arm's probability (paired)."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n):
        for t in range(3):
            draw = rng.random()
            for arm, wrong in (("undefended", wrong_u), ("defended", wrong_d)):
                for condition in ("deploy", "eval"):
                    correct = 1.0 if condition == "deploy" else float(draw >= wrong)
                    rows.append(
                        {
                            "question_id": f"{subject}{q}",
                            "template_id": f"t{t}",
                            "subject": f"{subject}{q % 3}",
                            "condition": condition,
                            "arm": arm,
                            "correct": correct,
                        }
                    )
    return rows


def direct(rows: list) -> dict[str, float]:
    cells: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        cells.setdefault((r["arm"], r["condition"]), []).append(r["correct"])
    acc = {k: sum(v) / len(v) for k, v in cells.items()}
    gap_u = acc["undefended", "deploy"] - acc["undefended", "eval"]
    gap_d = acc["defended", "deploy"] - acc["defended", "eval"]
    return {
        "installed_gap": gap_u,
        "defended_gap": gap_d,
        "delta_gap": gap_d - gap_u,
        "delta_deploy": acc["defended", "deploy"] - acc["undefended", "deploy"],
        **{f"accuracy.{a}.{c}": v for (a, c), v in acc.items()},
    }


def card_of(tmp_path, heldout: list, fresh: list, target: list) -> dict:
    files = {"heldout.jsonl": jsonl(heldout), "fresh.jsonl": jsonl(fresh), "t.jsonl": jsonl(target)}
    return run_spec(tmp_path, files, extra=EXTRA)


def test_retention_needs_an_established_held_out_reduction(tmp_path) -> None:
    heldout = gap_rows(1, 0.8, 0.8, "h")  # an installed gap the defense does not reduce
    fresh = gap_rows(2, 0.8, 0.1, "f")
    card = card_of(tmp_path, heldout, fresh, gap_rows(3, 0.8, 0.1, "x"))
    d = card["diagnostics"]
    assert d["reliability"]["status"] == "fail"
    assert d["reliability"]["delta_gap"]["ci_high"] >= 0
    b = d["fresh_generalization"]
    assert b["status"] == "not_evaluable" and b["retention"] is None
    assert b["reason"].startswith("the held-out reduction is not established (the upper 95%")
    assert b["delta_gap"]["estimate"] == pytest.approx(direct(fresh)["delta_gap"])
    assert b["delta_gap"]["ci_high"] < 0  # reported, though nothing gates it
    assert card["verdict"]["strict"]["not_evaluable"] == ["fresh_generalization", "mechanism"]
    assert "(not gated)" in Card(card).render("text")


def test_retention_is_fresh_over_held_out_when_established(tmp_path) -> None:
    heldout, fresh = gap_rows(1, 0.8, 0.1, "h"), gap_rows(2, 0.8, 0.5, "f")
    card = card_of(tmp_path, heldout, fresh, gap_rows(3, 0.8, 0.1, "x"))
    b = card["diagnostics"]["fresh_generalization"]
    expected = direct(fresh)["delta_gap"] / direct(heldout)["delta_gap"]
    assert b["retention"] == pytest.approx(expected, rel=1e-11)
    assert b["status"] == ("pass" if expected >= 0.5 and b["delta_gap"]["ci_high"] < 0 else "fail")


def test_no_installed_gap_still_reports_every_number(tmp_path) -> None:
    flat = gap_rows(1, 0.0, 0.0, "h")  # deploy and eval both right: no gap at all
    card = card_of(tmp_path, flat, gap_rows(2, 0.0, 0.0, "f"), gap_rows(3, 0.0, 0.0, "x"))
    d = card["diagnostics"]
    assert d["reliability"]["status"] == "not_evaluable"
    assert d["reliability"]["delta_gap"]["estimate"] == 0.0
    assert d["reliability"]["delta_deploy"] is not None
    assert d["fresh_generalization"]["delta_gap"] is not None
    target = d["transfer"]["targets"][0]
    assert target["status"] == "not_evaluable" and target["delta_deploy"] is not None
    text = Card(card).render("text")
    assert "Δgap +0.000 [+0.000, +0.000] (not gated)" in text
    assert validation_errors(card) == []


def test_every_data_set_reports_each_arm_and_cell_against_the_records(tmp_path) -> None:
    rows = {
        "heldout": gap_rows(1, 0.8, 0.2, "h"),
        "fresh": gap_rows(2, 0.7, 0.3, "f"),
        "transfer:t": gap_rows(3, 0.6, 0.6, "x"),
    }
    card = card_of(tmp_path, rows["heldout"], rows["fresh"], rows["transfer:t"])
    for data in card["datasets"]:
        expected = direct(rows[data["key"]])
        for name in ("installed_gap", "defended_gap", "delta_gap", "delta_deploy"):
            interval = data["intervals"][name]
            assert interval["estimate"] == pytest.approx(expected[name], abs=1e-12), name
            assert interval["ci_low"] <= interval["estimate"] <= interval["ci_high"]
        for arm, by_condition in data["accuracy_intervals"].items():
            for condition, interval in by_condition.items():
                value = expected[f"accuracy.{arm}.{condition}"]
                assert interval["estimate"] == pytest.approx(value, abs=1e-12)
                assert data["accuracy"][arm][condition] == interval["estimate"]
    fresh = card["diagnostics"]["fresh_generalization"]
    assert fresh["delta_deploy"] == card["datasets"][1]["intervals"]["delta_deploy"]
    target = card["diagnostics"]["transfer"]["targets"][0]
    assert target["delta_deploy"] == card["datasets"][2]["intervals"]["delta_deploy"]


@pytest.mark.parametrize("name", ["oracle", "safelora_relabel"])
def test_a_1_0_card_migrates_to_the_current_version(name: str) -> None:
    old = (GOLDEN / "card-1.0" / f"{name}.card.json").read_bytes()
    assert json.loads(old)["card_version"] == "1"
    card, problems = parse_card(old, f"{name}.card.json")
    assert card is not None and problems == []
    assert card["card_version"] == CARD_VERSION
    current = json.loads((GOLDEN / f"{name}.card.json").read_text())
    for data in card["datasets"]:
        assert data["intervals"] is None and data["accuracy_intervals"] is None
    assert card["verdict"] == current["verdict"]
    assert card["diagnostics"]["fresh_generalization"]["delta_deploy"] is None
    assert list(card["datasets"][0]) == list(current["datasets"][0])


def test_migration_applies_the_retention_rule() -> None:
    old = json.loads((GOLDEN / "card-1.0" / "safelora_relabel.card.json").read_text())
    recoded = copy.deepcopy(old)
    recoded["diagnostics"]["reliability"]["delta_gap"]["ci_high"] = 0.01
    # consistent with itself: the bootstrap bound now sits above 0, the t bound below
    recoded["diagnostics"]["reliability"]["delta_gap"]["cross_check"]["sign_disagreement"] = True
    recoded["diagnostics"]["reliability"]["status"] = "fail"
    card, problems = parse_card(json.dumps(recoded).encode(), "old.json")
    assert card is not None, problems
    fresh = card["diagnostics"]["fresh_generalization"]
    assert (fresh["status"], fresh["retention"]) == ("not_evaluable", None)
    assert "fresh_generalization" in card["verdict"]["strict"]["not_evaluable"]


def test_the_example_cards_are_the_current_version() -> None:
    for path in sorted((SPECS / "example").glob("*.ac")):
        card = json.loads((GOLDEN / f"{path.stem}.card.json").read_text())
        assert card["card_version"] == CARD_VERSION
