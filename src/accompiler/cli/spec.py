"""`accard fmt` and `accard convert`: a claim's text, canonical or in the other front-end."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import OUT, SPEC, guard, write_or_fail


@click.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Exit 1 if the file is not in canonical layout; change nothing.",
)
@guard
def fmt(spec: Path, check_only: bool) -> None:
    """Rewrite an .ac SPEC in canonical layout, keeping its comments."""
    from ..files import write_text_atomic
    from ..problems import raise_if_errors
    from ..spec import read_spec_text
    from ..spec.dsl import parse_document
    from ..spec.fmt import format_document

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
        write_or_fail(spec, lambda path: write_text_atomic(path, formatted), "the spec")
        click.echo(f"formatted {spec}", err=True)


@click.command()
@click.argument("spec", type=SPEC)
@click.option("--to", "target", type=click.Choice(["ac", "yaml"]), required=True)
@click.option("--out", type=OUT, help="Write here instead of stdout.")
@guard
def convert(spec: Path, target: str, out: Path | None) -> None:
    """Convert a claim between the .ac language and YAML (comments are not carried over)."""
    from ..claim import load_spec
    from ..claim.emit import claim_to_ac, claim_to_yaml
    from ..files import write_text_atomic

    claim, _ = load_spec(spec)
    text = claim_to_ac(claim) if target == "ac" else claim_to_yaml(claim)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_or_fail(out, lambda path: write_text_atomic(path, text), "the converted spec")
