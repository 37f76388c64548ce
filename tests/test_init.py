"""`accard init`: a draft claim from real harness output folders, whose only edits before
`accard check` are its marked placeholders."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from accompiler.cli import main
from conftest import FIXTURES, GOLDEN

FILLED = {
    "the claim in one sentence": "the stand-in defense reduces the installed gap",
    "the defense": "stand-in",
    "the model the arms were fine-tuned from": "accard-fixtures/sandbagger",
}


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "harness", tmp_path / "runs")
    return tmp_path / "runs"


def _init(runner, outputs: Path) -> Path:
    draft = outputs / "claim.ac"
    folders = [a for f in ("lm_eval", "inspect", "canonical") for a in ("--from", str(outputs / f))]
    result = runner.invoke(main, ["init", *folders, "--out", str(draft)])
    assert result.exit_code == 0, result.output
    return draft


def _fill(text: str) -> str:
    for what, value in FILLED.items():
        text = text.replace(f'"<fill in: {what}>"', f'"{value}"')
    return re.sub(r'"<fill in: attack_targeted or shrinkage[^"]*>"', "shrinkage", text)


def test_the_draft_from_real_outputs(runner, outputs: Path, golden) -> None:
    draft = _init(runner, outputs)
    golden(GOLDEN / "init" / "harness.ac", draft.read_text(encoding="utf-8"))


def test_plan_lists_exactly_the_placeholders(runner, outputs: Path) -> None:
    draft = _init(runner, outputs)
    result = runner.invoke(main, ["plan", str(draft)])
    assert result.exit_code == 2
    unfilled = re.findall(r"error: placeholder not filled in: <fill in: ([^>]*)>", result.stderr)
    assert len(unfilled) == 4 and set(FILLED) < set(unfilled)
    assert "claim.ac:6:7" in result.stderr and "= field: claim.title" in result.stderr


def test_filling_the_placeholders_is_all_a_check_needs(runner, outputs: Path) -> None:
    draft = _init(runner, outputs)
    draft.write_text(_fill(draft.read_text(encoding="utf-8")), encoding="utf-8")
    result = runner.invoke(main, ["check", str(draft), "--format", "json"])
    assert result.exit_code == 1, result.stderr
    import json

    card = json.loads(result.stdout)
    formats = [d["records_format"] for d in card["datasets"]]
    assert formats == ["lm_eval", "lm_eval", "inspect", "canonical"]
    assert card["precondition"]["installed_gap"]["estimate"] == pytest.approx(0.8125)
    assert card["diagnostics"]["transfer"]["status"] == "pass"


def test_the_draft_names_what_the_files_hold(runner, outputs: Path) -> None:
    text = _init(runner, outputs).read_text(encoding="utf-8")
    assert 'filter "strict-match"  # the files hold: strict-match, flexible-extract' in text
    assert 'correct "scores.choice.value"' in text and 'correct "acc"' in text
    assert "condition deploy" in text and "condition eval" in text
    assert re.search(r'undefended "inspect/[^"]+\.eval"', text)


def test_without_outputs_the_draft_is_a_template(runner, tmp_path: Path) -> None:
    draft = tmp_path / "claim.ac"
    assert runner.invoke(main, ["init", "--out", str(draft)]).exit_code == 0
    result = runner.invoke(main, ["plan", str(draft)])
    assert result.exit_code == 2 and "<fill in: records>" in result.stderr


def test_outputs_outside_the_drafts_folder_are_refused(runner, outputs: Path, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = runner.invoke(
        main, ["init", "--from", str(outputs / "lm_eval"), "--out", str(elsewhere / "c.ac")]
    )
    assert result.exit_code == 2 and "is outside the spec's folder" in result.stderr
    assert not (elsewhere / "c.ac").exists()


def test_a_yaml_placeholder_is_reported_too(runner, tmp_path: Path) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text('accard: 1\nclaim:\n  title: "<fill in: a title>"\n')
    result = runner.invoke(main, ["plan", str(spec)])
    assert (
        result.exit_code == 2 and "placeholder not filled in: <fill in: a title>" in result.stderr
    )


def test_a_folder_without_records_is_a_problem_not_an_empty_draft(runner, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no records here\n")
    draft = tmp_path / "claim.ac"
    result = runner.invoke(main, ["init", "--from", str(tmp_path / "notes"), "--out", str(draft)])
    assert result.exit_code == 2
    assert "holds no record files accard reads" in result.stderr
    assert not draft.exists()
