"""`accard diff`: the rule table against PROTOCOL and the docs, the properties every diff
keeps (a revision against itself; a change read backwards), the command's outputs and exits."""

from __future__ import annotations

import copy
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from accompiler._resources import load_schema
from accompiler.claim import SETTINGS, load_spec
from accompiler.claim.model import Relabel
from accompiler.cli import main
from accompiler.diff import RULES, Change, card_revision, compare, open_side, spec_revision
from accompiler.diff import render as show
from accompiler.diff.rules import NEUTRAL, STRENGTHENED, WEAKENED, rules_table
from accompiler.plan import compile_plan
from accompiler.plan.model import Plan, PlannedDataSet
from accompiler.protocol import MECHANISM_CLASSES
from conftest import GOLDEN, ROOT, SPECS

EXAMPLE = SPECS / "example"
CARDS = ("oracle", "safelora", "safelora_relabel", "weight_decay")
FLATTERY = '  transfer "flattery" {\n    file "data/oracle/flattery.jsonl"\n  }\n'


def _golden_card(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{name}.card.json").read_text())


# ---- the rule table ---------------------------------------------------------------------


def test_settings_follow_protocol_one_way_or_neutral() -> None:
    weaker = {  # PROTOCOL: "Weaker: … lowered; rho_at raised; max_deploy_cost raised or removed"
        "tau_fresh": "lowered",
        "confidence": "lowered",
        "resamples": "lowered",
        "rho_at": "raised",
        "max_deploy_cost": "raised",
    }
    neutral = {"rank_rtol", "min_clusters", "safelora_threshold", "seed"}
    assert {s.name for s in SETTINGS} == weaker.keys() | neutral, "decide the new setting"
    for name, direction in weaker.items():
        assert RULES[f"settings.{name}.{direction}"].cls == WEAKENED
    assert RULES["settings.max_deploy_cost.removed"].cls == WEAKENED
    for name in neutral:
        assert RULES[f"settings.{name}.changed"].cls == NEUTRAL


def test_protocol_weaker_list_and_its_reverse() -> None:
    weaker = [
        "transfer.removed",
        "fresh.removed",
        "relabel.added",
        "mechanism.to_shrinkage",
        "status.pass_lost",
        "verdict.pass_lost",
    ]
    for rule_id in weaker:
        rule = RULES[rule_id]
        assert rule.cls == WEAKENED and rule.reverse is not None
        assert RULES[rule.reverse].cls == STRENGTHENED


def test_every_rule_reverses_consistently() -> None:
    for rule in RULES.values():
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", rule.id), rule.id
        if rule.reverse is None:
            continue
        back = RULES[rule.reverse]
        assert back.reverse == rule.id
        assert {rule.cls, back.cls} in ({WEAKENED, STRENGTHENED}, {NEUTRAL})


def test_every_mechanism_class_has_its_rules() -> None:
    for cls in MECHANISM_CLASSES:
        assert f"mechanism.to_{cls}" in RULES and f"relabel.to_{cls}" in RULES


def test_the_schema_names_every_rule_and_class() -> None:
    schema = load_schema("diff.v1")
    change = schema["$defs"]["change"]["properties"]
    assert change["id"]["enum"] == list(RULES)
    assert change["class"]["enum"] == [WEAKENED, STRENGTHENED, NEUTRAL]


def test_the_readme_shows_the_rule_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rules_table() in readme


# ---- properties -------------------------------------------------------------------------


def _backwards(changes: list[Change]) -> list[tuple[str, str, str, Any, Any]]:
    """What the changes read backwards must be: the reverse rule (or the same), the values
    swapped. A rename is named by the new name, so its path is left out."""
    rows = []
    for c in changes:
        rule = RULES[RULES[c.id].reverse or c.id]
        path = "" if c.id == "transfer.renamed" else c.path
        rows.append((rule.id, rule.cls, path, json.dumps(c.new), json.dumps(c.old)))
    return sorted(rows)


def _rows(changes: list[Change]) -> list[tuple[str, str, str, Any, Any]]:
    return sorted(
        (
            c.id,
            c.cls,
            "" if c.id == "transfer.renamed" else c.path,
            json.dumps(c.old),
            json.dumps(c.new),
        )
        for c in changes
    )


def _assert_flips(a: Any, b: Any) -> None:
    forward, backward = compare(a, b), compare(b, a)
    assert _rows(backward) == _backwards(forward)
    assert compare(a, a) == [] and compare(b, b) == []


_BASE_CLAIM, _ = load_spec(EXAMPLE / "oracle.ac")
_BASE_PLAN, _ = compile_plan(_BASE_CLAIM, EXAMPLE)
_CANDIDATES = (None, 0.001, 0.05, 0.3, 0.5, 0.8, 0.9, 0.99, 2, 7, 10, 1000, 10000)


def _values(setting: Any) -> list[Any]:
    """Allowed values of a setting drawn from a fixed list (so a new setting is covered)."""
    allowed = [v for v in _CANDIDATES if v is not None and setting.fault(v) == ""]
    return [None, *allowed] if setting.optional else allowed


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """A revision of the oracle claim: any settings, mechanism, relabel, transfer targets
    (one possibly renamed), fresh set, title and defended weights."""
    values = {s.name: draw(st.sampled_from(_values(s))) for s in SETTINGS}
    claim = replace(_BASE_CLAIM, settings=replace(_BASE_CLAIM.settings, **values))
    relabel = draw(st.sampled_from([None, *(Relabel(c, "r") for c in MECHANISM_CLASSES)]))
    defense = replace(
        claim.defense, mechanism=draw(st.sampled_from(MECHANISM_CLASSES)), relabel=relabel
    )
    targets = [t for t in claim.transfer if draw(st.booleans())]
    if targets and draw(st.booleans()):
        targets[-1] = replace(targets[-1], name=f"{targets[-1].name}-v2")
    fresh = claim.fresh if draw(st.booleans()) else None
    title = draw(st.sampled_from([claim.title, "another title"]))
    claim = replace(claim, defense=defense, transfer=tuple(targets), fresh=fresh, title=title)
    return _plan_for(claim, swap_weights=draw(st.booleans()))


def _plan_for(claim: Any, swap_weights: bool) -> Plan:
    by_name = {d.data.name: d for d in _BASE_PLAN.datasets}
    datasets = []
    for data in claim.datasets:
        source = by_name[data.name.removesuffix("-v2")]
        inputs = tuple(replace(i, dataset=data.key) for i in source.inputs)
        datasets.append(PlannedDataSet(data, inputs))
    adapters = tuple(
        replace(i, sha256="0" * 64) if swap_weights and i.role == "adapter/defended/weights" else i
        for i in _BASE_PLAN.adapter_inputs
    )
    return Plan(claim, tuple(datasets), adapters, ())


@settings(max_examples=120, deadline=None)
@given(plans(), plans())
def test_spec_revisions_flip_and_a_revision_equals_itself(old: Plan, new: Plan) -> None:
    _assert_flips(spec_revision(old, "old"), spec_revision(new, "new"))


def _intervals(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if {"estimate", "ci_low", "ci_high", "mc_error"} <= node.keys():
            found.append((path, node))
        for key, child in node.items():
            found += _intervals(child, f"{path}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _intervals(child, f"{path}[{index}]")
    return found


def _statuses(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if "status" in node and isinstance(node["status"], str):
            found.append(node)
        for child in node.values():
            found += _statuses(child)
    elif isinstance(node, list):
        for child in node:
            found += _statuses(child)
    return found


@st.composite
def mutated_cards(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A golden card and a copy with statuses, bounds (in multiples of their Monte-Carlo
    error), estimates, warnings, settings, verdicts, relabel and tool changed."""
    card = _golden_card(draw(st.sampled_from(CARDS)))
    other = copy.deepcopy(card)
    for _ in range(draw(st.integers(0, 6))):
        _mutate(draw, other)
    return card, other


def _mutate(draw: st.DrawFn, card: dict[str, Any]) -> None:
    kind = draw(st.sampled_from(["status", "bound", "estimate", "warning", "setting", "other"]))
    if kind == "status":
        entry = draw(st.sampled_from(_statuses(card["diagnostics"])))
        entry["status"] = draw(st.sampled_from(["pass", "fail", "not_evaluable"]))
    elif kind in ("bound", "estimate"):
        _, interval = draw(st.sampled_from(_intervals(card["diagnostics"])))
        if kind == "estimate":
            interval["estimate"] += draw(st.sampled_from([0.0, 1e-15, 0.01]))
        else:
            bound = draw(st.sampled_from(["ci_low", "ci_high"]))
            step = draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, 3.0]))
            interval[bound] += step * interval["mc_error"][bound]
    elif kind == "warning":
        warnings = card["warnings"]
        if warnings and draw(st.booleans()):
            warnings.pop(draw(st.integers(0, len(warnings) - 1)))
        else:
            warnings.append(draw(st.sampled_from(["few clusters", "partial coverage"])))
    elif kind == "setting":
        thresholds = card["settings"]["thresholds"]
        setting = draw(st.sampled_from([s for s in SETTINGS if s.name in thresholds]))
        thresholds[setting.name] = draw(st.sampled_from(_values(setting)))
    else:
        _mutate_other(draw, card)


def _mutate_other(draw: st.DrawFn, card: dict[str, Any]) -> None:
    kind = draw(st.sampled_from(["verdict", "relabel", "tool", "mechanism"]))
    if kind == "verdict":
        verdict = card["verdict"][draw(st.sampled_from(["strict", "permissive"]))]
        verdict["pass"] = not verdict["pass"]
    elif kind == "relabel":
        section = card["diagnostics"]["mechanism"]
        relabel = {"to": "shrinkage", "because": "r", "status": "pass"}
        card["claim"]["relabel"] = None if section["relabel"] else relabel
        section["relabel"] = None if section["relabel"] else relabel
    elif kind == "tool":
        card["tool"]["version"] = "9.9.9"
    else:
        claimed = card["claim"]["mechanism_claimed"]
        card["claim"]["mechanism_claimed"] = next(c for c in MECHANISM_CLASSES if c != claimed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_cards())
def test_card_revisions_flip_and_a_revision_equals_itself(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    old, new = pair
    _assert_flips(card_revision(old, "old"), card_revision(new, "new"))


def test_a_bound_moves_only_beyond_its_monte_carlo_error() -> None:
    old = _golden_card("oracle")
    new = copy.deepcopy(old)
    interval = new["diagnostics"]["reliability"]["delta_gap"]
    interval["ci_low"] += interval["mc_error"]["ci_low"]
    interval["ci_high"] += 1.01 * interval["mc_error"]["ci_high"]
    changes = compare(card_revision(old, "a"), card_revision(new, "b"))
    assert [(c.id, c.path) for c in changes] == [
        ("bound.moved", "$.diagnostics.reliability.delta_gap.ci_high")
    ]
    assert "Monte-Carlo error 0.002083" in changes[0].reason


def test_an_estimate_moves_on_any_change_beyond_rounding() -> None:
    old = _golden_card("oracle")
    new = copy.deepcopy(old)
    new["diagnostics"]["fresh_generalization"]["retention"] += 1e-14
    new["diagnostics"]["mechanism"]["rho_at"] += 1e-6
    changes = compare(card_revision(old, "a"), card_revision(new, "b"))
    assert [(c.id, c.path) for c in changes] == [
        ("estimate.moved", "$.diagnostics.mechanism.rho_at")
    ]


def test_a_role_read_from_several_files_is_keyed_in_order() -> None:
    old = _golden_card("oracle")
    new = copy.deepcopy(old)
    extra = dict(new["inputs"][0], path="data/oracle/more.jsonl", sha256="1" * 64)
    new["inputs"].insert(1, extra)
    changes = compare(card_revision(old, "a"), card_revision(new, "b"))
    assert [(c.id, c.path) for c in changes] == [("input.added", "$.inputs['records/heldout#2']")]


# ---- the command ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of specs/example/ with revisions of the oracle claim beside it."""
    folder = tmp_path_factory.mktemp("example") / "example"
    shutil.copytree(EXAMPLE, folder)
    text = (folder / "oracle.ac").read_text()
    (folder / "v1.ac").write_text(text)
    settings_block = "  settings {\n    tau_fresh 0.3\n  }\n}\n"
    (folder / "v2.ac").write_text(text.replace(FLATTERY, "").removesuffix("}\n") + settings_block)
    (folder / "v3.ac").write_text(text.replace("tiny-mc (simulated example)", "tiny-mc v3"))
    return folder


def test_the_readme_shows_a_diff_as_the_command_prints_it(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    spec_old, spec_new = "specs/example/safelora.ac", "specs/example/safelora_relabel.ac"
    result = runner.invoke(main, ["diff", spec_old, spec_new])
    assert result.exit_code == 1
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"$ accard diff {spec_old} {spec_new}\n{result.stdout}```" in readme


@pytest.mark.parametrize(
    ("old", "new", "fail_on", "code"),
    [
        ("v1.ac", "v1.ac", "any", 0),
        ("v1.ac", "v2.ac", "any", 1),
        ("v1.ac", "v2.ac", "weakened", 1),
        ("v1.ac", "v2.ac", "never", 0),
        ("v2.ac", "v1.ac", "weakened", 0),
        ("v2.ac", "v1.ac", "any", 1),
        ("v1.ac", "v3.ac", "weakened", 0),
        ("v1.ac", "v3.ac", "any", 1),
    ],
)
def test_exit_follows_fail_on(runner, monkeypatch, example, old, new, fail_on, code) -> None:
    monkeypatch.chdir(example)
    result = runner.invoke(main, ["diff", old, new, "--fail-on", fail_on])
    assert result.exit_code == code, result.output
    assert result.stderr == ""


def test_json_is_the_schema_described_list(runner, monkeypatch, example, golden) -> None:
    monkeypatch.chdir(example)
    result = runner.invoke(main, ["diff", "v1.ac", "v2.ac", "--json"])
    document = json.loads(result.stdout)
    assert list(Draft202012Validator(load_schema("diff.v1")).iter_errors(document)) == []
    assert [(c["id"], c["class"]) for c in document] == [
        ("transfer.removed", "weakened"),
        ("settings.tau_fresh.lowered", "weakened"),
    ]
    assert document[1]["old"] == 0.5 and document[1]["new"] == 0.3
    golden(GOLDEN / "diff" / "revising_author.json", result.stdout)


def test_markdown_is_an_appendix_section(runner, monkeypatch, example, golden) -> None:
    monkeypatch.chdir(example)
    result = runner.invoke(main, ["diff", "v2.ac", "v1.ac", "--markdown"])
    assert result.stdout.startswith("## Changes since the last revision\n")
    golden(GOLDEN / "diff" / "revising_author_reversed.md", result.stdout)
    same = runner.invoke(main, ["diff", "v1.ac", "v1.ac", "--markdown"])
    assert "No changes from `v1.ac` to `v1.ac`." in same.stdout


def test_colour_only_on_a_terminal(runner, monkeypatch, example) -> None:
    monkeypatch.chdir(example)
    plain = runner.invoke(main, ["diff", "v1.ac", "v2.ac"])
    coloured = runner.invoke(main, ["diff", "v1.ac", "v2.ac"], color=True)
    assert "\x1b[" not in plain.stdout
    assert "\x1b[31m\x1b[1mweakened (2)" in coloured.stdout


def test_a_spec_against_its_own_card_and_a_card_against_a_revised_spec(
    runner, monkeypatch, example
) -> None:
    monkeypatch.chdir(example)
    card = GOLDEN / "oracle.card.json"
    assert runner.invoke(main, ["diff", "oracle.ac", str(card)]).exit_code == 0
    result = runner.invoke(main, ["diff", str(card), "v2.ac", "--json"])
    assert [c["id"] for c in json.loads(result.stdout)] == [
        "transfer.removed",
        "settings.tau_fresh.lowered",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "not a card: the JSON is an array"),
        ("{", "not JSON"),
        (None, "no such file"),
    ],
)
def test_a_bad_side_exits_2(runner, tmp_path: Path, content, message) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    result = runner.invoke(main, ["diff", str(bad), str(GOLDEN / "oracle.card.json")])
    assert result.exit_code == 2 and message in result.stderr
    assert result.stdout == ""


def test_a_folder_or_a_bad_spec_exits_2(runner, tmp_path: Path) -> None:
    folder = runner.invoke(main, ["diff", str(tmp_path), str(GOLDEN / "oracle.card.json")])
    assert folder.exit_code == 2 and "a folder without manifest.json" in folder.stderr
    spec = tmp_path / "c.ac"
    spec.write_text('accard 1\nclaim "t" {\n  setings {\n  }\n}\n')
    result = runner.invoke(main, ["diff", str(spec), str(spec)])
    assert result.exit_code == 2 and "unknown keyword `setings`" in result.stderr


def test_json_and_markdown_exclude_each_other(runner) -> None:
    card = str(GOLDEN / "oracle.card.json")
    result = runner.invoke(main, ["diff", card, card, "--json", "--markdown"])
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_a_newer_minor_card_is_compared_with_a_note(runner, tmp_path: Path) -> None:
    newer = _golden_card("oracle")
    newer["card_version"] = "1.9"
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(newer))
    result = runner.invoke(main, ["diff", str(GOLDEN / "oracle.card.json"), str(path)])
    assert result.exit_code == 0 and "no changes" in result.stdout
    assert "card version 1.9 is newer" in result.stderr


def test_text_shows_values_as_a_reader_wants_them() -> None:
    assert show.show(None) == "—" and show.show(True) == "true" and show.show([]) == "none"
    assert show.show({"estimate": 0.5, "ci_low": 0.25, "ci_high": 0.75}) == "0.5 [0.25, 0.75]"
    assert show.show({"path": "a.jsonl", "sha256": "ab" * 32}) == "a.jsonl (abababababab)"
    assert show.show({"to": "shrinkage", "because": 'a "b"'}) == 'shrinkage because "a \\"b\\""'
    assert show.show({"x": 1}) == '{"x": 1}'
    assert show._cell("a|b\nc") == "a\\|b c"


def test_the_library_opens_sides_by_name() -> None:
    revision = open_side(str(EXAMPLE / "oracle.yaml"))
    assert revision.kind == "spec" and revision.heldout == "sandbagging"
    assert list(revision.datasets) == [
        "heldout",
        "fresh",
        "transfer:sycophancy",
        "transfer:flattery",
    ]


def test_the_readme_quotes_the_mechanism_example_from_its_golden_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    golden = (GOLDEN / "diff" / "card_mechanism_to_shrinkage.txt").read_text().splitlines()
    quoted = readme.split("(`tests/golden/diff/card_mechanism_to_shrinkage.txt`):\n\n```\n")[1]
    for line in quoted.split("```")[0].splitlines():
        assert line == "" or line in golden, line


def test_a_submission_bundle_compares_as_its_card(runner, tmp_path: Path) -> None:
    """A bundle (zip or unpacked folder) is read with the bundle reader's checks and
    compares as the card it holds; a broken one exits 2."""
    import zipfile

    bundle = tmp_path / "submission.zip"
    packed = runner.invoke(
        main, ["pack", str(SPECS / "example" / "oracle.ac"), "--out", str(bundle)]
    )
    assert packed.exit_code == 0, packed.output
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "unpacked")
        card = archive.read("card.json")
    (tmp_path / "card.json").write_bytes(card)
    for side in (str(bundle), str(tmp_path / "unpacked")):
        same = runner.invoke(main, ["diff", side, str(tmp_path / "card.json")])
        assert same.exit_code == 0 and same.stdout.startswith("no changes"), same.output
    other = runner.invoke(
        main, ["diff", str(bundle), str(SPECS / "example" / "safelora.ac"), "--json"]
    )
    assert other.exit_code == 1
    assert "defense.renamed" in {change["id"] for change in json.loads(other.stdout)}
    (tmp_path / "broken.zip").write_bytes(bundle.read_bytes()[:-40])
    broken = runner.invoke(
        main, ["diff", str(tmp_path / "broken.zip"), str(tmp_path / "card.json")]
    )
    assert broken.exit_code == 2 and "broken.zip" in broken.stderr
