"""`accard fmt` and `accard convert`: a claim's text, canonical or in the other front-end."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..problems import Problem
from ._common import OUT, SPEC, guard, write_or_fail


@click.command()
@click.argument("specs", metavar="SPEC...", type=SPEC, nargs=-1, required=True)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Exit 1 if a file is not in canonical layout; change nothing.",
)
@guard
def fmt(specs: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite each .ac SPEC in canonical layout, keeping its comments."""
    from ..problems import SpecError

    if any(spec.suffix != ".ac" for spec in specs):
        raise click.UsageError("fmt formats .ac files; for YAML use `accard convert`")
    problems: list[Problem] = []
    sources: dict[str, str] = {}
    unformatted = []
    for spec in specs:
        text, formatted, found = _formatted(spec)
        problems += found
        sources[str(spec)] = text
        if formatted is None or formatted == text:
            continue
        if check_only:
            click.echo(f"{spec}: not in canonical layout (run `accard fmt {spec}`)", err=True)
            unformatted.append(spec)
        else:
            _rewrite(spec, formatted)
    if any(p.is_error for p in problems):
        raise SpecError(problems, sources)
    if unformatted:
        sys.exit(1)


def _formatted(spec: Path) -> tuple[str, str | None, list[Problem]]:
    """The file's text, its canonical layout (None when it does not parse), its problems."""
    from ..spec import read_spec_text
    from ..spec.dsl import parse_document
    from ..spec.fmt import format_document

    text = read_spec_text(spec, str(spec))
    document, problems = parse_document(text, str(spec))
    if document is None or any(p.is_error for p in problems):
        return text, None, problems
    return text, format_document(document, text), problems


def _rewrite(spec: Path, formatted: str) -> None:
    from ..files import write_text_atomic

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


@click.command()
@click.option(
    "--from",
    "folders",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A harness output folder (lm-eval run, inspect logs, canonical files); repeatable.",
)
@click.option("--out", type=OUT, help="Write the draft here (its folder holds the data).")
@guard
def init(folders: tuple[Path, ...], out: Path | None) -> None:
    """Draft a commented claim, from harness output folders if given. What the files show is
    filled in; the rest is a "<fill in: ...>" placeholder that `accard plan` reports."""
    from ..claim.draft import draft_claim, holds_records
    from ..files import write_text_atomic
    from ..problems import Problem, SpecError
    from ..span import Span

    spec_dir = (out.parent if out is not None else Path.cwd()).resolve()
    outside = [f for f in folders if not f.resolve().is_relative_to(spec_dir)]
    if outside:
        summary = f"`{outside[0]}` is outside the spec's folder {spec_dir}"
        help_text = "write the draft (--out) into a folder that holds the data"
        raise SpecError([Problem(summary, Span(str(outside[0]), 0), help_text, "--from")])
    empty = [f for f in folders if not holds_records(f)]
    if empty:
        raise SpecError(
            [
                Problem(
                    f"`{folder}` holds no record files accard reads",
                    Span(str(folder), 0),
                    "name a folder of lm-eval samples_*.jsonl, inspect .eval/.json logs or "
                    "canonical .jsonl/.csv/.parquet records (subfolders are searched)",
                    "--from",
                )
                for folder in empty
            ]
        )
    text = draft_claim(list(folders), spec_dir)
    if out is None:
        click.echo(text, nl=False)
        return
    if out.exists():
        raise click.UsageError(f"{out} exists; init writes a new draft only")
    write_or_fail(out, lambda path: write_text_atomic(path, text), "the draft")
    click.echo(f"wrote {out}: fill in its placeholders, then `accard plan {out}`", err=True)
