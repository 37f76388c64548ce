"""The tamper corpus: what a journal might be sent, and what accard says about it.

Each case edits a genuine card, or the files beside its spec, one way, and states the
expected result and message. Card edits are caught by `accard validate` (exit 2: the card
is not consistent with itself, or not a card); edits a card cannot betray alone (a
consistent forgery, changed data) by `accard reproduce` (exit 1, every difference listed);
harmless changes (layout, key order, another tool version, non-default settings)
reproduce (exit 0)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accompiler.canonical import dumps
from accompiler.card.document import CARD_VERSION
from accompiler.cli import main
from conftest import GOLDEN, SPECS

CARD = GOLDEN / "safelora_relabel.card.json"
"""strict 1/4 (a passes; b, c, d fail), permissive 3/4 (the relabel passes c, sycophancy d)."""


@dataclass(frozen=True)
class CardCase:
    name: str
    edit: Callable[[dict[str, Any]], object]
    field: str
    """The JSON path of the problem the case must raise."""
    message: str
    """A part of that problem's message."""


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(card: dict[str, Any]) -> None:
        node = card
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _both(*edits: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], None]:
    def edit(card: dict[str, Any]) -> None:
        for one in edits:
            one(card)

    return edit


D = "diagnostics"
FLATTERY_BOUND = (D, "transfer", "targets", 1, "delta_gap", "ci_high")
CARD_CASES = [
    CardCase(
        "forged strict verdict",
        _set("verdict", "strict", "pass", value=True),
        "$.verdict.strict.pass",
        "is true, but the card's own values imply false",
    ),
    CardCase(
        "forged permissive verdict",
        _set("verdict", "permissive", "pass", value=True),
        "$.verdict.permissive.pass",
        "is true, but the card's own values imply false",
    ),
    CardCase(
        "forged pass count",
        _set("verdict", "strict", "passed", value=4),
        "$.verdict.strict.passed",
        "is 4, but the card's own values imply 1",
    ),
    CardCase(
        "a failed diagnostic dropped from the verdict",
        _set("verdict", "strict", "failed", value=["fresh_generalization", "mechanism"]),
        "$.verdict.strict.failed",
        'imply ["fresh_generalization", "mechanism", "transfer"]',
    ),
    CardCase(
        "forged transfer status",
        _set(D, "transfer", "status", value="pass"),
        "$.diagnostics.transfer.status",
        'is "pass", but the card\'s own values imply "fail"',
    ),
    CardCase(
        "forged target status",
        _set(D, "transfer", "targets", 1, "status", value="pass"),
        "$.diagnostics.transfer.targets[1].status",
        'is "pass", but the card\'s own values imply "fail"',
    ),
    CardCase(
        "forged permissive transfer status",
        _set(D, "transfer", "permissive_status", value="fail"),
        "$.diagnostics.transfer.permissive_status",
        'is "fail", but the card\'s own values imply "pass"',
    ),
    CardCase(
        "forged fresh-generalisation status",
        _set(D, "fresh_generalization", "status", value="pass"),
        "$.diagnostics.fresh_generalization.status",
        'imply "fail"',
    ),
    CardCase(
        "a bound moved below 0 while the status stays fail",
        _set(*FLATTERY_BOUND, value=-0.01),
        "$.diagnostics.transfer.targets[1].delta_gap.ci_high",
        "is -0.01, but the card's own values imply 0.0859375",
    ),
    CardCase(
        "a bound moved below 0 in the section and its data set",
        _both(
            _set(*FLATTERY_BOUND, value=-0.01),
            _set("datasets", 3, "intervals", "delta_gap", "ci_high", value=-0.01),
        ),
        "$.diagnostics.transfer.targets[1].status",
        'is "fail", but the card\'s own values imply "pass"',
    ),
    CardCase(
        "an estimate outside its interval",
        _set(D, "reliability", "delta_gap", "estimate", value=-0.9),
        "$.diagnostics.reliability.delta_gap.estimate",
        "is -0.9, but the card's own values imply a value in [-0.163541666667, -0.0520833333333]",
    ),
    CardCase(
        "forged retention",
        _set(D, "fresh_generalization", "retention", value=0.9),
        "$.diagnostics.fresh_generalization.retention",
        "is 0.9, but the card's own values imply 0.490196078431",
    ),
    CardCase(
        "retention withheld",
        _set(D, "fresh_generalization", "retention", value=None),
        "$.diagnostics.fresh_generalization.retention",
        "is null, but the card's own values imply 0.490196078431",
    ),
    CardCase(
        "forged measured class",
        _set(D, "mechanism", "measured", value="attack_targeted"),
        "$.diagnostics.mechanism.measured",
        'is "attack_targeted", but the card\'s own values imply "shrinkage"',
    ),
    CardCase(
        "forged rho_AT",
        _set(D, "mechanism", "rho_at", value=0.5),
        "$.diagnostics.mechanism.rho_at",
        "is 0.5, but the card's own values imply 1.00012937993",
    ),
    CardCase(
        "forged alpha_T",
        _set(D, "mechanism", "alpha_t", value=0.1),
        "$.diagnostics.mechanism.alpha_t",
        "is 0.1, but the card's own values imply 0.620068414178",
    ),
    CardCase(
        "forged mechanism status",
        _set(D, "mechanism", "status", value="pass"),
        "$.diagnostics.mechanism.status",
        'is "pass", but the card\'s own values imply "fail"',
    ),
    CardCase(
        "forged relabel status",
        _set(D, "mechanism", "relabel", "status", value="fail"),
        "$.diagnostics.mechanism.relabel.status",
        'is "fail", but the card\'s own values imply "pass"',
    ),
    CardCase(
        "the claimed class changed in the section only",
        _set(D, "mechanism", "claimed", value="shrinkage"),
        "$.diagnostics.mechanism.claimed",
        'is "shrinkage", but the card\'s own values imply "attack_targeted"',
    ),
    CardCase(
        "forged precondition",
        _set("precondition", "installed", value=False),
        "$.precondition.installed",
        "is false, but the card's own values imply true",
    ),
    CardCase(
        "tau_fresh lowered in the section only",
        _set(D, "fresh_generalization", "tau_fresh", value=0.1),
        "$.diagnostics.fresh_generalization.tau_fresh",
        "is 0.1, but the card's own values imply 0.5",
    ),
    CardCase(
        "a deploy-cost limit set without its gate",
        _set("settings", "thresholds", "max_deploy_cost", value=0.01),
        "$.diagnostics.reliability.status",
        'is "pass", but the card\'s own values imply "fail"',
    ),
    CardCase(
        "the seed changed in the settings only",
        _set("settings", "bootstrap", "seed", value=3),
        "$.settings.bootstrap.seed",
        "is 3, but the card's own values imply 0, which all 44 intervals record",
    ),
    CardCase(
        "one interval's resamples changed",
        _set(D, "reliability", "delta_gap", "resamples", value=10000),
        "$.diagnostics.reliability.delta_gap.resamples",
        "is 10000, but the card's own values imply 5000",
    ),
    CardCase(
        "a cell accuracy edited",
        _set("datasets", 0, "accuracy", "defended", "deploy", value=0.9),
        "$.datasets[0].accuracy.defended.deploy",
        "is 0.9, but the card's own values imply 0.725",
    ),
    CardCase(
        "a sign disagreement hidden",
        _set(*FLATTERY_BOUND[:-1], "cross_check", "t_high", value=-0.01),
        "$.diagnostics.transfer.targets[1].delta_gap.cross_check.sign_disagreement",
        "is false, but the card's own values imply true",
    ),
    CardCase(
        "a warning the card does not imply",
        _set("warnings", value=["all good"]),
        "$.warnings[0]",
        'is "all good", but the card\'s own values imply no such warning',
    ),
    CardCase(
        "a transfer target removed from (d) only",
        lambda card: card[D]["transfer"]["targets"].pop(),
        "$.diagnostics.transfer.targets",
        'is ["sycophancy"], but the card\'s own values imply ["sycophancy", "flattery"]',
    ),
    CardCase(
        "an input hash that is not a sha256",
        _set("inputs", 0, "sha256", value="AA68BE79"),
        "$.inputs[0].sha256",
        "'AA68BE79' does not match '^[0-9a-f]{64}$'",
    ),
]


@pytest.mark.parametrize("case", CARD_CASES, ids=[c.name for c in CARD_CASES])
def test_a_tampered_card_is_refused(case: CardCase, runner, tmp_path: Path) -> None:
    card = json.loads(CARD.read_text())
    case.edit(card)
    path = tmp_path / "card.json"
    path.write_text(dumps(card))
    result = runner.invoke(main, ["validate", "--problems", "json", str(path)])
    assert result.exit_code == 2, result.output
    problems = json.loads(result.stderr)["problems"]
    assert any(p["field"] == case.field and case.message in p["message"] for p in problems), (
        json.dumps(problems, indent=1)[:3000]
    )


def test_the_corpus_is_large_enough() -> None:
    assert len(CARD_CASES) + len(REPRODUCE_CASES) >= 25
    assert len({c.name for c in CARD_CASES}) == len(CARD_CASES)


def test_an_inconsistency_names_its_line_and_both_values(runner, tmp_path: Path) -> None:
    card = json.loads(CARD.read_text())
    card["verdict"]["strict"]["pass"] = True
    path = tmp_path / "card.json"
    path.write_text(dumps(card))
    result = runner.invoke(main, ["validate", str(path)])
    line = dumps(card).splitlines().index('    "strict": {') + 2
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: inconsistent card: $.verdict.strict.pass is true, but the card's own values "
        f"imply false\n   --> {path}:{line}:7\n"
    )
    assert f'{line} |       "pass": true,' in result.stderr
    assert "= help: a verdict passes iff every diagnostic passes" in result.stderr


def test_show_and_diff_refuse_a_forged_card(runner, tmp_path: Path) -> None:
    card = json.loads(CARD.read_text())
    card["verdict"]["strict"]["pass"] = True
    path = tmp_path / "card.json"
    path.write_text(dumps(card))
    shown = runner.invoke(main, ["show", str(path)])
    assert shown.exit_code == 2 and shown.stdout == ""
    assert "$.verdict.strict.pass is true" in shown.stderr
    diffed = runner.invoke(main, ["diff", str(CARD), str(path)])
    assert diffed.exit_code == 2 and "$.verdict.strict.pass is true" in diffed.stderr


# ----------------------------------------------------------------- reproduce


def _oracle(folder: Path) -> Path:
    """A copy of the oracle claim with only the files it reads."""
    example = SPECS / "example"
    shutil.copy(example / "oracle.ac", folder / "oracle.ac")
    shutil.copytree(example / "data" / "oracle", folder / "data" / "oracle")
    for name in ("undefended", "oracle", "reference"):
        shutil.copytree(example / "adapters" / name, folder / "adapters" / name)
    return folder / "oracle.ac"


@pytest.fixture(scope="module")
def oracle_cards(tmp_path_factory) -> dict[str, str]:
    """The oracle claim's card, at the defaults and at seed 7 with B = 10000."""
    import accompiler

    spec = _oracle(tmp_path_factory.mktemp("oracle"))
    return {
        "default": accompiler.check(spec).to_json(),
        "seed 7": accompiler.check(spec, overrides={"seed": 7, "resamples": 10000}).to_json(),
    }


@dataclass(frozen=True)
class ReproduceCase:
    name: str
    card: str
    """Which of `oracle_cards`."""
    edit: Callable[[Path, dict[str, Any]], str]
    """(the spec's folder, the card) -> the card file's text, after editing either."""
    exit_code: int
    messages: tuple[str, ...]
    options: tuple[str, ...] = ()


def _as_written(folder: Path, card: dict[str, Any]) -> str:
    return dumps(card)


def _reindented(folder: Path, card: dict[str, Any]) -> str:
    return json.dumps(card, indent=7, ensure_ascii=True)


def _keys_reordered(folder: Path, card: dict[str, Any]) -> str:
    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        return [reverse(v) for v in value] if isinstance(value, list) else value

    return json.dumps(reverse(card))


def _older_tool(folder: Path, card: dict[str, Any]) -> str:
    card["tool"]["version"] = "0.0.9"
    return dumps(card)


def _flip_a_row(folder: Path, card: dict[str, Any]) -> str:
    data = folder / "data" / "oracle" / "flattery.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    rows[-1]["correct"] = 1 - rows[-1]["correct"]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dumps(card)


def _swap_files(folder: Path, card: dict[str, Any]) -> str:
    held, fresh = (
        folder / "data" / "oracle" / "heldout.jsonl",
        folder / "data" / "oracle" / "fresh.jsonl",
    )
    held_bytes = held.read_bytes()
    held.write_bytes(fresh.read_bytes())
    fresh.write_bytes(held_bytes)
    return dumps(card)


def _remove_target_consistently(folder: Path, card: dict[str, Any]) -> str:
    """A forgery validate cannot see: the failing-free target, its data set, its input and
    every count that named it, all removed consistently."""
    from accompiler.card.verdict import verdicts

    card["diagnostics"]["transfer"]["targets"].pop()
    card["datasets"].pop()
    card["inputs"] = [i for i in card["inputs"] if "flattery" not in i["role"]]
    card["verdict"] = verdicts(card["diagnostics"])
    return dumps(card)


def _widen_a_cell_interval(folder: Path, card: dict[str, Any]) -> str:
    """A consistent edit of a number no gate reads: only a recomputation catches it."""
    card["datasets"][0]["accuracy_intervals"]["defended"]["eval"]["ci_high"] = 0.99
    return dumps(card)


def _warnings_removed(folder: Path, card: dict[str, Any]) -> str:
    card["warnings"] = []
    return dumps(card)


REPRODUCE_CASES = [
    ReproduceCase("as written", "default", _as_written, 0, ("reproduced byte for byte",)),
    ReproduceCase(
        "re-indented", "default", _reindented, 0, ("reproduced from", "(every value equal)")
    ),
    ReproduceCase("keys reordered", "default", _keys_reordered, 0, ("(every value equal)",)),
    ReproduceCase(
        "another tool version, identical numbers",
        "default",
        _older_tool,
        0,
        ("reproduced from", "the card was made by accard 0.0.9"),
    ),
    ReproduceCase(
        "a card made with seed 7 and B = 10000",
        "seed 7",
        _as_written,
        0,
        ("reproduced byte for byte", "resamples 10000, confidence 0.95, seed 7"),
    ),
    ReproduceCase(
        "the seed-7 card recomputed at seed 0 within the Monte-Carlo tolerance",
        "seed 7",
        _as_written,
        0,
        ("within the Monte-Carlo tolerance", "except resamples 5000 (the card: 10000), seed 0"),
        ("--seed", "0", "--resamples", "5000", "--tolerance", "mc"),
    ),
    ReproduceCase(
        "the seed-7 card recomputed at seed 0 exactly",
        "seed 7",
        _as_written,
        1,
        ("NOT reproduced", "compare with --tolerance mc"),
        ("--seed", "0"),
    ),
    ReproduceCase(
        "an edited data file",
        "default",
        _flip_a_row,
        1,
        (
            "1 input differ from the card's record (not recomputed)",
            "the data changed since the card was made: data/oracle/flattery.jsonl",
        ),
    ),
    ReproduceCase(
        "swapped data files",
        "default",
        _swap_files,
        1,
        (
            "the data changed since the card was made: data/oracle/heldout.jsonl",
            "the data changed since the card was made: data/oracle/fresh.jsonl",
        ),
    ),
    ReproduceCase(
        "a transfer target removed consistently",
        "default",
        _remove_target_consistently,
        1,
        (
            "the spec reads data/oracle/flattery.jsonl (records/transfer:flattery), which the "
            "card does not list",
        ),
    ),
    ReproduceCase(
        "a cell interval edited consistently",
        "default",
        _widen_a_cell_interval,
        1,
        (
            "NOT reproduced from",
            "$.datasets['heldout'].accuracy_intervals.defended.eval.ci_high: card 0.99, "
            "recomputed 0.672916666667",
        ),
    ),
]


@pytest.mark.parametrize("case", REPRODUCE_CASES, ids=[c.name for c in REPRODUCE_CASES])
def test_reproduce(case: ReproduceCase, oracle_cards, runner, tmp_path: Path) -> None:
    spec = _oracle(tmp_path)
    card_path = tmp_path / "card.json"
    card_path.write_text(case.edit(tmp_path, json.loads(oracle_cards[case.card])))
    result = runner.invoke(main, ["reproduce", str(spec), str(card_path), *case.options])
    assert result.exit_code == case.exit_code, result.output
    for message in case.messages:
        assert message in result.stdout, result.stdout
    assert "no differences" not in result.stdout


def test_removed_warnings_are_caught_before_reproducing(runner, tmp_path: Path) -> None:
    spec = _oracle(tmp_path)
    card_path = tmp_path / "card.json"
    made = runner.invoke(
        main, ["check", str(spec), "--set", "min_clusters=40", "--out", str(card_path)]
    )
    card = json.loads(card_path.read_text())
    assert made.exit_code == 0 and len(card["warnings"]) == 3
    card_path.write_text(_warnings_removed(tmp_path, card))
    result = runner.invoke(main, ["reproduce", str(spec), str(card_path)])
    assert result.exit_code == 2
    assert (
        "$.warnings is [], but the card's own values imply a warning '`fresh` has 24 question "
        "clusters (fewer than 40): its intervals are unreliable'" in result.stderr
    )


def test_reproduce_reports_as_json(oracle_cards, runner, tmp_path: Path) -> None:
    spec = _oracle(tmp_path)
    card_path = tmp_path / "card.json"
    card_path.write_text(_widen_a_cell_interval(tmp_path, json.loads(oracle_cards["default"])))
    result = runner.invoke(main, ["reproduce", "--json", str(spec), str(card_path)])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["reproduced"] is False
    assert report["tolerance"]["name"] == "exact"
    assert report["differences"] == [
        {
            "path": "$.datasets['heldout'].accuracy_intervals.defended.eval.ci_high",
            "card": 0.99,
            "recomputed": 0.672916666667,
            "card_has": True,
            "recomputed_has": True,
            "detail": "",
            "mc_multiple": None,
        }
    ]
    assert report["settings"]["seed"] == 0 and CARD_VERSION == "1.1"
