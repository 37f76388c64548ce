"""The one pipeline, spec file -> Card (load, plan, run), used by the CLI and the public API.

`check` is load + `plan_claim` + `run_planned`; an audit (accompiler.audit) calls the two
halves itself, to look a planned cell up in its cache before running it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .card import Card
from .card.document import unfit as card_unfit
from .claim import Claim, load_spec
from .claim.settings import BY_NAME, apply_overrides
from .plan import Plan, compile_plan
from .problems import Problem, SpecError, raise_if_errors
from .run import run_plan
from .span import Span


def check(
    spec: str | Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
    option_names: Mapping[str, str] | None = None,
) -> Card:
    """Load, plan and run a claim spec; return its card.

    Args:
        spec: a `.ac`, `.yaml` or `.yml` claim.
        overrides: settings that replace the spec's (e.g. {"seed": 7}), checked exactly as
            the spec's own settings are.
        on_step: called with a short label as each step starts (a progress display).
        option_names: how problems name each override (the CLI passes "--seed").

    Raises:
        accompiler.problems.SpecError: the spec, an override or an input is wrong;
            `.problems` lists every problem found.
    """
    path = Path(spec)
    claim, sources = load_spec(path)
    planned = plan_claim(
        claim,
        path.parent,
        sources,
        overrides=overrides,
        on_step=on_step,
        option_names=option_names,
    )
    return run_planned(planned, on_step=on_step)


@dataclass(frozen=True)
class Planned:
    """A claim's plan, ready to run: the bytes it hashed are kept, so the run reads them."""

    plan: Plan
    spec_dir: Path
    kept: dict[str, bytes]
    sources: dict[str, str] = field(default_factory=dict)


def plan_claim(
    claim: Claim,
    spec_dir: Path,
    sources: Mapping[str, str],
    *,
    overrides: Mapping[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
    option_names: Mapping[str, str] | None = None,
) -> Planned:
    """Apply the overrides to a loaded claim and plan it (every input read and hashed).

    Raises:
        accompiler.problems.SpecError: an override is wrong, or the plan has an error.
    """
    if overrides:
        settings, faults = apply_overrides(claim.settings, overrides)
        if faults:
            names = option_names or {}
            problems = [
                Problem(fault, None, _help(name), names.get(name, name))
                for name, fault in faults.items()
            ]
            raise SpecError(problems, sources)
        # a problem with an overridden setting names the option that set it
        spans = {
            **claim.spans,
            **{f"claim.settings.{n}": Span((option_names or {}).get(n, n), 0) for n in overrides},
        }
        claim = replace(claim, settings=settings, spans=spans)
    kept: dict[str, bytes] = {}
    if on_step is not None:
        on_step("hashing inputs")
    plan, problems = compile_plan(claim, spec_dir, kept)
    raise_if_errors(problems, sources)
    return Planned(plan, spec_dir, kept, dict(sources))


def run_planned(planned: Planned, *, on_step: Callable[[str], None] | None = None) -> Card:
    """Run a plan on the bytes it hashed; return the card.

    Raises:
        accompiler.problems.SpecError: an input is wrong (its problems name file and row).
    """
    try:
        card = run_plan(planned.plan, planned.spec_dir, planned.kept, on_step=on_step)
    except SpecError as error:
        error.sources.update(planned.sources)
        raise
    unfit = card_unfit(card.document, "$")
    if unfit is not None:  # text no card may hold that got past a reader: refused, not written
        json_path, what = unfit
        summary = (
            f"the card would hold {what.split(' is ')[0]} at {json_path}, read from the inputs"
        )
        raise SpecError([Problem(summary, None, "", json_path)], planned.sources)
    return card


def _help(name: str) -> str:
    setting = BY_NAME.get(name)
    return setting.help_text() if setting else "settings: " + ", ".join(BY_NAME)
