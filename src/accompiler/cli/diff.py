"""`accard diff` and `accard log`: how a claim changed between revisions, and its history."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..problems import Problem, SpecError
from ..span import Span
from ._common import guard

FAIL_ON = ("weakened", "any", "never")


def _note(problem: Problem) -> None:
    from ..problems import render_problem

    click.echo(render_problem(problem, {}), err=True)


@click.command()
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON (diff.v1).")
@click.option(
    "--markdown",
    "as_markdown",
    is_flag=True,
    help='Print a "changes since the last revision" section for a paper\'s appendix.',
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="any",
    show_default=True,
    help="Exit 1 when a change of this kind is found: weakened, any change, or never.",
)
@guard
def diff(old: str, new: str, as_json: bool, as_markdown: bool, fail_on: str) -> None:
    """Compare two revisions of a claim and classify every change as weakened, strengthened
    or neutral. OLD and NEW are each a spec (.ac, .yaml), a card (JSON) or REV:PATH, read
    from the enclosing git repository (PATH relative to the current folder; a spec's files
    are read at the same revision). Exit 0 when nothing --fail-on names changed, 1 when it
    did, 2 when a side is not a valid spec or card."""
    from ..diff import compare, open_side
    from ..diff import render as show

    if as_json and as_markdown:
        raise click.UsageError("--json and --markdown exclude each other")
    changes = show.grouped(compare(open_side(old, notes=_note), open_side(new, notes=_note)))
    if as_json:
        click.echo(show.as_json(changes), nl=False)
    elif as_markdown:
        click.echo(show.markdown(changes, old, new))
    else:
        click.echo(show.text(changes, old, new))
    failing = {"weakened": [c for c in changes if c.cls == "weakened"], "any": changes}
    if failing.get(fail_on):
        sys.exit(1)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON (log.v1).")
@guard
def log(spec: Path, as_json: bool) -> None:
    """The history of a claim in the enclosing git repository: one line per commit that
    changed SPEC or a file it reads, newest first, with the classified changes against the
    previous revision. Exit 0, or 2 when SPEC is not in a git repository."""
    from ..diff import render as show
    from ..diff.git import GitError
    from ..diff.log import spec_history

    try:
        entries = spec_history(str(spec))
    except GitError as error:
        raise SpecError([Problem(str(error), Span(str(spec), 0))]) from None
    click.echo(
        show.log_json(entries) if as_json else show.log_text(entries, str(spec)), nl=not as_json
    )
