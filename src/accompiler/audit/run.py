"""Audit -> results: every cell through an executor, the summary, and (with `out`) the cards,
the summary in every format, the figures and the HTML report, written atomically."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._resources import load_schema
from ..canonical import dumps
from ..card import Card
from ..claim.settings import apply_overrides
from ..files import write_text_atomic
from ..problems import Problem, SpecError
from ..span import Span
from . import executors, html, plots, tables
from .cell import COMPUTED, job
from .load import is_audit_file, load_audit, load_specs
from .model import Audit
from .summary import card_files, flat_rows, summarize


@dataclass(frozen=True)
class Event:
    """Progress: a cell `started` (on worker `pid`) or `done` (with its result status)."""

    kind: str
    cell: str
    index: int
    total: int
    pid: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class AuditResult:
    """A finished audit: its summary (audit.v1), each computed cell's card, the problems of
    each cell that could not be computed, and the figures (when matplotlib is installed)."""

    summary: dict[str, Any]
    cards: dict[str, Card]
    texts: dict[str, str] = field(default_factory=dict)
    """Each computed card's bytes (as text), exactly as written."""
    problems: dict[str, str] = field(default_factory=dict)
    tracebacks: dict[str, str] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per cell (the CSV's columns)."""
        return flat_rows(self.summary)

    @property
    def frame(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError(
                "audit rows as a DataFrame need pandas: pip install pandas"
            ) from error
        return pandas.DataFrame(self.rows)

    @property
    def complete(self) -> bool:
        """Every cell was computed."""
        return bool(self.summary["counts"]["failed"] == 0)

    def passes(self, require: str) -> bool:
        """Every cell passes under `require` ("strict" or "permissive")."""
        return all(bool(row[require] and row[require]["pass"]) for row in self.summary["cells"])

    def render(self, output_format: str) -> str:
        """The summary as text, json, csv, markdown, latex or html."""
        if output_format == "json":
            return dumps(self.summary)
        if output_format == "html":
            return html.report(self.summary, self.figures, _figure_note(self.figures))
        renderers: dict[str, Callable[[dict[str, Any]], str]] = {
            "text": tables.text,
            "csv": tables.csv_text,
            "markdown": tables.markdown,
            "latex": tables.latex,
        }
        return renderers[output_format](self.summary)


OUTPUTS = {
    "summary.json": "json",
    "summary.csv": "csv",
    "summary.md": "markdown",
    "summary.tex": "latex",
    "report.html": "html",
}


def audit(
    specs: str | Path | Sequence[str | Path],
    *,
    out: str | Path | None = None,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    cache: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    option_names: Mapping[str, str] | None = None,
    title: str | None = None,
    figures: bool = True,
    on_event: Callable[[Event], None] | None = None,
) -> AuditResult:
    """Check many claims: an audit file, or claim specs and globs; return the summary.

    Args:
        specs: one audit file, or claim specs and glob patterns (`cells/*/claim.ac`,
            `cells/seed{seed}_{defense}/claim.ac` to capture parameters from paths).
        out: a folder for every card (`cards/`), the summary (json, csv, md, tex), the
            figures (`figures/`, with matplotlib) and `report.html`.
        jobs: worker processes for the local executor (1: in this process).
        executor: "local" or "dask" (a dask.distributed cluster at `scheduler`).
        scheduler: the dask scheduler's address, e.g. "tcp://10.0.0.5:8786".
        cache: a folder of cards by content: unchanged cells are reused, not recomputed.
        overrides: settings that replace every cell's (and the audit file's), checked as a
            claim's own settings.
        option_names: how problems name each override (the CLI passes "--seed").
        title: the title of an audit of claim specs (an audit file has its own).
        figures: draw the two figures (when matplotlib is installed).
        on_event: called as each cell starts and finishes (a progress display).

    Raises:
        accompiler.problems.SpecError: the audit file, a path, a glob or an override is wrong.
    """
    loaded = _load(specs, title)
    merged = _overrides(loaded, overrides or {}, option_names or {})
    cache_dir = Path(cache).resolve() if cache is not None else None
    work = [
        job(c, loaded.sha256, merged, dict(option_names or {}), cache_dir) for c in loaded.cells
    ]
    results = _execute(loaded, work, jobs, executor, scheduler, on_event)
    summary = summarize(loaded, results, merged)
    _validate(summary)
    cards = {r["cell"]: Card(json.loads(r["card"])) for r in results if r["status"] == COMPUTED}
    drawn = {}
    if figures and plots.plots_available():
        drawn = plots.figure_bytes(summary, {k: c.document for k, c in cards.items()}, cache_dir)
    result = AuditResult(
        summary,
        cards,
        {r["cell"]: r["card"] for r in results if r["status"] == COMPUTED},
        {r["cell"]: r["rendered"] for r in results if r["status"] != COMPUTED},
        {r["cell"]: r["traceback"] for r in results if r.get("traceback")},
        drawn,
    )
    if out is not None:
        write_outputs(result, Path(out))
    return result


def _load(specs: str | Path | Sequence[str | Path], title: str | None) -> Audit:
    given = [specs] if isinstance(specs, (str, Path)) else list(specs)
    if not given:
        raise SpecError([Problem("no claim specs or audit file given")])
    first = Path(given[0])
    if len(given) == 1 and is_audit_file(first):
        return load_audit(first)[0]
    return load_specs([str(s) for s in given], Path.cwd(), title)


def _overrides(
    loaded: Audit, overrides: Mapping[str, Any], names: Mapping[str, str]
) -> dict[str, Any]:
    from ..claim import Settings

    _settings, faults = apply_overrides(Settings(), overrides)
    if faults:
        problems = [
            Problem(fault, Span(names.get(name, name), 0), field=names.get(name, name))
            for name, fault in faults.items()
        ]
        raise SpecError(problems)
    return {**loaded.overrides, **overrides}


def _execute(
    loaded: Audit,
    work: list[dict[str, Any]],
    jobs: int,
    executor: str,
    scheduler: str | None,
    on_event: Callable[[Event], None] | None,
) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * len(work)
    notify = on_event or (lambda _event: None)
    names = [c.name for c in loaded.cells]

    def started(index: int, pid: int) -> None:
        notify(Event("started", names[index], index, len(names), pid))

    def done(index: int, result: dict[str, Any]) -> None:
        results[index] = result
        notify(Event("done", names[index], index, len(names), status=result["status"]))

    if executor == "dask":
        if not scheduler:
            raise SpecError([Problem("the dask executor needs --scheduler ADDRESS")])
        executors.run_dask(work, scheduler, started, done)
    elif executor != "local":
        raise SpecError([Problem(f"unknown executor `{executor}`", None, "local or dask")])
    elif jobs > 1 and len(work) > 1:
        executors.run_pool(work, jobs, started, done)
    else:
        executors.run_here(work, started, done)
    return [r for r in results if r is not None]


def _validate(summary: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    errors = list(Draft202012Validator(load_schema("audit.v1")).iter_errors(summary))
    if errors:
        raise ValueError(f"the audit summary does not match its schema: {errors[0].message}")


def write_outputs(result: AuditResult, out: Path) -> None:
    """Every card, every summary format and the figures under `out` (each atomically)."""
    (out / "cards").mkdir(parents=True, exist_ok=True)
    files = card_files([row["cell"] for row in result.summary["cells"]])
    for name, text in result.texts.items():
        write_text_atomic(out / files[name], text)
    for name, output_format in OUTPUTS.items():
        write_text_atomic(out / name, result.render(output_format))
    if result.figures:
        (out / "figures").mkdir(exist_ok=True)
        for name, data in result.figures.items():
            plots.write_bytes_atomic(out / "figures" / name, data)


def _figure_note(figures: dict[str, bytes]) -> str:
    if figures:
        return ""
    return "The figures need matplotlib: pip install 'accard[plots]'."
