"""`accard validate`, `show` and `reproduce`: what a reviewer does with a submitted card."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..card import Card
from ..problems import SpecError
from ._common import SPEC, fail_unless, guard

CARD = click.Path(exists=True, dir_okay=False, path_type=Path)


def load_card(path: Path) -> Card:
    """A valid card, or SpecError (exit 2) listing every problem with its JSON path."""
    from ..card import read_card
    from ..problems import render_problem

    card, problems = read_card(path)
    if card is None:
        raise SpecError(problems)
    for note in problems:
        click.echo(render_problem(note, {}), err=True)
    return card


@click.command()
@click.argument("card_path", metavar="CARD", type=CARD)
@guard
def validate(card_path: Path) -> None:
    """Check that CARD is a valid Acceptance Card (schemas/card.v1.schema.json)."""
    card = load_card(card_path)
    click.echo(f"{card_path}: a valid Acceptance Card (version {card['card_version']})")


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
    """Render a card JSON (e.g. a submission's) without its data; it is validated first.
    Exit 0 on a strict pass, 1 otherwise, 2 on an invalid card."""
    card = load_card(card_path)
    click.echo(card.render(output_format))
    fail_unless(card.passes)


@click.command()
@click.argument("spec", type=SPEC)
@click.argument("card_path", metavar="CARD", type=CARD)
@guard
def reproduce(spec: Path, card_path: Path) -> None:
    """Recompute SPEC's card and compare it with CARD byte for byte (a journal's check that
    a submitted card is what the submitted spec and data give). Exit 0 when identical, 1
    when not (the differences are listed), 2 on a bad spec, input or card."""
    from ..diff import diff_cards, render_changes
    from ..pipeline import check as compute

    submitted = load_card(card_path)
    card = compute(spec)
    if card.to_json() == card_path.read_text(encoding="utf-8"):
        click.echo(f"{card_path}: reproduced byte for byte from {spec}")
        return
    changes = diff_cards(submitted.document, card.document)
    click.echo(f"{card_path}: NOT reproduced from {spec}")
    click.echo(render_changes(changes, str(card_path), f"recomputed from {spec}"))
    sys.exit(1)
