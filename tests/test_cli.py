"""The command line: exit codes 0/1/2/3, stdout vs stderr, nothing written on a bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from accompiler.cli import main
from conftest import SPECS

EXAMPLE = SPECS / "example"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, target, symlinks=True)
    return target


def test_check_pass_exits_0_and_writes_a_valid_card(runner, tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    result = runner.invoke(main, ["check", str(EXAMPLE / "oracle.ac"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "strict PASS (4/4 pass)" in result.stdout
    assert result.stderr == ""
    card = json.loads(out.read_text())
    assert card["verdict"]["strict"]["pass"] is True
    validated = runner.invoke(main, ["validate", str(out)])
    assert validated.exit_code == 0 and "a valid Acceptance Card" in validated.stdout


def test_check_fail_exits_1(runner) -> None:
    result = runner.invoke(main, ["check", str(EXAMPLE / "safelora.ac")])
    assert result.exit_code == 1
    assert "FAIL  (c) mechanism" in result.stdout


@pytest.mark.parametrize("output_format", ["json", "markdown", "latex", "html", "svg"])
def test_check_formats(runner, output_format: str) -> None:
    result = runner.invoke(main, ["check", str(EXAMPLE / "oracle.ac"), "--format", output_format])
    assert result.exit_code == 0
    marker = {
        "svg": "(a) Δgap held-out · pass",  # matplotlib's drawing (the test extra has it)
        "json": '"card_version": "1.1"',
        "markdown": "| (a) reliability | **pass** |",
        "latex": r"\begin{tabular}",
        "html": '<td class="pass">pass</td>',
    }[output_format]
    assert marker in result.stdout


def test_seed_and_resamples_override_are_recorded(runner) -> None:
    result = runner.invoke(
        main,
        [
            "check",
            str(EXAMPLE / "oracle.ac"),
            "--format",
            "json",
            "--seed",
            "7",
            "--resamples",
            "2000",
        ],
    )
    card = json.loads(result.stdout)
    assert card["settings"]["bootstrap"]["seed"] == 7
    assert card["diagnostics"]["reliability"]["delta_gap"]["resamples"] == 2000


def test_bad_spec_exits_2_and_writes_nothing(runner, tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    spec = SPECS / "invalid" / "confidence_out_of_range.ac"
    result = runner.invoke(main, ["check", str(spec), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: `confidence` is out of range: 1.5" in result.stderr
    assert "^^^" in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_record_exits_2_and_writes_nothing(runner, example_copy: Path, tmp_path: Path) -> None:
    data = example_copy / "data" / "oracle" / "heldout.jsonl"
    lines = data.read_text().splitlines()
    lines[9] = (
        lines[9].replace('"correct": 1', '"correct": 7').replace('"correct": 0', '"correct": 7')
    )
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "card.json"
    result = runner.invoke(main, ["check", str(example_copy / "oracle.ac"), "--out", str(out)])
    assert result.exit_code == 2
    assert "data/oracle/heldout.jsonl:10" in result.stderr
    assert "score 7 is outside [0, 1]" in result.stderr
    assert not out.exists()


def test_internal_error_exits_3_with_one_line(runner, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("accompiler.run.datasets.bootstrap_contrasts", broken)
    result = runner.invoke(main, ["check", str(EXAMPLE / "oracle.ac")])
    assert result.exit_code == 3
    assert result.stderr.strip().count("\n") == 0
    assert "internal error: ZeroDivisionError: boom" in result.stderr
    debug = runner.invoke(main, ["--debug", "check", str(EXAMPLE / "oracle.ac")])
    assert debug.exit_code == 3 and "Traceback" in debug.stderr


def test_plan_text_and_json(runner) -> None:
    text = runner.invoke(main, ["plan", str(EXAMPLE / "safelora.ac")])
    assert text.exit_code == 0
    assert "(a) reliability" in text.stdout and "records/heldout" in text.stdout
    as_json = runner.invoke(main, ["plan", "--json", str(EXAMPLE / "safelora.ac")])
    assert json.loads(as_json.stdout)["plan_version"] == "1"


def test_fmt_check_and_rewrite(runner, tmp_path: Path) -> None:
    spec = tmp_path / "c.ac"
    spec.write_text((EXAMPLE / "oracle.ac").read_text().replace("  model", "      model"))
    check = runner.invoke(main, ["fmt", "--check", str(spec)])
    assert check.exit_code == 1 and "not in canonical layout" in check.stderr
    assert runner.invoke(main, ["fmt", str(spec)]).exit_code == 0
    assert spec.read_text() == (EXAMPLE / "oracle.ac").read_text()
    assert runner.invoke(main, ["fmt", "--check", str(spec)]).exit_code == 0


def test_convert_both_ways_gives_the_same_plan(runner, example_copy: Path) -> None:
    spec = example_copy / "safelora_relabel.ac"
    converted = example_copy / "converted.yaml"
    assert (
        runner.invoke(
            main, ["convert", str(spec), "--to", "yaml", "--out", str(converted)]
        ).exit_code
        == 0
    )
    back = example_copy / "back.ac"
    assert (
        runner.invoke(main, ["convert", str(converted), "--to", "ac", "--out", str(back)]).exit_code
        == 0
    )
    plans = [
        runner.invoke(main, ["plan", "--json", str(p)]).stdout for p in (spec, converted, back)
    ]
    assert plans[0] == plans[1] == plans[2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"card_version": "2"}', "card_version '2' is not one this accard reads"),
        ("not json", "not JSON"),
        (
            '{"card_version": "1", "tool": {"name": "accard"}}',
            "$.tool: 'version' is a required property",
        ),
    ],
)
def test_validate_rejects_what_is_not_a_valid_card(
    runner, tmp_path: Path, content: str, message: str
) -> None:
    card = tmp_path / "card.json"
    card.write_text(content)
    result = runner.invoke(main, ["validate", str(card)])
    assert result.exit_code == 2 and message in result.stderr


def test_svg_is_well_formed_and_shows_every_gate(runner) -> None:
    import xml.etree.ElementTree as ElementTree

    result = runner.invoke(main, ["check", str(EXAMPLE / "safelora_relabel.ac"), "--format", "svg"])
    # matplotlib draws glyphs as paths and keeps each text as a comment before them
    parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(insert_comments=True))
    root = ElementTree.fromstring(result.stdout, parser=parser)
    texts = [str(c.text).strip() for c in root.iter(ElementTree.Comment)]
    assert "(d) Δgap flattery · fail" in texts
    assert "claimed attack_targeted, measured shrinkage" in texts
    ids = {element.get("id") for element in root.iter()}
    assert {"point-signature", "label-signature"} <= ids


def test_progress_only_on_a_terminal_after_the_delay(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from accompiler.cli import _common

    monkeypatch.setattr(_common.sys.stderr, "isatty", lambda: True, raising=False)
    progress = _common.Progress(delay=0.0)
    progress("bootstrapping heldout")
    progress.done()
    assert "accard: bootstrapping heldout" in capsys.readouterr().err
    quiet = _common.Progress(delay=3600.0)
    quiet("reading heldout")
    quiet.done()
    assert capsys.readouterr().err == ""


def test_unwritable_out_is_a_clear_problem(runner, tmp_path: Path) -> None:
    out = tmp_path / "missing-folder" / "card.json"
    result = runner.invoke(main, ["check", str(EXAMPLE / "oracle.ac"), "--out", str(out)])
    assert result.exit_code == 2
    assert "cannot write the card: No such file or directory" in result.stderr


def test_negative_seed_is_a_usage_error(runner) -> None:
    result = runner.invoke(main, ["check", str(EXAMPLE / "oracle.ac"), "--seed", "-1"])
    assert result.exit_code == 2 and "--seed" in result.stderr


def test_show_renders_a_saved_card_like_check(runner, tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    checked = runner.invoke(main, ["check", str(EXAMPLE / "safelora.ac"), "--out", str(out)])
    shown = runner.invoke(main, ["show", str(out)])
    assert shown.exit_code == checked.exit_code == 1
    assert shown.stdout == checked.stdout
    markdown = runner.invoke(main, ["show", "--format", "markdown", str(out)])
    assert "| (c) mechanism | **fail** |" in markdown.stdout


def test_reproduce_a_submitted_card(runner, tmp_path: Path, example_copy: Path) -> None:
    out = tmp_path / "card.json"
    runner.invoke(main, ["check", str(example_copy / "oracle.ac"), "--out", str(out)])
    same = runner.invoke(main, ["reproduce", str(example_copy / "oracle.ac"), str(out)])
    assert same.exit_code == 0 and "reproduced byte for byte" in same.stdout
    tampered = json.loads(out.read_text())
    tampered["diagnostics"]["reliability"]["delta_gap"]["ci_high"] = -0.5
    out.write_text(json.dumps(tampered, indent=2) + "\n")
    caught = runner.invoke(main, ["reproduce", str(example_copy / "oracle.ac"), str(out)])
    assert caught.exit_code == 2
    assert "$.diagnostics.reliability.delta_gap.ci_high is -0.5" in caught.stderr


def test_reproduce_notices_changed_data(runner, tmp_path: Path, example_copy: Path) -> None:
    out = tmp_path / "card.json"
    runner.invoke(main, ["check", str(example_copy / "oracle.ac"), "--out", str(out)])
    data = example_copy / "data" / "oracle" / "flattery.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    rows[-1]["correct"] = 1 - rows[-1]["correct"]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(main, ["reproduce", str(example_copy / "oracle.ac"), str(out)])
    assert result.exit_code == 1
    assert "the data changed since the card was made: data/oracle/flattery.jsonl" in result.stdout
    assert "no differences" not in result.stdout


def test_the_readme_shows_the_example_card_as_check_prints_it(runner) -> None:
    from conftest import ROOT

    spec = ROOT / "examples" / "installed_gap" / "example" / "seed0_safelora" / "claim.ac"
    result = runner.invoke(main, ["check", str(spec)])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert result.exit_code == 1
    assert f"```\n{result.stdout}```" in readme


def test_convert_keeps_every_explicitly_written_setting(runner, example_copy: Path) -> None:
    import yaml

    spec = example_copy / "written.ac"
    original = (example_copy / "oracle.ac").read_text()
    assert "settings {" not in original
    spec.write_text(
        original.rstrip().removesuffix("}")
        + "  settings {\n    resamples 5000\n    seed 0\n    tau_fresh 0.7\n  }\n}\n"
    )
    as_yaml = runner.invoke(main, ["convert", str(spec), "--to", "yaml"]).stdout
    assert yaml.safe_load(as_yaml)["claim"]["settings"] == {
        "resamples": 5000,
        "seed": 0,
        "tau_fresh": 0.7,
    }
    converted = example_copy / "written.yaml"
    converted.write_text(as_yaml)
    back = runner.invoke(main, ["convert", str(converted), "--to", "ac"]).stdout
    assert "    resamples 5000\n    seed 0\n    tau_fresh 0.7\n" in back
