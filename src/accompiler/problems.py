"""Problems: the one user-facing error type of every stage, and their rendering."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import click

from .span import Span, snippet

MAX_REPORTED = 20


@dataclass(frozen=True)
class Problem:
    """Something wrong with a spec or an input. `summary` says what, `detail` how to fix it."""

    summary: str
    span: Span | None = None
    detail: str = ""
    field: str = ""
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' did you mean "x"?' suffix for `word`, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def render_problem(problem: Problem, sources: Mapping[str, str]) -> str:
    lines = [f"{problem.severity}: {problem.summary}"]
    pad = " " * (len(str(problem.span.line)) if problem.span and problem.span.column else 1)
    if problem.span is not None:
        lines.append(f"{pad}--> {problem.span.location()}")
        source = sources.get(problem.span.file)
        if source is not None:
            lines.extend(snippet(problem.span, source))
    if problem.field:
        lines.append(f"{pad} = field: {problem.field}")
    if problem.detail:
        lines.append(f"{pad} = help: {problem.detail}")
    return "\n".join(lines)


def render_problems(problems: Iterable[Problem], sources: Mapping[str, str]) -> str:
    ordered = sorted(problems, key=_order)
    shown = ordered[: MAX_REPORTED + 1]
    blocks = [render_problem(p, sources) for p in shown]
    errors = sum(p.is_error for p in ordered)
    if len(ordered) > len(shown):
        blocks.append(f"... and {len(ordered) - len(shown)} more problems not shown")
    blocks.append(f"{errors} error{'s' if errors != 1 else ''} found; nothing was written")
    return "\n\n".join(blocks) + "\n"


def _order(problem: Problem) -> tuple[Any, ...]:
    span = problem.span or Span("", 0)
    return (
        problem.severity == "note",
        not problem.is_error,
        span.file,
        span.line,
        span.column,
        problem.summary,
    )


class SpecError(click.ClickException):
    """The spec or an input is wrong: exit code 2, the problems on stderr, no card."""

    exit_code = 2

    def __init__(self, problems: list[Problem], sources: Mapping[str, str] | None = None):
        self.problems = problems
        self.sources = dict(sources or {})
        super().__init__(problems[0].summary if problems else "invalid input")

    def render(self) -> str:
        return render_problems(self.problems, self.sources)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.render(), file=file, err=file is None, nl=False)


def raise_if_errors(problems: list[Problem], sources: Mapping[str, str] | None = None) -> None:
    if any(p.is_error for p in problems):
        raise SpecError(problems, sources)
