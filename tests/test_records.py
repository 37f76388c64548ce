"""Record readers and validation: every bad row is a problem naming file, row and field."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from accompiler.claim import load_spec
from accompiler.plan import compile_plan
from accompiler.problems import SpecError
from accompiler.run import run_plan
from conftest import FIXTURES

SPEC = """accard 1
claim "t" {{
  defense "D" {{
    mechanism shrinkage
  }}
  model "m"
{records}
  heldout "h" {{
{files}
  }}{extra}
}}
"""


def good_rows(questions: int = 3, templates: int = 2, subject: str = "s") -> list[dict]:
    rows = []
    for q in range(questions):
        for t in range(templates):
            for arm in ("undefended", "defended"):
                for condition in ("deploy", "eval"):
                    rows.append(
                        {
                            "question_id": f"q{q}",
                            "template_id": f"t{t}",
                            "subject": subject,
                            "condition": condition,
                            "arm": arm,
                            "correct": float((q + t) % 2),
                        }
                    )
    return rows


def jsonl(rows: list) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def run_spec(
    tmp_path: Path,
    files: dict[str, bytes | str],
    records: str = "",
    extra: str = "",
    data_lines: str | None = None,
) -> dict:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    names = data_lines or "\n".join(f'    file "{n}"' for n in files if n.startswith("h"))
    spec = tmp_path / "claim.ac"
    spec.write_text(SPEC.format(records=records, files=names, extra=extra))
    claim, _ = load_spec(spec)
    plan, _ = compile_plan(claim, tmp_path)
    return run_plan(plan, tmp_path).document


def problems_of(tmp_path: Path, files: dict[str, bytes | str], **kwargs) -> list:
    with pytest.raises(SpecError) as caught:
        run_spec(tmp_path, files, **kwargs)
    return [p for p in caught.value.problems if p.is_error]


def with_row(index: int, **changes) -> str:
    rows = good_rows()
    rows[index] = {**rows[index], **changes}
    return jsonl(rows)


BAD_JSONL = {
    "nan_score": (with_row(0, correct=float("nan")), r"score is NaN", 1, "correct"),
    "missing_score": (with_row(1, correct=None), r"score is missing", 2, "correct"),
    "score_above_one": (with_row(2, correct=1.5), r"score 1\.5 is outside \[0, 1\]", 3, "correct"),
    "score_below_zero": (with_row(3, correct=-0.1), r"score -0\.1 is outside", 4, "correct"),
    "score_text": (with_row(4, correct="yes"), r"score 'yes' is not a number", 5, "correct"),
    "unknown_condition": (
        with_row(5, condition="test"),
        r"unknown condition 'test'",
        6,
        "condition",
    ),
    "unknown_arm": (with_row(6, arm="treated"), r"unknown arm 'treated'", 7, "arm"),
    "missing_question": (
        with_row(7, question_id=None),
        r"missing `question_id`",
        8,
        "question_id",
    ),
    "empty_template": (
        with_row(8, template_id=""),
        r"missing `template_id`",
        9,
        "template_id",
    ),
    "fractional_question": (
        with_row(9, question_id=1.5),
        r"invalid `question_id` 1\.5",
        10,
        "question_id",
    ),
    "list_subject": (with_row(10, subject=["a"]), r"invalid `subject` \['a'\]", 11, "subject"),
    "not_an_object": (
        jsonl(good_rows()[:4] + ["[1, 2]"] + good_rows()[5:]),
        r"a row is not an object",
        5,
        "",
    ),
    "invalid_json": (
        jsonl(good_rows()[:2] + ["{oops"] + good_rows()[3:]),
        r"not valid JSON",
        3,
        "",
    ),
    "duplicate_item": (
        jsonl(good_rows() + [good_rows()[0]]),
        r"duplicate item \(question 'q0', "
        r"template 't0', deploy, undefended\)",
        25,
        "",
    ),
    "two_subjects": (
        with_row(4, subject="other"),
        r"question 'q0' has subject 'other' here and 's'",
        5,
        "subject",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_JSONL))
def test_bad_jsonl_row_names_file_row_and_field(tmp_path: Path, case: str) -> None:
    content, message, row, field = BAD_JSONL[case]
    (problem,) = problems_of(tmp_path, {"heldout.jsonl": content})
    assert problem.span.file == "heldout.jsonl"
    assert problem.span.line == row
    assert problem.field == field
    import re

    assert re.search(message, problem.summary), problem.summary


def test_missing_arm_counterpart(tmp_path: Path) -> None:
    rows = [
        r
        for r in good_rows()
        if not (r["question_id"] == "q1" and r["template_id"] == "t1" and r["arm"] == "defended")
    ]
    problems = problems_of(tmp_path, {"heldout.jsonl": jsonl(rows)})
    assert any(
        "(question 'q1', template 't1', deploy, undefended) has no defended counterpart"
        in p.summary
        for p in problems
    )


def test_question_lacking_a_cell(tmp_path: Path) -> None:
    rows = [r for r in good_rows() if not (r["question_id"] == "q2" and r["condition"] == "eval")]
    problems = problems_of(tmp_path, {"heldout.jsonl": jsonl(rows)})
    assert [p.summary for p in problems] == ["question 'q2' lacks undefended/eval, defended/eval"]


def test_empty_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, {"heldout.jsonl": "\n"})
    assert problem.summary == "the record file is empty"


def test_not_utf8(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, {"heldout.jsonl": b"\xff\xfe{}\n"})
    assert problem.summary.startswith("not UTF-8 text")


def test_csv_row_with_extra_values(tmp_path: Path) -> None:
    header = "question_id,template_id,subject,condition,arm,correct\n"
    lines = [",".join(str(v) for v in r.values()) for r in good_rows()]
    lines[3] += ",surplus"
    (problem,) = problems_of(tmp_path, {"heldout.csv": header + "\n".join(lines) + "\n"})
    assert (problem.summary, problem.span.line) == ("more values than header columns", 5)


def test_csv_nan_score(tmp_path: Path) -> None:
    header = "question_id,template_id,subject,condition,arm,correct\n"
    lines = [",".join(str(v) for v in r.values()) for r in good_rows()]
    lines[0] = lines[0].rsplit(",", 1)[0] + ",nan"
    (problem,) = problems_of(tmp_path, {"heldout.csv": header + "\n".join(lines) + "\n"})
    assert (problem.summary, problem.span.line, problem.field) == ("score is NaN", 2, "correct")


def _parquet(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def test_parquet_reads_like_jsonl(tmp_path: Path) -> None:
    rows = good_rows(4, 3)
    from_parquet = run_spec(tmp_path / "p", {"heldout.parquet": _parquet(rows)})
    from_jsonl = run_spec(tmp_path / "j", {"heldout.jsonl": jsonl(rows)})
    assert from_parquet["datasets"] == from_jsonl["datasets"]
    assert from_parquet["precondition"] == from_jsonl["precondition"]


def test_parquet_bad_score(tmp_path: Path) -> None:
    rows = good_rows()
    rows[6]["correct"] = 2.0
    (problem,) = problems_of(tmp_path, {"heldout.parquet": _parquet(rows)})
    assert (problem.summary, problem.span.line) == ("score 2.0 is outside [0, 1]", 7)


def test_one_cause_is_one_problem(tmp_path: Path) -> None:
    """Every row's score out of range: one problem, with the count and the first rows."""
    rows = [dict(r, correct=3) for r in good_rows()]
    (problem,) = problems_of(tmp_path, {"heldout.jsonl": jsonl(rows)})
    assert problem.summary == "score is outside [0, 1] in all 24 rows: 3"
    assert (problem.span.file, problem.span.line, problem.field) == ("heldout.jsonl", 1, "correct")
    assert problem.detail.endswith("rows: heldout.jsonl:1, 2, 3 and 21 more")


def test_file_changed_after_plan(tmp_path: Path) -> None:
    (tmp_path / "heldout.jsonl").write_text(jsonl(good_rows()))
    spec = tmp_path / "claim.ac"
    spec.write_text(SPEC.format(records="", files='    file "heldout.jsonl"', extra=""))
    claim, _ = load_spec(spec)
    plan, _ = compile_plan(claim, tmp_path)
    (tmp_path / "heldout.jsonl").write_text(jsonl(good_rows(4)))
    with pytest.raises(SpecError, match="changed after the plan"):
        run_plan(plan, tmp_path)


def test_fresh_subjects_must_be_disjoint(tmp_path: Path) -> None:
    extra = '\n  fresh {\n    file "fresh.jsonl"\n  }'
    problems = problems_of(
        tmp_path,
        {
            "heldout.jsonl": jsonl(good_rows(subject="law")),
            "fresh.jsonl": jsonl(good_rows(subject="law")),
        },
        extra=extra,
    )
    assert problems[0].summary == (
        "the fresh-subject records share 1 subject(s) with the held-out set: law"
    )
    assert problems[0].span.file == "fresh.jsonl"


def test_per_arm_files(tmp_path: Path) -> None:
    rows = good_rows(4, 3)
    files = {
        "u.jsonl": jsonl([r for r in rows if r["arm"] == "undefended"]),
        "d.jsonl": jsonl(
            [{k: v for k, v in r.items() if k != "arm"} for r in rows if r["arm"] == "defended"]
        ),
    }
    card = run_spec(
        tmp_path / "a", files, data_lines='    undefended "u.jsonl"\n    defended "d.jsonl"'
    )
    reference = run_spec(tmp_path / "b", {"heldout.jsonl": jsonl(rows)})
    assert card["datasets"] == reference["datasets"]


# --- files written by the real tools -----------------------------------------------------


def _copy_fixture(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def _direct_accuracy(rows: list[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    table: dict[tuple[str, str], list[float]] = {}
    for arm, condition, score in rows:
        table.setdefault((arm, condition), []).append(score)
    return {key: float(np.mean(v)) for key, v in table.items()}


def _card_accuracy(dataset: dict) -> dict[tuple[str, str], float]:
    return {(a, c): v for a, cs in dataset["accuracy"].items() for c, v in cs.items()}


def test_lm_eval_log_samples(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path, "lm_eval")
    files = {
        "undefended": "undefended/samples_accard_mc.jsonl",
        "defended": "defended/samples_accard_mc.jsonl",
    }
    lines = "\n".join(f'    {arm} "{path}"' for arm, path in files.items())
    card = run_spec(folder, {}, records="  records lm_eval", data_lines=lines)
    direct = []
    for arm, path in files.items():
        for line in (folder / path).read_text().splitlines():
            sample = json.loads(line)
            direct.append((arm, sample["doc"]["condition"], sample["acc"]))
    (heldout,) = card["datasets"]
    assert heldout["clusters"] == 4 and heldout["items"] == 32
    assert _card_accuracy(heldout) == pytest.approx(_direct_accuracy(direct))


def test_inspect_logs_eval_and_json(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path, "inspect")
    lines = '    undefended "undefended.eval"\n    defended "defended.json"'
    records = '  records inspect {\n    correct "scores.includes.value"\n  }'
    card = run_spec(folder, {}, records=records, data_lines=lines)
    import zipfile

    if sys.version_info < (3, 14):
        import zipfile_zstd  # noqa: F401 - the test's own reading of inspect's zstd members

    direct = []
    with zipfile.ZipFile(folder / "undefended.eval") as archive:
        for name in archive.namelist():
            if name.startswith("samples/"):
                sample = json.loads(archive.read(name))
                direct.append(
                    (
                        "undefended",
                        sample["metadata"]["condition"],
                        1.0 if sample["scores"]["includes"]["value"] == "C" else 0.0,
                    )
                )
    for sample in json.loads((folder / "defended.json").read_text())["samples"]:
        direct.append(
            (
                "defended",
                sample["metadata"]["condition"],
                1.0 if sample["scores"]["includes"]["value"] == "C" else 0.0,
            )
        )
    (heldout,) = card["datasets"]
    assert heldout["clusters"] == 4 and heldout["items"] == 32
    assert _card_accuracy(heldout) == pytest.approx(_direct_accuracy(direct))


def test_inspect_archive_that_is_not_a_zip(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, {"heldout.eval": b"not a zip"}, records="  records inspect")
    assert problem.summary == "not an inspect .eval archive (not a zip file)"


def test_inspect_json_without_samples(tmp_path: Path) -> None:
    (problem,) = problems_of(
        tmp_path,
        {"heldout.json": '{"version": 2, "status": "success"}'},
        records="  records inspect",
    )
    assert problem.summary.startswith("an inspect log without `samples`")


def test_lm_eval_sample_missing_doc_field(tmp_path: Path) -> None:
    lines = (
        (FIXTURES / "lm_eval" / "undefended" / "samples_accard_mc.jsonl").read_text().splitlines()
    )
    broken = json.loads(lines[2])
    del broken["doc"]["condition"]
    lines[2] = json.dumps(broken)
    problems = problems_of(
        tmp_path,
        {"heldout.jsonl": "\n".join(lines) + "\n"},
        records='  records lm_eval {\n    arm "doc.arm"\n  }',
    )
    # no row has doc.arm: the problem points at the mapping (`arm "doc.arm"` in the spec)
    assert problems[0].field == "doc.arm" and problems[0].summary.startswith("missing `arm` in all")
    assert problems[0].span.file.endswith(".ac") and problems[0].span.column > 0
    assert any(p.span.line == 3 and p.field == "doc.condition" for p in problems)


def test_deeply_nested_json_row_is_a_problem(tmp_path: Path) -> None:
    rows = jsonl(good_rows()).splitlines()
    rows[1] = "[" * 100_000 + "]" * 100_000
    (problem,) = problems_of(tmp_path, {"heldout.jsonl": "\n".join(rows) + "\n"})
    assert problem.summary.startswith("not valid JSON") and problem.span.line == 2


def test_integer_score_beyond_float_range(tmp_path: Path) -> None:
    content = with_row(3, correct=None).replace('"correct": null', '"correct": ' + "9" * 400, 1)
    (problem,) = problems_of(tmp_path, {"heldout.jsonl": content})
    assert problem.summary.startswith("score 999") and problem.summary.endswith("is not a number")


def test_condition_from_the_file(tmp_path: Path) -> None:
    """One file per (arm, condition), as separate lm-eval tasks per condition produce."""
    rows = good_rows(4, 3)
    files, lines = {}, []
    for arm in ("undefended", "defended"):
        for condition in ("deploy", "eval"):
            name = f"{arm}_{condition}.jsonl"
            files[name] = jsonl(
                [
                    {k: v for k, v in r.items() if k not in ("arm", "condition")}
                    for r in rows
                    if (r["arm"], r["condition"]) == (arm, condition)
                ]
            )
            lines.append(f'    {arm} "{name}" {{\n      condition {condition}\n    }}')
    card = run_spec(tmp_path / "a", files, data_lines="\n".join(lines))
    reference = run_spec(tmp_path / "b", {"heldout.jsonl": jsonl(rows)})
    assert card["datasets"] == reference["datasets"]
    roles = {i["role"] for i in card["inputs"]}
    assert roles == {
        "records/heldout/undefended@deploy",
        "records/heldout/undefended@eval",
        "records/heldout/defended@deploy",
        "records/heldout/defended@eval",
    }


def _two_filter_lm_eval(tmp_path: Path) -> Path:
    """The fixture as lm-eval writes it for a task with two filters: each doc twice."""
    folder = _copy_fixture(tmp_path, "lm_eval")
    for arm in ("undefended", "defended"):
        path = folder / arm / "samples_accard_mc.jsonl"
        lines = []
        for line in path.read_text().splitlines():
            sample = json.loads(line)
            lines.append(json.dumps(sample))
            lines.append(json.dumps({**sample, "filter": "flexible-extract", "acc": 1.0}))
        path.write_text("\n".join(lines) + "\n")
    return folder


LM_EVAL_FILES = (
    '    undefended "undefended/samples_accard_mc.jsonl"\n'
    '    defended "defended/samples_accard_mc.jsonl"'
)


def test_lm_eval_filter_selects_one_sample_per_doc(tmp_path: Path) -> None:
    folder = _two_filter_lm_eval(tmp_path / "two")
    problems = problems_of(folder, {}, records="  records lm_eval", data_lines=LM_EVAL_FILES)
    assert problems[0].summary.startswith("duplicate item")
    assert "choose one with `filter" in problems[0].detail
    chosen = run_spec(
        folder, {}, records='  records lm_eval {\n    filter "none"\n  }', data_lines=LM_EVAL_FILES
    )
    original = run_spec(
        _copy_fixture(tmp_path / "one", "lm_eval"),
        {},
        records="  records lm_eval",
        data_lines=LM_EVAL_FILES,
    )
    assert chosen["datasets"] == original["datasets"]


def test_lm_eval_filter_that_no_sample_has(tmp_path: Path) -> None:
    folder = _two_filter_lm_eval(tmp_path)
    problems = problems_of(
        folder,
        {},
        records='  records lm_eval {\n    filter "strict"\n  }',
        data_lines=LM_EVAL_FILES,
    )
    assert problems[0].summary == "no sample has filter 'strict' in 2 files"
    assert "the files hold filters 'flexible-extract', 'none'" in problems[0].detail


def test_filter_is_for_lm_eval_only(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="`filter` applies to lm_eval records only"):
        run_spec(
            tmp_path,
            {"heldout.jsonl": jsonl(good_rows())},
            records='  records canonical {\n    filter "none"\n  }',
        )


def test_no_installed_gap_makes_a_b_d_not_evaluable(tmp_path: Path) -> None:
    rows = good_rows(6, 4)  # correct depends on (question, template) only: no gap at all
    extra = (
        '\n  fresh {\n    file "fresh.jsonl"\n  }\n  transfer "t" {\n    file "transfer.jsonl"\n  }'
    )
    fresh = [dict(r, subject="other") for r in rows]
    card = run_spec(
        tmp_path,
        {"heldout.jsonl": jsonl(rows), "fresh.jsonl": jsonl(fresh), "transfer.jsonl": jsonl(rows)},
        extra=extra,
    )
    assert card["precondition"]["installed"] is False
    assert card["precondition"]["installed_gap"]["estimate"] == 0
    d = card["diagnostics"]
    for name in ("reliability", "fresh_generalization"):
        assert d[name]["status"] == "not_evaluable"
        assert "installed no gap" in d[name]["reason"]
    assert d["transfer"]["status"] == "not_evaluable"
    assert d["transfer"]["targets"][0]["reason"].startswith("the attack installed no gap on `t`")
    assert card["verdict"]["strict"]["not_evaluable"] == [
        "reliability",
        "fresh_generalization",
        "mechanism",
        "transfer",
    ]


def test_one_cluster_is_degenerate_not_a_crash(tmp_path: Path) -> None:
    card = run_spec(tmp_path, {"heldout.jsonl": jsonl(good_rows(1, 3))})
    assert card["precondition"] == {
        "installed_gap": None,
        "installed": False,
        "reason": "`h` has 1 question cluster; at least 2 needed",
    }
    assert card["diagnostics"]["reliability"]["status"] == "not_evaluable"


def test_few_clusters_are_warned(tmp_path: Path) -> None:
    card = run_spec(tmp_path, {"heldout.jsonl": jsonl(good_rows(3, 2))})
    assert (
        "`h` has 3 question clusters (fewer than 20): its intervals are unreliable"
        in card["warnings"]
    )


def test_parquet_of_one_long_string_repeated_is_refused_by_its_spelled_out_size(
    tmp_path: Path,
) -> None:
    """4 M rows of one 256-byte dictionary string: ~600 KB of Parquet, 16 MB as Arrow
    indices, 1 GiB spelled out: refused like a 1 GiB record file, at the row group."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 4_000_000
    zeros = pa.array(np.zeros(n, dtype=np.int32))
    table = pa.table(
        {
            "question_id": pa.DictionaryArray.from_arrays(zeros, pa.array(["x" * 256])),
            "template_id": pa.DictionaryArray.from_arrays(zeros, pa.array(["t0"])),
            "subject": pa.DictionaryArray.from_arrays(zeros, pa.array(["s"])),
            "condition": pa.DictionaryArray.from_arrays(zeros, pa.array(["deploy"])),
            "arm": pa.DictionaryArray.from_arrays(zeros, pa.array(["undefended"])),
            "correct": pa.array(np.zeros(n)),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=n, compression="zstd")
    (problem,) = problems_of(tmp_path, {"heldout.parquet": sink.getvalue()})
    # 4 M x 256 B of question ids + 4 M x 19 B of the other texts + five 16 MB index
    # columns + 32 MB of scores and their 0.5 MB validity bitmap
    assert problem.summary == (
        "the file's record columns decode to 1212500000 bytes; at most 1 GiB are read"
    )
    assert (problem.span.file, problem.span.line) == ("heldout.parquet", 1)
