"""Problems: the one user-facing error type of every stage, and their rendering."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import click

from .span import Span, snippet

MAX_REPORTED = 20
FORMATS = ("text", "json", "github")
"""How problems are printed: text for people (stderr), a JSON document (stderr; see
schemas/problems.v1.schema.json), or GitHub Actions annotations (stdout, where the runner
reads workflow commands)."""
PROBLEMS_VERSION = "1"


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
    close = closest(word, choices)
    return f' (did you mean "{close}"?)' if close else ""


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like `word` (difflib, ratio >= 0.6), if any."""
    import difflib  # only when a problem is reported

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return close[0] if close else None


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


def render_problems(
    problems: Iterable[Problem], sources: Mapping[str, str], writes: bool = True
) -> str:
    """Problems for people, and a count; `writes`: the command would have written an output
    (a card, a file), so the count says that nothing was."""
    ordered = sorted(problems, key=_order)
    shown = ordered[: MAX_REPORTED + 1]
    blocks = [render_problem(p, sources) for p in shown]
    errors = sum(p.is_error for p in ordered)
    if len(ordered) > len(shown):
        blocks.append(f"... and {len(ordered) - len(shown)} more problems not shown")
    count = f"{errors} error{'s' if errors != 1 else ''} found"
    blocks.append(f"{count}; nothing was written" if writes else count)
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


def problems_document(problems: Iterable[Problem]) -> dict[str, Any]:
    """The problems as a JSON document (schemas/problems.v1.schema.json): every problem,
    errors first, each with its file, line and column (null when unknown), field, message
    and help."""
    ordered = sorted(problems, key=_order)
    return {
        "problems_version": PROBLEMS_VERSION,
        "errors": sum(p.is_error for p in ordered),
        "problems": [_problem_json(p) for p in ordered],
    }


def _problem_json(problem: Problem) -> dict[str, Any]:
    span = problem.span
    return {
        "severity": problem.severity,
        "file": span.file if span else None,
        "line": span.line or None if span else None,
        "column": span.column or None if span else None,
        "end_line": span.end_line or None if span else None,
        "end_column": span.end_column or None if span else None,
        "field": problem.field or None,
        "message": problem.summary,
        "help": problem.detail or None,
    }


GITHUB_LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def github_annotations(problems: Iterable[Problem]) -> str:
    """One GitHub Actions workflow command a problem (`::error file=…,line=…::message`), so
    a pull request shows each problem on its file and line."""
    lines = []
    for problem in sorted(problems, key=_order):
        span = problem.span
        properties = {"title": f"accard: {problem.field}" if problem.field else "accard"}
        if span is not None and span.file:
            properties["file"] = span.file
            for name, value in (
                ("line", span.line),
                ("col", span.column),
                ("endLine", span.end_line),
                ("endColumn", span.end_column),
            ):
                if value:
                    properties[name] = str(value)
        message = problem.summary + (f"\nhelp: {problem.detail}" if problem.detail else "")
        level = GITHUB_LEVELS.get(problem.severity, "warning")
        listed = ",".join(f"{k}={_escape(v, True)}" for k, v in properties.items())
        lines.append(f"::{level} {listed}::{_escape(message, False)}")
    return "".join(line + "\n" for line in lines)


def _escape(text: str, is_property: bool) -> str:
    """GitHub's workflow-command escaping (data: %, CR, LF; properties also : and ,)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_problems(
    problems: Iterable[Problem],
    sources: Mapping[str, str],
    form: str = "text",
    writes: bool = True,
) -> str:
    """The one rendering of problems, in any of FORMATS."""
    if form == "json":
        return json.dumps(problems_document(problems), indent=2, ensure_ascii=False) + "\n"
    if form == "github":
        return github_annotations(problems)
    return render_problems(problems, sources, writes)


def show_problems(
    problems: Iterable[Problem],
    sources: Mapping[str, str],
    form: str = "text",
    writes: bool = True,
) -> None:
    """Print problems where their form belongs: GitHub annotations on stdout (the runner
    reads workflow commands there), text and JSON on stderr (stdout carries results)."""
    text = format_problems(problems, sources, form, writes)
    click.echo(text, err=form != "github", nl=False)


class SpecError(click.ClickException):
    """The spec or an input is wrong: exit code 2, the problems on stderr, no card."""

    exit_code = 2

    def __init__(self, problems: list[Problem], sources: Mapping[str, str] | None = None):
        self.problems = problems
        self.sources = dict(sources or {})
        self.form = "text"
        """How `show` prints the problems (FORMATS); the command line's --problems."""
        self.writes = True
        """The failing command writes outputs (the count then says nothing was written)."""
        super().__init__(problems[0].summary if problems else "invalid input")

    def render(self) -> str:
        return format_problems(self.problems, self.sources, self.form, self.writes)

    def show(self, file: IO[Any] | None = None) -> None:
        if file is not None:
            click.echo(self.render(), file=file, nl=False)
        else:
            show_problems(self.problems, self.sources, self.form, self.writes)


def raise_if_errors(problems: list[Problem], sources: Mapping[str, str] | None = None) -> None:
    if any(p.is_error for p in problems):
        raise SpecError(problems, sources)
