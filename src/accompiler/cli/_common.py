"""What every command shares: the exit-code exceptions, the bug guard, path types, progress."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Mapping
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from ..problems import FORMATS as PROBLEM_FORMATS
from ..problems import Problem, SpecError, render_problem, show_problems
from ..span import Span

F = TypeVar("F", bound=Callable[..., Any])
SPEC = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)


class InternalError(click.ClickException):
    """A bug in accard: exit 3 with one line (the traceback with --debug)."""

    exit_code = 3

    def show(self, file: Any = None) -> None:
        click.echo(
            f"internal error: {self.message} (a bug in accard; rerun with --debug)", err=True
        )


WRITING_COMMANDS = frozenset({"check", "fmt", "convert", "init", "pack", "audit"})
"""Commands that write outputs: their problems end with "nothing was written"."""


def guard(command: F) -> F:
    """Run a command; any exception that is not a click exit becomes InternalError (exit 3)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SpecError as error:
            error.writes = click.get_current_context().info_name in WRITING_COMMANDS
            raise
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as error:  # noqa: BLE001 - the boundary that turns bugs into exit 3
            if click.get_current_context().find_root().params.get("debug"):
                traceback.print_exc()
            raise InternalError(f"{type(error).__name__}: {error}") from error

    return wrapper  # type: ignore[return-value]


def fail_unless(passed: bool) -> None:
    """Exit 1 when a computed result does not pass (exit 0 otherwise)."""
    if not passed:
        sys.exit(1)


def write_or_fail(path: Path, write: Callable[[Path], None], what: str) -> None:
    """Write an output file; an unwritable destination is the user's problem (exit 2)."""
    try:
        write(path)
    except OSError as error:
        summary = f"cannot write {what}: {error.strerror or error}"
        raise SpecError([Problem(summary, Span(str(path), 0))]) from None


def parse_assignments(values: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """`--set name=value` options -> {name: number}, and how problems name each option."""
    overrides: dict[str, Any] = {}
    names: dict[str, str] = {}
    for text in values:
        name, equals, raw = text.partition("=")
        name = name.strip()
        if not equals or not name:
            raise click.BadParameter(
                f"`{text}` is not NAME=VALUE (e.g. --set tau_fresh=0.6)", param_hint="--set"
            )
        overrides[name] = _number(raw.strip())
        names[name] = f"--set {name}"
    return overrides, names


def _number(raw: str) -> Any:
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            continue
    return raw


class Progress:
    """A one-line progress display on stderr: only on a terminal, only after a second."""

    def __init__(self, delay: float = 1.0) -> None:
        self.clock = time.monotonic
        self.start = self.clock()
        self.delay = delay
        self.shown = False
        self.enabled = sys.stderr.isatty()

    def __call__(self, label: str) -> None:
        if self.enabled and self.clock() - self.start >= self.delay:
            click.echo(
                f"\r\x1b[2Kaccard: {label} ({self.clock() - self.start:.1f} s)", err=True, nl=False
            )
            self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo("\r\x1b[2K", err=True, nl=False)


def option_overrides(
    seed: int | None, resamples: int | None, assignments: tuple[str, ...]
) -> tuple[dict[str, Any], Mapping[str, str]]:
    """The settings a command line overrides, and the option that names each."""
    overrides, names = parse_assignments(assignments)
    for name, value in (("seed", seed), ("resamples", resamples)):
        if value is not None:
            overrides[name], names[name] = value, f"--{name}"
    return overrides, names


PROBLEMS_KEY = "accard.problems"


def problems_option(command: F) -> F:
    """`--problems text|json|github`: how the command prints problems (an exit 2's, and the
    notes it reports); place it above `guard`."""

    @click.option(
        "--problems",
        "problem_format",
        type=click.Choice(list(PROBLEM_FORMATS)),
        default="text",
        show_default=True,
        help="Print problems as text (stderr), a JSON document (stderr) or GitHub "
        "Actions annotations (stdout).",
    )
    @wraps(command)
    def wrapper(*args: Any, problem_format: str, **kwargs: Any) -> Any:
        click.get_current_context().meta[PROBLEMS_KEY] = problem_format
        try:
            return command(*args, **kwargs)
        except SpecError as error:
            error.form = problem_format
            raise

    return wrapper  # type: ignore[return-value]


def problem_format() -> str:
    """The --problems form of the running command ("text" when it has no such option)."""
    context = click.get_current_context(silent=True)
    return str(context.meta.get(PROBLEMS_KEY, "text")) if context else "text"


def report_problems(problems: list[Problem], sources: Mapping[str, str] | None = None) -> None:
    """Print problems that do not stop the command (notes), in the command's form."""
    form = problem_format()
    if form == "text":
        for problem in problems:
            click.echo(render_problem(problem, sources or {}), err=True)
    elif problems:
        show_problems(problems, sources or {}, form)


def CARD_OVERRIDE_OPTIONS(command: F) -> F:  # noqa: N802 - reads as the options it adds
    """`--seed`, `--resamples` and `--set NAME=VALUE`, as `accard check` has them."""
    for option in reversed(
        [
            click.option("--seed", type=int, help="Use this bootstrap seed instead."),
            click.option("--resamples", type=int, help="Use this B instead."),
            click.option(
                "--set",
                "assignments",
                multiple=True,
                metavar="NAME=VALUE",
                help="Use this value of a setting instead (repeatable), checked as a spec's.",
            ),
        ]
    ):
        command = option(command)
    return command
