"""`accard pack` and `accard verify`: a submission bundle, written by an author and checked
by an editor."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import (
    CARD_OVERRIDE_OPTIONS,
    OUT,
    SPEC,
    guard,
    option_overrides,
    problem_format,
    problems_option,
    report_problems,
    write_or_fail,
)

BUNDLE = click.Path(exists=True, path_type=Path)


@click.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--out",
    type=OUT,
    required=True,
    help="The bundle: a .zip archive, or else a new directory.",
)
@click.option(
    "--card",
    "card_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pack this card (valid, and made from these very files) instead of computing one.",
)
@CARD_OVERRIDE_OPTIONS
@problems_option
@guard
def pack(
    spec: Path,
    out: Path,
    card_path: Path | None,
    seed: int | None,
    resamples: int | None,
    assignments: tuple[str, ...],
) -> None:
    """Write a submission bundle of SPEC: the spec, every input its plan reads (at the same
    paths relative to the spec), the card and manifest.json (paths, sizes, sha256, tool
    version). Exit 0 when written, 2 when the spec, an input or the card is wrong (nothing
    is written)."""
    from ..bundle import pack as write_bundle

    overrides, names = option_overrides(seed, resamples, assignments)
    if card_path is not None and overrides:
        raise click.UsageError("--card packs that card as it is: give no setting overrides")
    written: list[int] = []

    def write(path: Path) -> None:
        manifest = write_bundle(
            spec, path, card_path=card_path, overrides=overrides, option_names=names
        )
        written.append(sum(f.size for f in manifest.files))
        written.append(len(manifest.files))

    write_or_fail(out, write, "the bundle")
    click.echo(f"{out}: a bundle of {written[1]} files ({written[0]} bytes) for {spec}")


@click.command()
@click.argument("bundle_path", metavar="BUNDLE", type=BUNDLE)
@click.option(
    "--format",
    "output_format",
    default="text",
    type=click.Choice(["text", "json", "markdown"]),
    help="How to print the report.",
)
@click.option(
    "--tolerance",
    type=click.Choice(["exact", "mc"]),
    default="exact",
    show_default=True,
    help="How close the recomputed card must be (see `accard reproduce`).",
)
@click.option(
    "--mc-multiple",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="How many Monte-Carlo errors a bound may move under --tolerance mc.",
)
@click.option("--out", type=OUT, help="Write the report here instead of stdout.")
@click.option(
    "--require-pass",
    is_flag=True,
    help="Verified only if the claim also passes strictly (by default its verdict is "
    "reported, not gated).",
)
@problems_option
@guard
def verify(
    bundle_path: Path,
    output_format: str,
    tolerance: str,
    mc_multiple: float,
    out: Path | None,
    require_pass: bool,
) -> None:
    """Check a submission BUNDLE (a .zip or a directory): unpack it safely into a temporary
    folder, validate its card (schema and consistency) and reproduce it from the bundle's
    spec and inputs. Exit 0 verified, 1 not verified (every reason listed), 2 when the
    bundle itself is malformed or unsafe."""
    from ..bundle import verify_bundle
    from ..bundle.report import render_markdown, render_text
    from ..canonical import dumps
    from ..card.comparison import Tolerance

    result = verify_bundle(
        bundle_path, tolerance=Tolerance(tolerance, mc_multiple), require_pass=require_pass
    )
    if output_format == "json":
        report = dumps(result.to_json())
    else:
        report = (render_markdown if output_format == "markdown" else render_text)(result) + "\n"
    if out is None:
        click.echo(report, nl=False)
    else:
        from ..files import write_text_atomic

        write_or_fail(out, lambda path: write_text_atomic(path, report), "the report")
    if not result.verified:
        if problem_format() != "text":
            report_problems(result.problems())
        sys.exit(1)
