"""`accard check` and `accard plan`: a claim's card, and what computing it will read."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (
    OUT,
    SPEC,
    Progress,
    fail_unless,
    guard,
    option_overrides,
    problems_option,
    write_or_fail,
)

FORMATS = ["text", "json", "markdown", "latex", "html", "svg"]


@click.command()
@click.argument("spec", type=SPEC)
@click.option("--out", type=OUT, help="Write the JSON card here (validated, atomically).")
@click.option(
    "--format",
    "output_format",
    default="text",
    type=click.Choice(FORMATS),
    help="How to print the card on stdout.",
)
@click.option("--seed", type=int, help="Override the spec's bootstrap seed.")
@click.option("--resamples", type=int, help="Override the spec's B.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override any setting (repeatable), checked as the spec's own.",
)
@click.option(
    "--junit",
    type=OUT,
    help="Also write a JUnit XML report: each diagnostic a test case (strict, permissive).",
)
@problems_option
@guard
def check(
    spec: Path,
    out: Path | None,
    output_format: str,
    seed: int | None,
    resamples: int | None,
    assignments: tuple[str, ...],
    junit: Path | None,
) -> None:
    """Run the four diagnostics on SPEC and print its Acceptance Card.

    Exit 0 on a strict full-card pass, 1 when the card does not pass, 2 when the spec or
    an input is wrong (nothing is written), 3 on an internal error.
    """
    from ..card import write_card
    from ..pipeline import check as compute

    overrides, names = option_overrides(seed, resamples, assignments)
    progress = Progress()
    try:
        card = compute(spec, overrides=overrides, on_step=progress, option_names=names)
    finally:
        progress.done()
    if out is not None:
        _refuse_input_as_out(out, spec, [spec.parent / i["path"] for i in card["inputs"]])
        write_or_fail(out, lambda path: write_card(card, path), "the card")
    if junit is not None:
        from ..files import write_text_atomic
        from ..render.junit import card_junit

        report = card_junit(card.document)
        write_or_fail(junit, lambda path: write_text_atomic(path, report), "the JUnit report")
    click.echo(card.render(output_format), nl=output_format != "json")
    fail_unless(card.passes)


def _refuse_input_as_out(out: Path, spec: Path, inputs: list[Path]) -> None:
    """--out naming the spec or an input would destroy what the card describes: exit 2."""
    from ..files import same_file
    from ..problems import Problem, SpecError
    from ..span import Span

    named = "the spec" if same_file(out, spec) else None
    named = named or next((f"the input `{p}`" for p in inputs if same_file(out, p)), None)
    if named is not None:
        summary = f"--out names {named}: an input is never overwritten by its card"
        raise SpecError([Problem(summary, Span(str(out), 0), "write the card to a new file")])


@click.command()
@click.argument("spec", type=SPEC)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@problems_option
@guard
def plan(spec: Path, as_json: bool) -> None:
    """Show what `accard check SPEC` will run, on which files, and what cannot be evaluated
    (for an audit file: every cell's plan)."""
    from ..canonical import dumps
    from ..claim import load_spec
    from ..plan import compile_plan, plan_to_json
    from ..problems import raise_if_errors
    from ..render.plan import render_plan
    from .audit import is_audit_file, plan_audit

    if is_audit_file(spec):
        return plan_audit(spec, as_json)
    claim, sources = load_spec(spec)
    compiled, problems = compile_plan(claim, spec.parent)
    raise_if_errors(problems, sources)
    document = plan_to_json(compiled)
    click.echo(dumps(document) if as_json else render_plan(document), nl=not as_json)
