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
from .claim import Claim, load_spec
from .claim.settings import BY_NAME, apply_overrides
from .plan import Plan, compile_plan
from .problems import Problem, SpecError
from .run import run_plan


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
        accompiler.problems.SpecError: an override is wrong.
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
        claim = replace(claim, settings=settings)
    kept: dict[str, bytes] = {}
    if on_step is not None:
        on_step("hashing inputs")
    plan, _problems = compile_plan(claim, spec_dir, kept)
    return Planned(plan, spec_dir, kept, dict(sources))


def run_planned(planned: Planned, *, on_step: Callable[[str], None] | None = None) -> Card:
    """Run a plan on the bytes it hashed; return the card.

    Raises:
        accompiler.problems.SpecError: an input is wrong (its problems name file and row).
    """
    try:
        return run_plan(planned.plan, planned.spec_dir, planned.kept, on_step=on_step)
    except SpecError as error:
        error.sources.update(planned.sources)
        raise


def _help(name: str) -> str:
    setting = BY_NAME.get(name)
    return setting.help_text() if setting else "settings: " + ", ".join(BY_NAME)
