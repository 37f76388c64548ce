"""Plan -> filled card: load and bootstrap every data set, read the adapters, run (a)-(d)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .adapters import AdapterError, AdapterFile, open_adapter, open_weights
from .card import build_card
from .diagnostics import DIAGNOSTICS
from .diagnostics.context import DataSetResult, RunContext
from .diagnostics.mechanism import measure, measure_safelora
from .ir import WEIGHT_ROLES, DataSet
from .plan import Plan, dataset_key
from .problems import Problem, SpecError
from .records import ClusterTable, load_dataset, read_input
from .span import Span
from .stats.bootstrap import bootstrap_contrasts


def run_plan(
    plan: Plan,
    spec_dir: Path,
    kept: dict[str, bytes] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Execute a plan and return the card (a JSON-ready dict). Raises SpecError on bad input.

    Args:
        plan: the compiled plan; only its inputs are read, each checked against its sha256.
        spec_dir: the folder the plan's paths are relative to.
        kept: bytes `compile_plan` kept (and hashed); files not in it are read and checked.
        on_step: called with a short label as each step starts (a progress display).
    """
    step = on_step or (lambda _label: None)
    claim = plan.claim
    datasets = [claim.heldout] + ([claim.fresh] if claim.fresh else []) + list(claim.transfer)
    tables: dict[str, tuple[DataSet, ClusterTable]] = {}
    problems: list[Problem] = []
    for data in datasets:
        step(f"reading {dataset_key(data)}")
        table, found = load_dataset(plan, data, spec_dir, claim.records, kept)
        problems += found
        if table is not None:
            tables[dataset_key(data)] = (data, table)
    problems += _subject_overlap(plan, tables)
    step("reading adapters")
    mechanism, mechanism_reason, adapter_problems = _read_mechanism(plan, spec_dir, kept)
    problems += adapter_problems
    if any(p.is_error for p in problems):
        raise SpecError(problems)
    results = {}
    for key, (data, table) in tables.items():
        step(f"bootstrapping {key}")
        results[key] = _bootstrap(data, table, plan)
    context = RunContext(claim, results, mechanism, mechanism_reason)
    diagnostics = {name: run(context) for name, run in DIAGNOSTICS.items()}
    return build_card(plan, results, diagnostics)


def _bootstrap(data: DataSet, table: ClusterTable, plan: Plan) -> DataSetResult:
    settings = plan.claim.settings
    key = dataset_key(data)
    if len(table.question_ids) < 2:
        reason = f"`{data.name}` has {len(table.question_ids)} question cluster; at least 2 needed"
        return DataSetResult(key, data.name, table.subject_set, None, reason)
    boot = bootstrap_contrasts(
        table.sums,
        table.counts,
        resamples=settings.resamples,
        confidence=settings.confidence,
        seed=settings.seed,
    )
    return DataSetResult(key, data.name, table.subject_set, boot)


def _subject_overlap(plan: Plan, tables: dict[str, tuple[DataSet, ClusterTable]]) -> list[Problem]:
    if "heldout" not in tables or "fresh" not in tables:
        return []
    shared = tables["heldout"][1].subject_set & tables["fresh"][1].subject_set
    if not shared:
        return []
    where = ", ".join(i.path for i in plan.inputs_for("records/fresh"))
    return [
        Problem(
            f"the fresh-subject records share {len(shared)} subject(s) with the held-out set: "
            + ", ".join(sorted(shared)[:10]),
            Span(where, 0),
            "fresh subjects must be disjoint from the held-out subjects (checked from the data)",
            "subject",
        )
    ]


def _read_adapter(
    plan: Plan, spec_dir: Path, role: str, kept: dict[str, bytes] | None
) -> AdapterFile:
    weights = plan.input(f"adapter/{role}/weights")
    data, problems = read_input(spec_dir, weights, kept)
    if problems:
        raise AdapterError(f"{weights.path}: {problems[0].summary}")
    config_data = None
    configs = [i for i in plan.inputs if i.role == f"adapter/{role}/config"]
    if configs:
        config_data, problems = read_input(spec_dir, configs[0], kept)
        if problems:
            raise AdapterError(f"{configs[0].path}: {problems[0].summary}")
    adapter = plan.claim.adapter(role)
    assert adapter is not None and data is not None
    return open_adapter(data, weights.path, config_data, adapter.scale, weights.path)


def _read_mechanism(
    plan: Plan, spec_dir: Path, kept: dict[str, bytes] | None
) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    if not plan.claim.adapters:
        return None, "the claim declares no adapters", []
    try:
        u, d, r = (
            _read_adapter(plan, spec_dir, role, kept)
            for role in ("undefended", "defended", "reference")
        )
        modules, coverage = measure(u, d, r, plan.claim.settings.rank_rtol)
        safelora = _read_safelora(plan, spec_dir, kept, u)
    except AdapterError as error:
        return (
            None,
            "",
            [Problem(str(error), None, "see README, 'Adapters'", "claim.adapters")],
        )
    return {"modules": modules, "coverage": coverage, "safelora": safelora}, "", []


def _read_safelora(
    plan: Plan, spec_dir: Path, kept: dict[str, bytes] | None, undefended: AdapterFile
) -> dict[str, Any] | None:
    if plan.claim.adapter("base") is None:
        return None
    base, aligned = (_read_weights(plan, spec_dir, kept, role) for role in WEIGHT_ROLES)
    return measure_safelora(undefended, base, aligned, plan.claim.settings.safelora_threshold)


def _read_weights(
    plan: Plan, spec_dir: Path, kept: dict[str, bytes] | None, role: str
) -> AdapterFile:
    item = plan.input(f"weights/{role}")
    data, problems = read_input(spec_dir, item, kept)
    if data is None:
        raise AdapterError(f"{item.path}: {problems[0].summary}")
    return open_weights(data, item.path)
