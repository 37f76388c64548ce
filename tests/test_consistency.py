"""A card is consistent with itself: every card accard writes passes the check by
construction (the builder and the checker call the same rules), whatever its settings and
degenerate cases; a card edited anywhere is refused or read, never a crash; problems
point at the card's line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accompiler.canonical import dumps
from accompiler.card import parse_card
from accompiler.card.consistency import consistency_problems, json_path
from accompiler.card.locate import locate
from conftest import GOLDEN
from test_card_numbers import EXTRA, gap_rows
from test_records import jsonl, run_spec

GOLDEN_CARDS = sorted(GOLDEN.glob("*.card.json")) + sorted((GOLDEN / "card-1.0").glob("*.json"))


@pytest.mark.parametrize("path", GOLDEN_CARDS, ids=lambda p: p.name)
def test_every_golden_card_is_consistent(path: Path) -> None:
    card, problems = parse_card(path.read_bytes(), path.name)
    assert card is not None and problems == []


SETTINGS = [
    "",  # the defaults
    "max_deploy_cost 0.05",  # the deploy-cost gate, failing on a costly defense
    "max_deploy_cost 1",  # the gate, passing
    "tau_fresh 1",  # retention must be complete
    "confidence 0.5\n    resamples 1000\n    seed 9",
    "min_clusters 100",  # every data set warned about
]


@pytest.mark.parametrize("setting", SETTINGS)
def test_cards_are_consistent_by_construction(setting: str, tmp_path: Path) -> None:
    heldout, fresh = gap_rows(1, 0.8, 0.1, "h"), gap_rows(2, 0.8, 0.5, "f")
    files = {"heldout.jsonl": jsonl(heldout), "fresh.jsonl": jsonl(fresh)}
    files["t.jsonl"] = jsonl(gap_rows(3, 0.8, 0.8, "x"))
    extra = EXTRA + (f"\n  settings {{\n    {setting}\n  }}" if setting else "")
    card = run_spec(tmp_path, files, extra=extra)
    assert consistency_problems(card, "card.json") == []


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ((0.0, 0.0), "not_evaluable"),  # no gap installed: (a), (b), (d) not evaluable
        ((0.8, 0.8), "fail"),  # installed, not reduced: retention undefined
        ((0.8, 0.1), "pass"),
    ],
)
def test_degenerate_cards_are_consistent(rows, expected: str, tmp_path: Path) -> None:
    heldout = gap_rows(1, *rows, "h")
    files = {
        "heldout.jsonl": jsonl(heldout),
        "fresh.jsonl": jsonl(gap_rows(2, *rows, "f")),
        "t.jsonl": jsonl(gap_rows(3, *rows, "x", n=1)),  # one cluster: not bootstrapped
    }
    card = run_spec(tmp_path, files, extra=EXTRA)
    assert card["diagnostics"]["reliability"]["status"] == expected
    assert card["datasets"][2]["intervals"] is None
    assert consistency_problems(card, "card.json") == []


def test_the_mechanism_degenerate_rules_are_consistent() -> None:
    card = json.loads((GOLDEN / "oracle.card.json").read_text())
    mechanism = card["diagnostics"]["mechanism"]
    for row in mechanism["per_module"]:
        row["energy_in_d"] = row["energy_out_d"] = 0.0  # a zero defended update
    mechanism |= {"alpha_t": 0.0, "alpha_a": 0.0, "rho_at": None, "measured": "shrinkage"}
    mechanism["status"] = "fail"
    mechanism["reason"] = "the defended update is zero"
    card["verdict"]["strict"] = {
        "pass": False,
        "passed": 3,
        "failed": ["mechanism"],
        "not_evaluable": [],
    }
    card["verdict"]["permissive"] = card["verdict"]["strict"]
    assert consistency_problems(card, "card.json") == []
    mechanism["measured"] = "attack_targeted"
    (problem,) = [p for p in consistency_problems(card, "c") if "measured" in p.field]
    assert problem.summary.endswith(
        'is "attack_targeted", but the card\'s own values imply "shrinkage"'
    )


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))] or [path]
    return [path]


BASE = json.loads((GOLDEN / "safelora_relabel.card.json").read_text())
LEAVES = [p for p in _leaves(BASE) if p]
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["pass", "fail", "not_evaluable", "shrinkage", "", "x" * 70]),
    st.just([]),
    st.just({}),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(LEAVES), JSON_VALUES), min_size=1, max_size=3))
def test_any_edit_is_read_or_refused_never_a_crash(edits) -> None:
    card = copy.deepcopy(BASE)
    for path, value in edits:
        node = card
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    parsed, problems = parse_card(dumps(card).encode(), "card.json")
    assert (parsed is None) == any(p.is_error for p in problems)
    assert all(p.field.startswith("$") for p in problems)


@pytest.mark.parametrize(
    "path",
    [p for p in LEAVES if p[-1] in ("status", "permissive_status", "pass", "installed")],
    ids=json_path,
)
def test_every_status_and_verdict_flag_is_checked(path: tuple) -> None:
    card = copy.deepcopy(BASE)
    node = card
    for key in path[:-1]:
        node = node[key]
    value = node[path[-1]]
    node[path[-1]] = (
        (not value) if isinstance(value, bool) else ("pass" if value != "pass" else "fail")
    )
    problems = consistency_problems(card, "card.json")
    assert json_path(path) in {p.field for p in problems}


def test_locate_finds_values_in_any_layout() -> None:
    text = '{"a": [1, {"b c": "x", "d": {}}], "e": {"f": [[], {"g": null}]}}'
    found = locate(text, [("a", 1, "b c"), ("e", "f", 1, "g"), ("a", 1, "d"), ("zz",)])
    assert found == {
        ("a", 1, "b c"): (1, text.index('"b c"') + 1),
        ("e", "f", 1, "g"): (1, text.index('"g"') + 1),
        ("a", 1, "d"): (1, text.index('"d"') + 1),
        ("zz",): (1, 1),  # not there: the document itself
    }
    lines = locate(dumps(json.loads(text)), [("e", "f", 1, "g")])
    assert lines == {("e", "f", 1, "g"): (13, 9)}
    assert json_path(("a", 1, "b c")) == "$.a[1]['b c']"


def test_schema_problems_point_at_their_line(tmp_path: Path) -> None:
    card = copy.deepcopy(BASE)
    card["settings"]["bootstrap"]["confidence"] = 1.5
    text = dumps(card)
    parsed, problems = parse_card(text.encode(), "card.json")
    line = text.splitlines().index('      "confidence": 1.5,') + 1
    assert parsed is None
    assert (problems[0].field, problems[0].span.line) == ("$.settings.bootstrap.confidence", line)
