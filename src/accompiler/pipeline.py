"""The one pipeline, spec file -> Card (load, plan, run), used by the CLI and the public API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .card import Card
from .card.document import unfit as card_unfit
from .claim import load_spec
from .claim.settings import BY_NAME, apply_overrides
from .plan import compile_plan
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
    plan, problems = compile_plan(claim, path.parent, kept)
    raise_if_errors(problems, sources)
    try:
        card = run_plan(plan, path.parent, kept, on_step=on_step)
    except SpecError as error:
        error.sources.update(sources)
        raise
    unfit = card_unfit(card.document, "$")
    if unfit is not None:  # text no card may hold that got past a reader: refused, not written
        json_path, what = unfit
        raise SpecError(
            [
                Problem(
                    f"the card would hold {what.split(' is ')[0]} at {json_path}, "
                    "read from the inputs",
                    None,
                    "",
                    json_path,
                )
            ],
            sources,
        )
    return card


def _help(name: str) -> str:
    setting = BY_NAME.get(name)
    return setting.help_text() if setting else "settings: " + ", ".join(BY_NAME)
