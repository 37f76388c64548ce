"""`accard diff`: how a claim changed between two revisions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ._common import fail_unless, guard
from .cards import CARD, load_card


@click.command()
@click.argument("old", type=CARD)
@click.argument("new", type=CARD)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@guard
def diff(old: Path, new: Path, as_json: bool) -> None:
    """Compare two cards (e.g. two revisions of a paper): verdicts, statuses, estimates,
    settings and inputs. Exit 0 when they agree, 1 when they differ, 2 on an invalid card."""
    from ..diff import diff_cards, render_changes

    changes = diff_cards(load_card(old).document, load_card(new).document)
    if as_json:
        document = [{"path": c.path, "old": c.old, "new": c.new} for c in changes]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(render_changes(changes, str(old), str(new)))
    fail_unless(not changes)
