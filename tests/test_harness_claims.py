"""Claims on real harness output (tests/fixtures/harness/, written by lm-evaluation-harness
and inspect_ai): record formats mixed per data set, folders and globs resolved to exact
files by the plan, ambiguity refused with the candidates listed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from accompiler import check
from accompiler.canonical import dumps
from accompiler.cli import main
from conftest import FIXTURES, ROOT

HARNESS = FIXTURES / "harness"

MIXED = """accard 1
claim "mixed: lm-eval held-out, inspect fresh, canonical transfer" {{
  defense "stand-in" {{
    mechanism shrinkage
  }}
  model "accard-fixtures/sandbagger"
  heldout "sandbag" {{
    records lm_eval {{
      correct "acc"
    }}
{heldout}
  }}
  fresh {{
    records inspect {{
      correct "scores.choice.value"
    }}
    undefended "inspect/*_sandbag_*.eval"
    defended "inspect/*_sandbag_*.json"
  }}
  transfer "audit cue" {{
    file "canonical/transfer_audit.csv"
  }}
}}
"""
GLOBS = "\n".join(
    f'    {arm} "lm_eval/*-{arm}/samples_sandbag_{condition}_*.jsonl" {{\n'
    f"      condition {condition}\n    }}"
    for arm in ("undefended", "defended")
    for condition in ("deploy", "eval")
)


@pytest.fixture
def harness(tmp_path: Path) -> Path:
    shutil.copytree(HARNESS, tmp_path / "h")
    return tmp_path / "h"


def _write(folder: Path, heldout: str = GLOBS) -> Path:
    spec = folder / "mixed.ac"
    spec.write_text(MIXED.format(heldout=heldout), encoding="utf-8")
    return spec


def test_a_claim_mixes_record_formats_per_data_set(harness: Path) -> None:
    card = check(_write(harness))
    formats = {d["key"]: d["records_format"] for d in card["datasets"]}
    assert formats == {"heldout": "lm_eval", "fresh": "inspect", "transfer:audit cue": "canonical"}
    d = card["diagnostics"]
    assert card["precondition"]["installed"] is True
    assert d["reliability"]["status"] == "pass"
    assert d["transfer"]["status"] == "pass"
    # the fixtures' README: held-out gap +0.812 and Δgap -0.792 (lm-eval), fresh Δgap -0.600
    assert card["precondition"]["installed_gap"]["estimate"] == pytest.approx(0.8125)
    assert d["reliability"]["delta_gap"]["estimate"] == pytest.approx(-0.7916666666667)
    assert d["fresh_generalization"]["delta_gap"]["estimate"] == pytest.approx(-0.6)


def test_globs_resolve_to_exact_files_in_the_plan_and_card(harness: Path) -> None:
    card = check(_write(harness))
    records = [i for i in card["inputs"] if i["role"].startswith("records/heldout")]
    assert [i["role"] for i in records] == [
        "records/heldout/undefended@deploy",
        "records/heldout/undefended@eval",
        "records/heldout/defended@deploy",
        "records/heldout/defended@eval",
    ]
    for item in records:
        assert "*" not in item["path"] and (harness / item["path"]).is_file()
    fresh = [i["path"] for i in card["inputs"] if i["role"].startswith("records/fresh")]
    assert fresh[0].endswith(".eval") and fresh[1].endswith(".json")


def test_the_card_does_not_depend_on_how_the_files_were_named(harness: Path) -> None:
    """The same files named by glob or by exact path give the same card (but the inputs)."""
    by_glob = check(_write(harness)).document
    exact = "\n".join(
        f'    {i["role"].split("/")[2].split("@")[0]} "{i["path"]}" {{\n'
        f"      condition {i['role'].split('@')[1]}\n    }}"
        for i in by_glob["inputs"]
        if i["role"].startswith("records/heldout")
    )
    by_name = check(_write(harness, exact)).document
    assert dumps(by_name) == dumps(by_glob)


def test_a_rerun_beside_the_first_is_ambiguous(harness: Path, runner) -> None:
    run = next((harness / "lm_eval").glob("*-undefended"))
    first = next(run.glob("samples_sandbag_eval_*.jsonl"))
    rerun = run / first.name.replace("2026", "2027", 1)
    shutil.copy(first, rerun)
    result = runner.invoke(main, ["plan", str(_write(harness))])
    assert result.exit_code == 2
    assert "is ambiguous: 2 runs for one arm and condition" in result.stderr
    assert first.name in result.stderr and rerun.name in result.stderr
    assert "mixed.ac:14:16" in result.stderr  # the undefended eval entry


def test_a_folder_names_its_harness_files(harness: Path, runner) -> None:
    """`file` may name a run folder: its record files, not the tool's other outputs."""
    spec = harness / "folder.ac"
    spec.write_text(
        'accard 1\nclaim "c" {\n  defense "d" {\n    mechanism shrinkage\n  }\n  model "m"\n'
        '  records inspect {\n    correct "scores.choice.value"\n  }\n'
        '  heldout "h" {\n    undefended "inspect"\n    defended "canonical"\n  }\n}\n'
    )
    result = runner.invoke(main, ["plan", "--json", str(spec)])
    assert result.exit_code == 2
    assert "path `canonical` is a folder with no inspect record file" in result.stderr
    assert "inspect writes <timestamp>_<task>_<id>.eval (or .json) logs" in result.stderr


def test_a_pattern_that_matches_nothing_is_a_located_problem(harness: Path, runner) -> None:
    heldout = GLOBS.replace("samples_sandbag_eval_*", "samples_sandbag_evaluation_*")
    result = runner.invoke(main, ["check", str(_write(harness, heldout))])
    assert result.exit_code == 2
    assert "is a pattern with no lm_eval record file" in result.stderr
    assert result.stdout == ""


def test_convert_keeps_each_data_sets_records(harness: Path, runner) -> None:
    spec = _write(harness)
    as_yaml = runner.invoke(main, ["convert", str(spec), "--to", "yaml"]).stdout
    import yaml

    claim = yaml.safe_load(as_yaml)["claim"]
    assert claim["heldout"]["records"] == {"format": "lm_eval"}
    assert claim["fresh"]["records"] == {"format": "inspect", "correct": "scores.choice.value"}
    assert "records" not in claim["transfer"][0]
    converted = harness / "mixed.yaml"
    converted.write_text(as_yaml)
    plans = [runner.invoke(main, ["plan", "--json", str(p)]).stdout for p in (spec, converted)]
    assert plans[0] == plans[1] and json.loads(plans[0])["plan_version"] == "1"


def test_the_plan_names_each_data_sets_format_when_they_differ(harness: Path, runner) -> None:
    mixed = runner.invoke(main, ["plan", str(_write(harness))])
    assert mixed.exit_code == 0, mixed.output
    header = "records held-out lm_eval, fresh inspect, `audit cue` canonical"
    assert header in mixed.stdout.splitlines()[2]
    single = runner.invoke(main, ["plan", str(ROOT / "specs" / "example" / "oracle.ac")])
    assert single.stdout.splitlines()[2].endswith("· records canonical")
