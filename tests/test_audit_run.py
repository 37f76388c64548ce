"""Running an audit: the same bytes in-process, on a pool and on a dask cluster; the cache;
cells that fail or crash their worker; exit codes; the rows for notebooks; the miniature's
golden summary."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from accompiler import audit
from accompiler._resources import load_schema
from accompiler.audit import AuditResult, Event
from accompiler.cli import main
from conftest import GOLDEN, ROOT, SPECS

AUDIT = SPECS / "audit.ac"
MINIATURE = ROOT / "examples" / "installed_gap" / "example"
THREE = ("oracle.ac", "weight_decay.ac", "safelora.ac")


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def reference(example_audit: Path) -> dict[str, bytes]:
    return files(example_audit)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of specs/example that a test may change."""
    return Path(shutil.copytree(SPECS / "example", tmp_path / "example"))


def test_an_audit_writes_every_card_summary_figure_and_report(reference) -> None:
    assert sorted(reference) == [
        "cards/oracle_seed0.card.json",
        "cards/oracle_seed1.card.json",
        "cards/safelora_relabel.card.json",
        "cards/safelora_seed0.card.json",
        "cards/safelora_seed1.card.json",
        "cards/weight_decay_seed0.card.json",
        "cards/weight_decay_seed1.card.json",
        "figures/bootstrap.png",
        "figures/bootstrap.svg",
        "figures/signature.png",
        "figures/signature.svg",
        "report.html",
        "summary.csv",
        "summary.json",
        "summary.md",
        "summary.tex",
    ]
    summary = json.loads(reference["summary.json"])
    assert list(Draft202012Validator(load_schema("audit.v1")).iter_errors(summary)) == []
    for row in summary["cells"]:
        card = reference[row["card"]["file"]]
        assert json.loads(card)["claim"]["defense"] == row["defense"]


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    schema = load_schema("audit.v1")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("audit.v1")


def test_a_pool_gives_the_bytes_of_one_process(runner, reference, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, ["audit", str(AUDIT), "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert files(out) == reference


def test_a_dask_cluster_gives_the_bytes_of_one_process(runner, reference, tmp_path: Path) -> None:
    from distributed import LocalCluster

    out = tmp_path / "out"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        args = ["--executor", "dask", "--scheduler", cluster.scheduler_address]
        result = runner.invoke(main, ["audit", str(AUDIT), *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert files(out) == reference


def test_dask_needs_a_scheduler_it_can_reach(runner) -> None:
    result = runner.invoke(main, ["audit", str(AUDIT), "--executor", "dask"])
    assert result.exit_code == 2 and "needs --scheduler ADDRESS" in result.stderr
    refused = ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", "--jobs", "2"]
    result = runner.invoke(main, ["audit", str(AUDIT), *refused])
    assert result.exit_code == 2 and "--jobs applies to the local executor" in result.stderr


def test_the_cache_reuses_unchanged_cells_and_recomputes_a_changed_one(
    runner, example: Path, tmp_path: Path
) -> None:
    cache, specs = tmp_path / "cache", [str(example / name) for name in THREE]

    def run(out: str) -> dict[str, object]:
        args = ["audit", *specs, "--cache", str(cache), "--out", str(tmp_path / out)]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        return json.loads((tmp_path / out / "summary.json").read_text())

    first, second = run("first"), run("second")
    assert [r["reused"] for r in first["cells"]] == [False, False, False]
    assert [r["reused"] for r in second["cells"]] == [True, True, True]
    assert second["counts"]["reused"] == 3
    assert files(tmp_path / "first" / "cards") == files(tmp_path / "second" / "cards")
    records = example / "data" / "oracle" / "heldout.jsonl"
    records.write_bytes(records.read_bytes().replace(b'"correct": 1}', b'"correct": 0}', 1))
    third = run("third")
    assert [r["reused"] for r in third["cells"]] == [False, True, True]
    assert third["cells"][0]["card"]["sha256"] != first["cells"][0]["card"]["sha256"]
    assert third["cells"][1:] == first["cells"][1:] or [
        {k: v for k, v in r.items() if k != "reused"} for r in third["cells"][1:]
    ] == [{k: v for k, v in r.items() if k != "reused"} for r in first["cells"][1:]]


def test_a_cache_entry_that_does_not_fit_is_recomputed(example: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = audit(str(example / "oracle.ac"), cache=cache, figures=None)
    entry = next(cache.rglob("*.card.json"))
    entry.write_text(entry.read_text().replace('"pass"', '"fail"'), encoding="utf-8")
    again = audit(str(example / "oracle.ac"), cache=cache, figures=None)
    assert again.summary["counts"]["reused"] == 0
    assert again.texts == first.texts


def test_a_second_audit_with_the_cache_reuses_the_figures(example: Path, tmp_path: Path) -> None:
    cache, specs = tmp_path / "cache", [str(example / name) for name in THREE]
    first = audit(specs, cache=cache)
    assert len(list((cache / "figures").rglob("*.svg"))) == 2
    stamps = {p: p.stat().st_mtime_ns for p in (cache / "figures").rglob("*.svg")}
    again = audit(specs, cache=cache)
    assert again.figures == first.figures
    assert {p: p.stat().st_mtime_ns for p in (cache / "figures").rglob("*.svg")} == stamps


def killer(cell: str, times: int) -> tuple[list[int], object]:
    """An on_event hook that kills the worker that has just been handed `cell`."""
    killed: list[int] = []

    def on_event(event: Event) -> None:
        if event.kind == "started" and event.cell == cell and len(killed) < times:
            os.kill(event.pid, signal.SIGKILL)
            killed.append(event.pid)

    return killed, on_event


def test_a_cell_whose_worker_is_killed_is_retried(example: Path) -> None:
    specs = [str(example / name) for name in THREE]
    killed, on_event = killer("weight_decay", 1)
    result = audit(specs, jobs=2, figures=None, on_event=on_event)  # type: ignore[arg-type]
    assert len(killed) == 1
    assert result.complete
    assert result.texts == audit(specs, figures=None).texts


def test_a_cell_that_kills_its_worker_twice_is_reported(runner, example: Path) -> None:
    specs = [str(example / name) for name in THREE]
    killed, on_event = killer("weight_decay", 2)
    result = audit(specs, jobs=2, figures=None, on_event=on_event)  # type: ignore[arg-type]
    assert len(killed) == 2 and not result.complete
    rows = {r["cell"]: r for r in result.summary["cells"]}
    assert rows["weight_decay"]["status"] == "crashed"
    assert "killed by signal 9, twice" in rows["weight_decay"]["problems"][0]["summary"]
    assert [rows[c]["status"] for c in ("oracle", "safelora")] == ["computed", "computed"]


def test_a_failing_cell_is_reported_and_the_others_computed(
    runner, example: Path, tmp_path: Path
) -> None:
    broken = example / "broken.ac"
    broken.write_text(
        (example / "oracle.ac").read_text().replace("data/oracle/fresh", "data/oracle/frsh")
    )
    out = tmp_path / "out"
    args = ["audit", str(example / "oracle.ac"), str(broken), "--out", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert "2 cells: 1 computed, 1 could not be computed" in result.stdout
    assert "could not be computed (failed): path `data/oracle/frsh.jsonl` does not exist" in (
        result.stdout
    )
    assert f"--> {broken}:16:10" in result.stderr
    row = json.loads((out / "summary.json").read_text())["cells"][1]
    assert row["status"] == "failed" and row["card"] is None
    assert row["problems"][0]["location"] == f"{broken}:16:10"
    assert sorted(p.name for p in (out / "cards").iterdir()) == ["oracle.card.json"]


@pytest.mark.parametrize(
    ("specs", "require", "code"),
    [
        (("oracle.ac",), "strict", 0),
        (("oracle.ac", "safelora.ac"), "strict", 1),
        (("oracle.ac", "safelora.ac"), None, 0),
        (("safelora_relabel.ac",), "permissive", 1),
    ],
)
def test_require_turns_verdicts_into_the_exit_code(
    runner, specs: tuple[str, ...], require: str | None, code: int
) -> None:
    args = [str(SPECS / "example" / s) for s in specs]
    args += ["--require", require] if require else []
    result = runner.invoke(main, ["audit", *args])
    assert result.exit_code == code, result.output


def test_overrides_reach_every_cell(runner, tmp_path: Path) -> None:
    spec = str(SPECS / "example" / "oracle.ac")
    args = ["audit", spec, "--set", "tau_fresh=0.9", "--seed", "3", "--out", str(tmp_path)]
    result = runner.invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overrides"] == {"tau_fresh": 0.9, "seed": 3}
    card = json.loads((tmp_path / "cards" / "oracle.card.json").read_text())
    assert card["settings"]["thresholds"]["tau_fresh"] == 0.9
    assert card["settings"]["bootstrap"]["seed"] == 3


def test_rows_and_a_data_frame_for_notebooks() -> None:
    result = audit([str(SPECS / "example" / s) for s in THREE], figures=None)
    rows = result.rows
    assert [r["cell"] for r in rows] == ["oracle", "weight_decay", "safelora"]
    assert rows[0]["strict"] is True and rows[2]["mechanism"] == "fail"
    assert rows[1]["delta_gap_low"] <= rows[1]["delta_gap"] <= rows[1]["delta_gap_high"]
    frame = result.frame
    assert list(frame["cell"]) == ["oracle", "weight_decay", "safelora"]
    assert list(frame.columns) == list(rows[0])


def test_python_dash_m_runs_an_audit(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = str(SPECS / "example" / "oracle.ac")
    done = subprocess.run(
        [sys.executable, "-m", "accompiler", "audit", spec, "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith("oracle,")


MINIATURE_TITLE = "The installed-gap miniature (committed cells)"


@pytest.fixture(scope="module")
def miniature() -> AuditResult:
    """The committed cells of the installed-gap miniature, globbed with captures."""
    pattern = str(MINIATURE / "seed{seed}_{defense}" / "claim.ac")
    return audit(pattern, title=MINIATURE_TITLE, figures=("svg",))


@pytest.mark.parametrize("output_format", ["json", "csv", "markdown", "latex", "html"])
def test_the_miniature_summary(miniature: AuditResult, output_format: str, golden) -> None:
    """The golden summary of the miniature (the HTML's figures are checked in a browser)."""
    text = miniature.render(output_format)
    if output_format == "html":
        text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,…", text)
    suffix = {"markdown": "md", "latex": "tex"}.get(output_format, output_format)
    golden(GOLDEN / "audit" / f"installed_gap.summary.{suffix}", text)


def test_the_miniature_on_the_command_line(runner, miniature: AuditResult, golden) -> None:
    pattern = str(MINIATURE / "seed{seed}_{defense}" / "claim.ac")
    result = runner.invoke(main, ["audit", pattern, "--title", MINIATURE_TITLE])
    assert result.exit_code == 0, result.output
    assert result.stdout == miniature.render("text") + "\n"
    golden(GOLDEN / "audit" / "installed_gap.summary.txt", result.stdout)
    names = [row["cell"] for row in miniature.summary["cells"]]
    assert names == ["seed0_oracle_1", "seed0_safelora", "seed0_weight_decay_1"]
    assert [row["seed"] for row in miniature.summary["cells"]] == [0, 0, 0]


def test_without_matplotlib_the_report_says_how_to_get_figures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from accompiler.audit import plots

    monkeypatch.setattr(plots, "plots_available", lambda: False)
    result = audit(str(SPECS / "example" / "oracle.ac"), out=tmp_path)
    assert result.figures == {} and not (tmp_path / "figures").exists()
    assert "pip install &#x27;accard[plots]&#x27;" in (tmp_path / "report.html").read_text()


def test_the_progress_line_counts_cells_and_failures_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from accompiler.cli import audit as audit_command

    monkeypatch.setattr(audit_command.sys.stderr, "isatty", lambda: True, raising=False)
    progress = audit_command._Progress()
    progress(Event("started", "a", 0, 3, pid=1))
    progress(Event("done", "a", 0, 3, status="computed"))
    progress(Event("done", "b", 1, 3, status="failed"))
    progress.done()
    shown = capsys.readouterr().err
    assert "1/3 cells done, 0 failed, ETA" in shown and "2/3 cells done, 1 failed" in shown
    assert shown.endswith("\r\x1b[2K")
