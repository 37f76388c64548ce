"""Data problems grouped by cause, as golden text, on real harness output
(tests/fixtures/harness/: lm-evaluation-harness samples, inspect_ai logs, a canonical CSV):
one problem per wrong mapping with the count of rows, the first rows, what the file holds
("did you mean") and the spec line of the mapping; and log-level `eval.*` field paths."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from accompiler import check
from accompiler.cli import main
from conftest import FIXTURES, GOLDEN

HARNESS = FIXTURES / "harness"
LM_EVAL = "\n".join(
    f'    {arm} "lm_eval/*-{arm}/samples_sandbag_{condition}_*.jsonl" {{\n'
    f"      condition {condition}\n    }}"
    for arm in ("undefended", "defended")
    for condition in ("deploy", "eval")
)
ARITH = "\n".join(
    f'    {arm} "lm_eval/*-{arm}/samples_sandbag_arith_*.jsonl"'
    for arm in ("undefended", "defended")
)
INSPECT_BY_FILE = (
    '    undefended "inspect/*_sandbag_*.eval"\n    defended "inspect/*_sandbag_*.json"'
)
INSPECT_BY_HEADER = '    file "inspect/*_sandbag_*.eval"\n    file "inspect/*_sandbag_*.json"'
SPEC = """accard 1
claim "real harness output, one mistake" {{
  defense "stand-in" {{
    mechanism shrinkage
  }}
  model "accard-fixtures/sandbagger"
  heldout "sandbag" {{
    records lm_eval {{
{heldout_map}
    }}
{heldout}
  }}
  fresh {{
    records inspect {{
{fresh_map}
    }}
{fresh}
  }}
  transfer "{transfer_name}" {{
    records {transfer_format} {{
{transfer_map}
    }}
{transfer}
  }}
}}
"""
GOOD = {
    "heldout_map": '      correct "acc"',
    "heldout": LM_EVAL,
    "fresh_map": '      correct "scores.choice.value"',
    "fresh": INSPECT_BY_FILE,
    "transfer_name": "audit cue",
    "transfer_format": "canonical",
    "transfer_map": '      correct "correct"',
    "transfer": '    file "canonical/transfer_audit.csv"',
}
ARITH_TARGET = {
    "transfer_name": "arithmetic",
    "transfer_format": "lm_eval",
    "transfer": ARITH,
}


def _bad_csv_values(folder: Path) -> None:
    """Real CSV rows given wrong values: an unknown condition in 3 rows, a score of 2 in
    one, an empty subject in 2 (a question then also has two subjects: not reported until
    the rows are valid)."""
    path = folder / "canonical" / "transfer_audit.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for number in (5, 9, 40):
        rows[number][3] = "deployed"
    rows[12][5] = "2"
    for number in (20, 21):
        rows[number][2] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


# name -> (what differs from GOOD, an edit of the copied fixtures)
CASES: dict[str, tuple[dict[str, str], Callable[[Path], None] | None]] = {
    "lm_eval_field_path": (
        {"heldout_map": '      question_id "doc.qid"\n      correct "acc"'},
        None,
    ),
    "lm_eval_metric": ({"heldout_map": '      correct "acc_nrm"'}, None),
    "lm_eval_filter_absent": (
        {"heldout_map": '      correct "acc"\n      filter "strict-match"'},
        None,
    ),
    "lm_eval_filter_misspelt": (
        {
            **ARITH_TARGET,
            "transfer_map": '      correct "exact_match"\n      filter "strict_match"',
        },
        None,
    ),
    "lm_eval_no_filter": ({**ARITH_TARGET, "transfer_map": '      correct "exact_match"'}, None),
    "inspect_scorer": ({"fresh_map": '      correct "scores.match.value"'}, None),
    "inspect_arm_missing": ({"fresh": INSPECT_BY_HEADER}, None),
    "inspect_header_path": (
        {
            "fresh": INSPECT_BY_HEADER,
            "fresh_map": '      correct "scores.choice.value"\n      arm "eval.task_args.arms"',
        },
        None,
    ),
    "canonical_column": ({"transfer_map": '      question_id "qid"'}, None),
    "canonical_values": ({}, _bad_csv_values),
}


def _stable(text: str) -> str:
    """The tools' timestamps and ids in file names (new at every regeneration of the
    fixtures) as placeholders, so the golden text holds only what accard wrote."""
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(\.\d+|-\d{2}-\d{2})", "<ts>", text)
    return re.sub(r"_sandbag_[A-Za-z0-9]{22}\.", "_sandbag_<id>.", text)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "h"
    shutil.copytree(HARNESS, folder)
    monkeypatch.chdir(folder)
    return folder


def _spec(folder: Path, **changes: str) -> Path:
    spec = folder / "claim.ac"
    spec.write_text(SPEC.format(**{**GOOD, **changes}), encoding="utf-8")
    return spec


@pytest.mark.parametrize("name", sorted(CASES))
def test_grouped_problem_text(name: str, harness: Path, runner, golden) -> None:
    changes, edit = CASES[name]
    if edit is not None:
        edit(harness)
    _spec(harness, **changes)
    result = runner.invoke(main, ["check", "claim.ac"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    golden(GOLDEN / "records" / f"{name}.txt", _stable(result.stderr))


def test_the_good_claim_passes_its_gates(harness: Path) -> None:
    """The cases above are this claim with one mistake each."""
    card = check(_spec(harness))
    assert card["diagnostics"]["reliability"]["status"] == "pass"


def test_the_arm_from_the_inspect_log_header(harness: Path) -> None:
    """`arm "eval.task_args.arm"` reads each log's task parameter: the same numbers as
    naming each log's arm in the spec."""
    by_file = check(_spec(harness)).document
    by_header = check(
        _spec(
            harness,
            fresh=INSPECT_BY_HEADER,
            fresh_map='      correct "scores.choice.value"\n      arm "eval.task_args.arm"',
        )
    ).document
    assert by_header["diagnostics"] == by_file["diagnostics"]
    assert by_header["datasets"] == by_file["datasets"]
    assert by_header["diagnostics"]["fresh_generalization"]["delta_gap"]["estimate"] == (
        pytest.approx(-0.6)
    )
    roles = [i["role"] for i in by_header["inputs"] if i["role"].startswith("records/fresh")]
    assert roles == ["records/fresh", "records/fresh"]


def test_a_header_value_that_is_no_arm_is_reported_per_log(harness: Path, runner) -> None:
    """A log-level path that exists but holds no arm: every row of that log, one problem."""
    _spec(
        harness,
        fresh=INSPECT_BY_HEADER,
        fresh_map='      correct "scores.choice.value"\n      arm "eval.task"',
    )
    result = runner.invoke(main, ["check", "claim.ac"])
    assert result.exit_code == 2
    assert "unknown arm in all 120 rows: 'sandbag'" in result.stderr
    assert " --> claim.ac:" in result.stderr  # the mapping, not a row
