"""The accard command line: thin commands that call the library, render, and exit
0 (pass), 1 (computed, does not pass), 2 (bad spec or input; nothing written), 3 (a bug)."""

from __future__ import annotations

import click

from .._version import __version__
from ..problems import SpecError
from . import audit, bundle, cards, check, diff, spec


@click.group()
@click.version_option(__version__, prog_name="accard")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def main(debug: bool) -> None:
    """Acceptance Cards: check a safe fine-tuning defense claim on four diagnostics."""


for command in (
    check.check,
    check.plan,
    spec.fmt,
    spec.convert,
    spec.init,
    cards.validate,
    cards.show,
    cards.reproduce,
    diff.diff,
    bundle.pack,
    bundle.verify,
    cards.schema,
    diff.log,
    audit.audit,
):
    main.add_command(command)

__all__ = ["SpecError", "main"]
