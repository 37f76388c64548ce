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
from .cell import COMPUTED, cell_job
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

    def _figure_note(self) -> str:
        """Why the report has no figures, if it has none."""
        if self.figures:
            return ""
        if not plots.plots_available():
            return "The figures need matplotlib: pip install 'accard[plots]'."
        if not self.cards:
            return "No cell was computed: there is nothing to plot."
        return "The figures were not drawn (figures=None)."

    def render(self, output_format: str) -> str:
        """The summary as text, json, csv, markdown, latex or html."""
        if output_format == "json":
            return dumps(self.summary)
        if output_format == "html":
            return html.report(self.summary, self.figures, self._figure_note())
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
    figures: tuple[str, ...] | None = ("svg", "png"),
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
        figures: the formats to draw the two figures in (when matplotlib is installed),
            or None for no figures.
        on_event: called as each cell starts and finishes (a progress display).

    Raises:
        accompiler.problems.SpecError: the audit file, a path, a glob or an override is wrong.
    """
    loaded = _load(specs, title)
    merged = _overrides(loaded, overrides or {}, option_names or {})
    cache_dir = Path(cache).resolve() if cache is not None else None
    names = dict(option_names or {})
    work = [cell_job(c, loaded.sha256, merged, names, cache_dir) for c in loaded.cells]
    labels = [c.name for c in loaded.cells]
    with executors.open_executor(executor, jobs, scheduler) as run_jobs:
        results = _execute(run_jobs, work, labels, on_event)
        summary = summarize(loaded, results, merged)
        _validate(summary)
        texts = {r["cell"]: r["card"] for r in results if r["status"] == COMPUTED}
        cards = {name: Card(json.loads(text)) for name, text in texts.items()}
        drawn: dict[str, bytes] = {}
        if figures and plots.plots_available():
            documents = {name: card.document for name, card in cards.items()}
            drawn = _figures(run_jobs, plots.figure_jobs(summary, documents, figures), cache_dir)
    result = AuditResult(
        summary,
        cards,
        texts,
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
    run_jobs: executors.Executor,
    work: list[dict[str, Any]],
    labels: list[str],
    on_event: Callable[[Event], None] | None,
) -> list[dict[str, Any]]:
    """Results in the jobs' order, whatever order they finish in."""
    results: list[dict[str, Any] | None] = [None] * len(work)
    notify = on_event or (lambda _event: None)

    def started(index: int, pid: int) -> None:
        notify(Event("started", labels[index], index, len(work), pid))

    def done(index: int, result: dict[str, Any]) -> None:
        results[index] = result
        notify(Event("done", labels[index], index, len(work), status=result["status"]))

    run_jobs(work, started, done)
    return [r for r in results if r is not None]


def _figures(
    run_jobs: executors.Executor, work: list[dict[str, Any]], cache: Path | None
) -> dict[str, bytes]:
    """Both planes, drawn by the executor (in parallel on a pool), or from the cache."""
    found = [plots.cached(cache, job) if cache else None for job in work]
    missing = [job for job, hit in zip(work, found, strict=True) if hit is None]
    drawn = _execute(run_jobs, missing, [f"figure {j['figure']}" for j in missing], None)
    for job, result in zip(missing, drawn, strict=True):
        if result["status"] != COMPUTED:
            raise RuntimeError(f"drawing the {job['figure']} plane failed: {result['rendered']}")
        if cache is not None:
            plots.store(cache, job, result)
    return plots.figure_files([hit for hit in found if hit] + drawn)


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
