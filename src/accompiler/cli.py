"""The accard command line: thin wrappers that load, compile, run, render and exit."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .problems import Problem, SpecError
from .span import Span

F = TypeVar("F", bound=Callable[..., Any])
SPEC = click.Path(exists=True, dir_okay=False, path_type=Path)


class InternalError(click.ClickException):
    """A bug in accard: exit 3 with one line (the traceback with --debug)."""

    exit_code = 3

    def show(self, file: Any = None) -> None:
        click.echo(
            f"internal error: {self.message} (a bug in accard; rerun with --debug)", err=True
        )


def _guard(command: F) -> F:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as error:  # noqa: BLE001 - the boundary that turns bugs into exit 3
            if click.get_current_context().find_root().params.get("debug"):
                traceback.print_exc()
            raise InternalError(f"{type(error).__name__}: {error}") from error

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="accard")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def main(debug: bool) -> None:
    """Acceptance Cards: check a safe fine-tuning defense claim on four diagnostics."""


@main.command()
@click.argument("spec", type=SPEC)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@_guard
def plan(spec: Path, as_json: bool) -> None:
    """Show what `accard check SPEC` will run, on which files, and what cannot be evaluated."""
    from .load import load_spec
    from .plan import compile_plan, dumps, plan_to_json
    from .render.plan import render_plan

    claim, _ = load_spec(spec)
    compiled, _ = compile_plan(claim, spec.parent)
    document = plan_to_json(compiled)
    click.echo(dumps(document) if as_json else render_plan(document), nl=not as_json)


@main.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Exit 1 if the file is not in canonical layout; change nothing.",
)
@_guard
def fmt(spec: Path, check_only: bool) -> None:
    """Rewrite an .ac SPEC in canonical layout, keeping its comments."""
    from .load import read_spec_text
    from .problems import raise_if_errors
    from .syntax.dsl import parse_document
    from .syntax.fmt import format_document

    if spec.suffix != ".ac":
        raise click.UsageError("fmt formats .ac files; for YAML use `accard convert`")
    text = read_spec_text(spec, str(spec))
    document, problems = parse_document(text, str(spec))
    raise_if_errors(problems, {str(spec): text})
    assert document is not None
    formatted = format_document(document, text)
    if check_only:
        if formatted != text:
            click.echo(f"{spec}: not in canonical layout (run `accard fmt {spec}`)", err=True)
            sys.exit(1)
        return
    if formatted != text:
        _write_atomic(spec, formatted)
        click.echo(f"formatted {spec}", err=True)


@main.command()
@click.argument("spec", type=SPEC)
@click.option("--to", "target", type=click.Choice(["ac", "yaml"]), required=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout."
)
@_guard
def convert(spec: Path, target: str, out: Path | None) -> None:
    """Convert a claim between the .ac language and YAML (comments are not carried over)."""
    from .emit import claim_to_ac, claim_to_yaml
    from .load import load_spec

    claim, _ = load_spec(spec)
    text = claim_to_ac(claim) if target == "ac" else claim_to_yaml(claim)
    if out is None:
        click.echo(text, nl=False)
    else:
        _write_atomic(out, text)


@main.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON card here (validated, atomically).",
)
@click.option(
    "--format",
    "output_format",
    default="text",
    type=click.Choice(["text", "json", "markdown", "latex", "html", "svg"]),
    help="How to print the card on stdout.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Override the spec's bootstrap seed.")
@click.option("--resamples", type=click.IntRange(min=1000), help="Override the spec's B.")
@_guard
def check(
    spec: Path, out: Path | None, output_format: str, seed: int | None, resamples: int | None
) -> None:
    """Run the four diagnostics on SPEC and print its Acceptance Card.

    Exit 0 on a strict full-card pass, 1 when the card does not pass, 2 when the spec or
    an input is wrong (nothing is written), 3 on an internal error.
    """
    from .card import dumps, write_card
    from .render import render_card

    overrides = {k: v for k, v in (("seed", seed), ("resamples", resamples)) if v is not None}
    card = _compute_card(spec, overrides)
    if out is not None:
        try:
            write_card(card, out)
        except OSError as error:
            problem = Problem(f"cannot write the card: {error.strerror}", Span(str(out), 0))
            raise SpecError([problem]) from None
    click.echo(
        dumps(card) if output_format == "json" else render_card(card, output_format),
        nl=output_format != "json",
    )
    if not card["verdict"]["strict"]["pass"]:
        sys.exit(1)


@main.command()
@click.argument("card_path", metavar="CARD", type=SPEC)
@_guard
def validate(card_path: Path) -> None:
    """Check that CARD is a valid Acceptance Card (schemas/card.v1.schema.json)."""
    _card, errors = _load_card(card_path)
    for message in errors:
        click.echo(f"{card_path}: {message}", err=True)
    if errors:
        sys.exit(2)
    click.echo(f"{card_path}: a valid Acceptance Card (version 1)")


@main.command()
@click.argument("card_path", metavar="CARD", type=SPEC)
@click.option(
    "--format",
    "output_format",
    default="text",
    type=click.Choice(["text", "markdown", "latex", "html", "svg"]),
    help="How to render the card.",
)
@_guard
def show(card_path: Path, output_format: str) -> None:
    """Render a card JSON (e.g. a submission's) without its data; it is validated first.
    Exit 0 on a strict pass, 1 otherwise, 2 on an invalid card."""
    from .render import render_card

    card = _read_card(card_path)
    click.echo(render_card(card, output_format))
    if not card["verdict"]["strict"]["pass"]:
        sys.exit(1)


@main.command()
@click.argument("old", type=SPEC)
@click.argument("new", type=SPEC)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@_guard
def diff(old: Path, new: Path, as_json: bool) -> None:
    """Compare two cards (e.g. two revisions of a paper): verdicts, statuses, estimates,
    settings and inputs. Exit 0 when they agree, 1 when they differ, 2 on an invalid card."""
    import json

    from .diff import diff_cards, render_changes

    cards = [_read_card(path) for path in (old, new)]
    changes = diff_cards(*cards)
    if as_json:
        document = [{"path": c.path, "old": c.old, "new": c.new} for c in changes]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(render_changes(changes, str(old), str(new)))
    if changes:
        sys.exit(1)


def _read_card(path: Path) -> dict[str, Any]:
    card, errors = _load_card(path)
    if errors:
        click.echo(f"{path}: {errors[0]}", err=True)
        sys.exit(2)
    assert card is not None
    return card


def _load_card(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """A version-1 card and every schema error of it (first the most relevant)."""
    import json

    from .card import validation_errors

    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        return None, [f"not JSON ({error})"]
    version = card.get("card_version") if isinstance(card, dict) else None
    if version != "1":
        return None, [f'card_version {version!r} is not one this accard reads (it reads "1")']
    return card, validation_errors(card)


class _Progress:
    """A one-line progress display on stderr: only on a terminal, only after a second."""

    def __init__(self, delay: float = 1.0) -> None:
        import time

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


def _compute_card(spec: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """Load, plan and run a spec, with a progress line; SpecError carries the spec source."""
    from dataclasses import replace

    from .load import load_spec
    from .plan import compile_plan
    from .run import run_plan

    claim, sources = load_spec(spec)
    if overrides:
        claim = replace(claim, settings=replace(claim.settings, **overrides))
    kept: dict[str, bytes] = {}
    progress = _Progress()
    progress("hashing inputs")
    compiled, _ = compile_plan(claim, spec.parent, kept)
    try:
        return run_plan(compiled, spec.parent, kept, on_step=progress)
    except SpecError as error:
        error.sources.update(sources)
        raise
    finally:
        progress.done()


@main.command()
@click.argument("spec", type=SPEC)
@click.argument("card_path", metavar="CARD", type=SPEC)
@_guard
def reproduce(spec: Path, card_path: Path) -> None:
    """Recompute SPEC's card and compare it with CARD byte for byte (a journal's check that
    a submitted card is what the submitted spec and data give). Exit 0 when identical, 1
    when not (the differences are listed), 2 on a bad spec, input or card."""
    from .card import dumps
    from .diff import diff_cards, render_changes

    submitted = _read_card(card_path)
    card = _compute_card(spec, {})
    if dumps(card) == card_path.read_text(encoding="utf-8"):
        click.echo(f"{card_path}: reproduced byte for byte from {spec}")
        return
    changes = diff_cards(submitted, card)
    click.echo(f"{card_path}: NOT reproduced from {spec}")
    click.echo(render_changes(changes, str(card_path), f"recomputed from {spec}"))
    sys.exit(1)


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.accard-tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


__all__ = ["main", "SpecError"]
