"""Stage 4, Plan -> Card: read every planned input (verified against its sha256), load and
bootstrap every data set, let each diagnostic prepare its own inputs, run the diagnostics,
and build the card. Any bad input is a SpecError (exit 2) before a diagnostic runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..card.build import build_card
from ..card.document import Card
from ..diagnostics import DIAGNOSTICS, RunContext
from ..files import read_verified
from ..plan import Plan
from ..problems import Problem, SpecError
from .datasets import bootstrap_dataset, load_tables, subject_overlap, work_budget


def run_plan(
    plan: Plan,
    spec_dir: Path,
    kept: dict[str, bytes] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Card:
    """Execute a plan and return its card. Raises SpecError on bad input.

    Args:
        plan: the compiled plan; only its inputs are read, each checked against its sha256.
        spec_dir: the folder the plan's paths are relative to.
        kept: bytes `compile_plan` kept (and hashed); files not in it are read and checked.
        on_step: called with a short label as each step starts (a progress display).
    """
    step = on_step or (lambda _label: None)

    def read(relative: str, sha256: str) -> bytes:
        return read_verified(spec_dir, relative, sha256, kept)

    tables, problems = load_tables(plan, read, step)
    problems += subject_overlap(plan, tables)
    problems += work_budget(plan, tables)
    prepared, prepare_problems = _prepare(plan, read, step)
    problems += prepare_problems
    if any(p.is_error for p in problems):
        raise SpecError(problems)
    results = {}
    for key, (data, table) in tables.items():
        step(f"bootstrapping {key}")
        results[key] = bootstrap_dataset(data, table, plan.claim.settings)
    context = RunContext(plan.claim, results, prepared)
    sections = {name: diagnostic.run(context) for name, diagnostic in DIAGNOSTICS.items()}
    return build_card(plan, results, sections)


def _prepare(
    plan: Plan, read: Callable[[str, str], bytes], step: Callable[[str], None]
) -> tuple[dict[str, object], list[Problem]]:
    """Each diagnostic's own preparation (the mechanism reads its adapters)."""

    def read_adapter(adapter: str, part: str) -> tuple[str, bytes] | None:
        item = plan.adapter_input(adapter, part)
        return None if item is None else (item.path, read(item.path, item.sha256))

    prepared: dict[str, object] = {}
    problems: list[Problem] = []
    for name, diagnostic in DIAGNOSTICS.items():
        if diagnostic.prepare is not None:
            step(f"preparing {name}")
            prepared[name], found = diagnostic.prepare(plan.claim, read_adapter)
            problems += found
    return prepared, problems
