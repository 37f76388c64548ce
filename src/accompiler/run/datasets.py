"""Each planned data set: verified bytes -> ClusterTable -> bootstrapped DataSetResult."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from ..claim.model import DataSet
from ..claim.settings import Settings
from ..diagnostics import DataSetResult
from ..files import InputError
from ..plan import Plan, PlannedDataSet
from ..problems import Problem
from ..records import FORMATS, RECORD_FIELDS, ClusterTable, SourceFile, build_table
from ..span import Span
from ..stats.bootstrap import bootstrap_contrasts

Reader = Callable[[str, str], bytes]
Tables = dict[str, tuple[DataSet, ClusterTable]]


def load_tables(
    plan: Plan, read: Reader, step: Callable[[str], None]
) -> tuple[Tables, list[Problem]]:
    """Every data set's validated table (those that have one) and every problem found."""
    tables: Tables = {}
    problems: list[Problem] = []
    for planned in plan.datasets:
        step(f"reading {planned.key}")
        table, found = _load(plan, planned, read)
        problems += found
        if table is not None:
            tables[planned.key] = (planned.data, table)
    return tables, problems


def _load(
    plan: Plan, planned: PlannedDataSet, read: Reader
) -> tuple[ClusterTable | None, list[Problem]]:
    sources, problems = [], []
    for item in planned.inputs:
        try:
            data = read(item.path, item.sha256)
        except InputError as error:
            problems.append(Problem(error.summary, Span(item.path, 0), error.detail))
            continue
        suffix = PurePosixPath(item.path).suffix.lower()
        sources.append(SourceFile(item.path, data, suffix, item.arm, item.condition))
    if problems:
        return None, problems
    records = planned.data.records
    return build_table(
        sources,
        records.field_map(),
        FORMATS[records.format],
        records.filter,
        _mapping_spans(plan, planned.data),
    )


def _mapping_spans(plan: Plan, data: DataSet) -> dict[str, Span]:
    """Where the spec gives each field's path (and `filter`) for this data set: the value
    when written, else the format word of the `records` statement that applies (its own, or
    the claim's); nothing when the format is the default one, never written."""
    claim = plan.claim
    if data.role == "transfer":
        index = next(i for i, t in enumerate(claim.transfer) if t.name == data.name)
        base = f"claim.transfer[{index}]"
    else:
        base = f"claim.{data.role}"
    prefix = f"{base}.records" if f"{base}.records" in claim.spans else "claim.records"
    statement = claim.spans.get(f"{prefix}.format") or claim.spans.get(prefix)
    spans: dict[str, Span] = {}
    for name in (*RECORD_FIELDS, "filter"):
        span = claim.spans.get(f"{prefix}.{name}", statement)
        if span is not None:
            spans[name] = span
    return spans


MAX_DRAWS = 5 * 10**9
"""Cluster draws (resamples x clusters, summed over the data sets) a claim may ask for:
250,000 questions at B = 5,000 is 1.25e9; past this a run takes longer than any review."""


def work_budget(plan: Plan, tables: Tables) -> list[Problem]:
    """A problem at the `resamples` setting when the claim asks for more bootstrap work than
    MAX_DRAWS allows (checked before any resample is drawn)."""
    resamples = plan.claim.settings.resamples
    clusters = [len(table.question_ids) for _data, table in tables.values()]
    draws = resamples * sum(clusters)
    if draws <= MAX_DRAWS:
        return []
    field = "claim.settings.resamples"
    return [
        Problem(
            f"`resamples` {resamples:,} x {sum(clusters):,} question clusters "
            f"({len(clusters)} data set{'s' if len(clusters) != 1 else ''}) is {draws:.2g} "
            f"cluster draws; the limit is {MAX_DRAWS:.0g}",
            plan.claim.spans.get(field) or plan.claim.spans.get("claim.settings"),
            "lower `resamples` (5,000 is the paper's) or split the claim",
            field,
        )
    ]


def bootstrap_dataset(data: DataSet, table: ClusterTable, settings: Settings) -> DataSetResult:
    """The data set's intervals; a data set of fewer than 2 clusters is degenerate."""
    if len(table.question_ids) < 2:
        reason = f"`{data.name}` has {len(table.question_ids)} question cluster; at least 2 needed"
        return DataSetResult(
            data.key, data.name, table.subject_set, None, reason, data.records.format
        )
    boot = bootstrap_contrasts(
        table.sums,
        table.counts,
        resamples=settings.resamples,
        confidence=settings.confidence,
        seed=settings.seed,
    )
    return DataSetResult(data.key, data.name, table.subject_set, boot, "", data.records.format)


def subject_overlap(plan: Plan, tables: Tables) -> list[Problem]:
    """Fresh subjects must be disjoint from the held-out ones: an overlap is an input error."""
    if "heldout" not in tables or "fresh" not in tables:
        return []
    shared = tables["heldout"][1].subject_set & tables["fresh"][1].subject_set
    if not shared:
        return []
    fresh = next(d for d in plan.datasets if d.key == "fresh")
    where = ", ".join(i.path for i in fresh.inputs)
    return [
        Problem(
            f"the fresh-subject records share {len(shared)} subject(s) with the held-out set: "
            + ", ".join(sorted(shared)[:10]),
            Span(where, 0),
            "fresh subjects must be disjoint from the held-out subjects (checked from the data)",
            "subject",
        )
    ]
