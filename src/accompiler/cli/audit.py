"""`accard audit`: many claims in one run; and `accard plan AUDIT`, every cell's plan.

Exit 0 when every cell was computed (and, with --require, passes), 1 when a cell could not
be computed or does not pass as required, 2 when the audit file, a path, a glob or an
option is wrong (nothing is written), 3 on an internal error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from ._common import guard, option_overrides, write_or_fail

FORMATS = ["text", "json", "csv", "markdown", "latex", "html"]


@click.command()
@click.argument("specs", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every card, the summary (json, csv, md, tex), figures and report.html here.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, help="Worker processes.")
@click.option(
    "--executor", type=click.Choice(["local", "dask"]), default="local", help="Where cells run."
)
@click.option("--scheduler", metavar="ADDRESS", help="The dask scheduler (with --executor dask).")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Reuse the card of any cell whose spec, inputs, settings and accard are unchanged.",
)
@click.option(
    "--require",
    type=click.Choice(["strict", "permissive"]),
    help="Exit 1 unless every cell passes so.",
)
@click.option(
    "--format",
    "output_format",
    default="text",
    type=click.Choice(FORMATS),
    help="How to print the summary on stdout.",
)
@click.option("--title", help="The title of an audit of claim specs.")
@click.option("--seed", type=int, help="Override every cell's bootstrap seed.")
@click.option("--resamples", type=int, help="Override every cell's B.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a setting of every cell (repeatable), checked as a spec's own.",
)
@guard
def audit(
    specs: tuple[str, ...],
    out: Path | None,
    jobs: int,
    executor: str,
    scheduler: str | None,
    cache: Path | None,
    require: str | None,
    output_format: str,
    title: str | None,
    seed: int | None,
    resamples: int | None,
    assignments: tuple[str, ...],
) -> None:
    """Check every claim of an audit file, or the claim SPECS and globs given (quote a glob:
    'cells/*/claim.ac'; `{name}` in a glob captures a hyper-parameter from the path).

    Exit 0 when every cell was computed, 1 when a cell could not be (or, with --require,
    does not pass), 2 when the audit or an option is wrong, 3 on an internal error.
    """
    from ..audit import audit as run_audit

    if executor == "dask" and jobs != 1:
        raise click.UsageError("--jobs applies to the local executor; dask has its workers")
    overrides, names = option_overrides(seed, resamples, assignments)
    progress = _Progress()
    try:
        result = run_audit(
            list(specs),
            jobs=jobs,
            executor=executor,
            scheduler=scheduler,
            cache=cache,
            overrides=overrides,
            option_names=names,
            title=title,
            figures=_figure_formats(out, output_format),
            on_event=progress,
        )
    finally:
        progress.done()
    if out is not None:
        from ..audit.run import write_outputs

        write_or_fail(out, lambda path: write_outputs(result, path), "the audit's outputs")
    click.echo(result.render(output_format), nl=output_format == "text")
    _note_missing_figures(out, output_format)
    _show_problems(result)
    if not result.complete or (require and not result.passes(require)):
        sys.exit(1)


def _figure_formats(out: Path | None, output_format: str) -> tuple[str, ...] | None:
    """The figures this run shows: both formats in `--out`, SVG in an HTML report."""
    if out is not None:
        return ("svg", "png")
    return ("svg",) if output_format == "html" else None


def _note_missing_figures(out: Path | None, output_format: str) -> None:
    from ..audit.plots import plots_available

    if _figure_formats(out, output_format) and not plots_available():
        click.echo(
            "note: no figures were drawn: they need matplotlib (pip install 'accard[plots]')",
            err=True,
        )


def _show_problems(result: Any) -> None:
    debug = click.get_current_context().find_root().params.get("debug")
    for name, rendered in result.problems.items():
        click.echo(f"cell `{name}` could not be computed:\n{rendered}", err=True)
        if debug and name in result.tracebacks:
            click.echo(result.tracebacks[name], err=True)


class _Progress:
    """cells done, failed and the time left, on one line of stderr (a terminal only)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.enabled = sys.stderr.isatty()
        self.done_count = self.failed = 0
        self.shown = False

    def __call__(self, event: Any) -> None:
        if event.kind != "done":
            return
        self.done_count += 1
        self.failed += event.status != "computed"
        if self.enabled:
            click.echo(f"\r\x1b[2K{self._line(event.total)}", err=True, nl=False)
            self.shown = True

    def _line(self, total: int) -> str:
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done_count * (total - self.done_count)
        return (
            f"accard audit: {self.done_count}/{total} cells done, {self.failed} failed, "
            f"ETA {left:.0f} s"
        )

    def done(self) -> None:
        if self.shown:
            click.echo("\r\x1b[2K", err=True, nl=False)


def is_audit_file(spec: Path) -> bool:
    from ..audit.load import is_audit_file as is_audit

    return is_audit(spec)


def plan_audit(spec: Path, as_json: bool) -> None:
    """`accard plan AUDIT`: every cell's plan (or its problems); exit 1 if a cell has some."""
    from ..audit.plan import audit_plan, render_audit_plan
    from ..canonical import dumps

    document, complete = audit_plan(spec)
    click.echo(dumps(document) if as_json else render_audit_plan(document), nl=not as_json)
    if not complete:
        sys.exit(1)
