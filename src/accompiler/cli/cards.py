"""`accard validate`, `show` and `reproduce`: what a reviewer does with a submitted card."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..card import Card
from ..problems import Problem, SpecError
from ._common import (
    CARD_OVERRIDE_OPTIONS,
    SPEC,
    fail_unless,
    guard,
    option_overrides,
    problem_format,
    problems_option,
    report_problems,
)

CARD = click.Path(exists=True, dir_okay=False, path_type=Path)


def read_card_problems(path: Path) -> tuple[Card | None, list[Problem], dict[str, str]]:
    """A card (or None), every problem found, and the card's text for showing their lines."""
    from ..card import read_card
    from ..card.document import card_bytes

    card, problems = read_card(path)
    sources: dict[str, str] = {}
    if any(p.is_error for p in problems):
        try:
            sources[str(path)] = card_bytes(path).decode("utf-8")
        except (SpecError, UnicodeDecodeError):
            pass
    return card, problems, sources


def load_card(path: Path) -> Card:
    """A valid, self-consistent card, or SpecError (exit 2) listing every problem with its
    JSON path (and line); notes are printed."""
    card, problems, sources = read_card_problems(path)
    if card is None:
        raise SpecError(problems, sources)
    report_problems(problems)
    return card


@click.command()
@click.argument("card_paths", metavar="CARD...", type=CARD, nargs=-1, required=True)
@problems_option
@guard
def validate(card_paths: tuple[Path, ...]) -> None:
    """Check that each CARD is a valid Acceptance Card: its schema
    (schemas/card.v1.schema.json) and its consistency with itself (every status, verdict,
    count, retention and class re-derived from the card's own numbers). Exit 0 when all
    are valid, 2 otherwise (every problem listed)."""
    errors: list[Problem] = []
    notes: list[Problem] = []
    sources: dict[str, str] = {}
    for path in card_paths:
        card, problems, found_sources = read_card_problems(path)
        sources |= found_sources
        if card is None:
            errors += problems
            continue
        notes += problems
        if problem_format() == "text":
            click.echo(f"{path}: a valid Acceptance Card (version {card['card_version']})")
    if errors:
        raise SpecError(errors + notes, sources)
    report_problems(notes)


@click.command()
@click.argument("card_path", metavar="CARD", type=CARD)
@click.option(
    "--format",
    "output_format",
    default="text",
    type=click.Choice(["text", "markdown", "latex", "html", "svg"]),
    help="How to render the card.",
)
@guard
def show(card_path: Path, output_format: str) -> None:
    """Render a card JSON (e.g. a submission's) without its data; it is validated first
    (schema and consistency). Exit 0 on a strict pass, 1 otherwise, 2 on an invalid card."""
    card = load_card(card_path)
    click.echo(card.render(output_format))
    fail_unless(card.passes)


@click.command()
@click.argument("spec", type=SPEC)
@click.argument("card_path", metavar="CARD", type=CARD)
@click.option(
    "--tolerance",
    type=click.Choice(["exact", "mc"]),
    default="exact",
    show_default=True,
    help="exact: every value equal; mc: interval bounds may differ within --mc-multiple x "
    "their Monte-Carlo error (a recomputation with another --seed or --resamples).",
)
@click.option(
    "--mc-multiple",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="How many Monte-Carlo errors a bound may move under --tolerance mc.",
)
@click.option(
    "--spec-settings",
    is_flag=True,
    help="Recompute with the spec's settings, not the card's (then the overrides).",
)
@CARD_OVERRIDE_OPTIONS
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@problems_option
@guard
def reproduce(
    spec: Path,
    card_path: Path,
    tolerance: str,
    mc_multiple: float,
    spec_settings: bool,
    seed: int | None,
    resamples: int | None,
    assignments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Recompute SPEC's card with CARD's own settings and compare the two as parsed JSON (a
    journal's check that a submitted card is what the submitted spec and data give). The
    inputs' hashes are checked first. Exit 0 when reproduced, 1 when not (every difference
    listed with both values), 2 on a bad spec, input or card."""
    from ..canonical import dumps
    from ..card.comparison import Tolerance
    from ..card.document import card_bytes
    from ..card.reproduce import reproduce as recompute

    submitted = load_card(card_path)
    overrides, names = option_overrides(seed, resamples, assignments)
    result = recompute(
        spec,
        submitted,
        card_bytes=card_bytes(card_path),
        overrides=overrides,
        tolerance=Tolerance(tolerance, mc_multiple),
        spec_settings=spec_settings,
        display=(str(spec), str(card_path)),
        option_names=names,
    )
    click.echo(dumps(result.to_json()) if as_json else result.render(), nl=not as_json)
    if not result.reproduced:
        if problem_format() != "text":
            report_problems(result.problems())
        sys.exit(1)


SCHEMA_NAMES = {
    "card": "card.v1",
    "claim": "claim.v1",
    "plan": "plan.v1",
    "spec": "spec.v1",
    "bundle": "bundle.v1",
    "problems": "problems.v1",
    "diff": "diff.v1",
    "log": "log.v1",
    "audit": "audit.v1",
}


@click.command()
@click.argument("name", type=click.Choice(list(SCHEMA_NAMES)))
@guard
def schema(name: str) -> None:
    """Print a bundled JSON Schema: card, claim, plan, spec (the YAML form), bundle (a
    submission's manifest), problems (what --problems json prints), diff, log or audit
    (what `diff --json`, `log --json` and `audit --format json` print)."""
    import json

    from .._resources import load_schema

    click.echo(json.dumps(load_schema(SCHEMA_NAMES[name]), indent=2, ensure_ascii=False))
