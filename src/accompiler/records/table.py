"""Raw rows -> a validated ClusterTable: per-question sums and counts of the four cells."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..problems import MAX_REPORTED, Problem
from ..protocol import ARMS, CELLS, CONDITIONS
from ..span import Span
from .formats import RecordFormat
from .readers import ReadError, Row, is_missing


@dataclass(frozen=True)
class ClusterTable:
    """One data set, validated: question ids (sorted), their subjects, and cell sums/counts."""

    question_ids: tuple[str, ...]
    subjects: tuple[str, ...]
    sums: NDArray[np.float64]
    counts: NDArray[np.float64]

    @property
    def subject_set(self) -> frozenset[str]:
        return frozenset(self.subjects)


@dataclass(frozen=True)
class SourceFile:
    """One record file of a data set: its bytes, suffix, display path, and the arm and
    condition every row of it has when the claim says so (else read from each row)."""

    path: str
    data: bytes
    suffix: str
    arm: str | None
    condition: str | None = None


class TooManyProblems(Exception):
    pass


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)
        if len(self.problems) >= MAX_REPORTED:
            raise TooManyProblems


def _lookup(row: dict[str, Any], parts: tuple[str, ...]) -> Any:
    if len(parts) == 1:
        return row.get(parts[0])
    value: Any = row
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _span(path: str, row: int | str) -> Span:
    if isinstance(row, int):
        return Span(path, row)
    return Span(f"{path}#{row}", 0)


def _text_field(value: Any) -> str | None:
    if isinstance(value, bool) or is_missing(value):
        return None
    if isinstance(value, int) or isinstance(value, str):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _score_fault(raw: Any, score: float | None) -> str:
    if raw is None or raw == "":
        return "is missing"
    if score is None:
        return f"{raw!r} is not a number"
    if math.isnan(score):
        return "is NaN"
    return f"{raw!r} is outside [0, 1]"


_TEXT_FIELDS = ("question_id", "template_id", "subject")
ARM_INDEX = {arm: i for i, arm in enumerate(ARMS)}
CONDITION_INDEX = {condition: i for i, condition in enumerate(CONDITIONS)}


def _parse_row(
    source: SourceFile,
    row_id: int | str,
    row: Any,
    fields: dict[str, str],
    parts: dict[str, tuple[str, ...]],
    record_format: RecordFormat,
    out: _Collector,
) -> tuple[str, str, str, int, int, float] | None:
    def problem(summary: str, detail: str, field: str = "") -> None:
        out.add(Problem(summary, _span(source.path, row_id), detail, field))

    if not isinstance(row, dict):
        problem("a row is not an object", "each row must be a JSON object")
        return None
    texts = []
    for name in _TEXT_FIELDS:
        text = _text_field(_lookup(row, parts[name]))
        if text is None:
            problem(f"missing or invalid `{name}`", f"read from `{fields[name]}`", fields[name])
            return None
        texts.append(text)
    condition = source.condition or _lookup(row, parts["condition"])
    if condition not in CONDITION_INDEX:
        problem(f"unknown condition {condition!r}", "expected deploy or eval", fields["condition"])
        return None
    arm = source.arm or _lookup(row, parts["arm"])
    if arm not in ARM_INDEX:
        problem(f"unknown arm {arm!r}", "expected undefended or defended", fields["arm"])
        return None
    raw = _lookup(row, parts["correct"])
    score = record_format.score(raw)
    if score is None or math.isnan(score) or not 0 <= score <= 1:
        problem(
            f"score {_score_fault(raw, score)}",
            "`correct` must be a number in [0, 1]",
            fields["correct"],
        )
        return None
    return texts[0], texts[1], texts[2], ARM_INDEX[arm], CONDITION_INDEX[condition], score


def build_table(
    sources: list[SourceFile],
    fields: dict[str, str],
    record_format: RecordFormat,
    lm_filter: str | None = None,
) -> tuple[ClusterTable | None, list[Problem]]:
    """Validate every row of a data set's files and sum it into a ClusterTable."""
    out = _Collector()
    items: dict[tuple[str, str, int, int], list[float]] = {}
    first_seen: dict[tuple[str, str, int, int], tuple[str, int | str]] = {}
    subjects: dict[str, tuple[str, str, int | str]] = {}
    try:
        for source in sources:
            _read_source(
                source,
                fields,
                record_format,
                _selected(record_format, lm_filter, out),
                out,
                items,
                first_seen,
                subjects,
            )
        if not out.problems:
            _pairing_problems(items, first_seen, sources, out)
    except TooManyProblems:
        out.problems.append(
            Problem(
                f"stopped reading after {MAX_REPORTED} problems",
                None,
                "fix these and run again",
                severity="note",
            )
        )
    if out.problems:
        return None, out.problems
    return _sum_table(items, subjects), []


RowsOf = Callable[[SourceFile], Iterator[Row]]


def _selected(record_format: RecordFormat, lm_filter: str | None, out: _Collector) -> RowsOf:
    """The rows of a file; of one filter only when the claim names one (lm-eval logs each
    doc once per filter)."""

    def rows_of(source: SourceFile) -> Iterator[Row]:
        return record_format.read(source.data, source.suffix)

    if lm_filter is None:
        return rows_of

    def rows(source: SourceFile) -> Iterator[Row]:
        kept = 0
        for row_id, row in rows_of(source):
            if isinstance(row, dict) and "filter" not in row:
                out.add(
                    Problem(
                        "a sample without a `filter` field",
                        _span(source.path, row_id),
                        "remove `filter` from the records block for files that do not record it",
                        "filter",
                    )
                )
            elif not isinstance(row, dict) or row["filter"] == lm_filter:
                kept += 1
                yield row_id, row
        if kept == 0:
            out.add(
                Problem(
                    f"no sample has filter {lm_filter!r}",
                    Span(source.path, 1),
                    "name a filter the file holds (its `filter` field)",
                    "filter",
                )
            )

    return rows


def _read_source(
    source: SourceFile,
    fields: dict[str, str],
    record_format: RecordFormat,
    rows_of: RowsOf,
    out: _Collector,
    items: dict[Any, list[float]],
    first_seen: dict[Any, tuple[str, int | str]],
    subjects: dict[str, tuple[str, str, int | str]],
) -> None:
    parts = {name: tuple(path.split(".")) for name, path in fields.items()}
    repeats_allowed = record_format.repeats_are_epochs
    count = 0
    try:
        for row_id, row in rows_of(source):
            count += 1
            parsed = _parse_row(source, row_id, row, fields, parts, record_format, out)
            if parsed is None:
                continue
            question, template, subject, arm, condition, score = parsed
            known = subjects.setdefault(question, (subject, source.path, row_id))
            if known[0] != subject:
                out.add(
                    Problem(
                        f"question {question!r} has subject {subject!r} here and "
                        f"{known[0]!r} at {_span(known[1], known[2]).location()}",
                        _span(source.path, row_id),
                        "a question belongs to one subject",
                        fields["subject"],
                    )
                )
            key = (question, template, arm, condition)
            scores = items.get(key)
            if scores is None:
                items[key] = [score]
                first_seen[key] = (source.path, row_id)
            elif repeats_allowed:
                scores.append(score)
            else:
                out.add(
                    Problem(
                        f"duplicate item {_describe(key)}",
                        _span(source.path, row_id),
                        f"first seen at {_span(*first_seen[key]).location()}"
                        + record_format.duplicate_hint,
                    )
                )
    except ReadError as error:
        span = _span(source.path, error.row) if error.row is not None else Span(source.path, 1)
        out.add(Problem(str(error), span))
        return
    if count == 0:
        out.add(
            Problem(
                "the record file is empty",
                Span(source.path, 1),
                "every declared record file must hold rows",
            )
        )


def _describe(key: tuple[str, str, int, int]) -> str:
    question, template, arm, condition = key
    return f"(question {question!r}, template {template!r}, {CONDITIONS[condition]}, {ARMS[arm]})"


def _pairing_problems(
    items: dict[Any, list[float]],
    first_seen: dict[Any, tuple[str, int | str]],
    sources: list[SourceFile],
    out: _Collector,
) -> None:
    display = sources[0].path if len(sources) == 1 else ", ".join(s.path for s in sources)
    cells: dict[str, set[tuple[int, int]]] = {}
    for question, template, arm, condition in items:
        cells.setdefault(question, set()).add((arm, condition))
        partner = (question, template, 1 - arm, condition)
        if partner not in items:
            out.add(
                Problem(
                    f"item {_describe((question, template, arm, condition))} has no "
                    f"{ARMS[1 - arm]} counterpart",
                    Span(display, 0),
                    f"the arms are paired: every item needs both (seen at "
                    f"{_span(*first_seen[(question, template, arm, condition)]).location()})",
                )
            )
    for question, present in sorted(cells.items()):
        if len(present) < 4:
            missing = [
                f"{ARMS[a]}/{CONDITIONS[c]}"
                for a in range(2)
                for c in range(2)
                if (a, c) not in present
            ]
            out.add(
                Problem(
                    f"question {question!r} lacks {', '.join(missing)}",
                    Span(display, 0),
                    "each question needs all four (arm, condition) combinations",
                )
            )


def _sum_table(
    items: dict[tuple[str, str, int, int], list[float]],
    subjects: dict[str, tuple[str, str, int | str]],
) -> ClusterTable:
    """Sum items per question and cell with math.fsum (exactly rounded), so the table does
    not depend on row order; repeated keys (inspect epochs) are averaged first."""
    questions = sorted(subjects)
    index = {q: i for i, q in enumerate(questions)}
    cells: dict[tuple[int, int], list[float]] = {}
    for (question, _template, arm, condition), scores in items.items():
        cells.setdefault((index[question], arm * 2 + condition), []).append(
            math.fsum(scores) / len(scores)
        )
    sums = np.zeros((len(questions), len(CELLS)))
    counts = np.zeros((len(questions), len(CELLS)))
    for (row, cell), values in cells.items():
        sums[row, cell] = math.fsum(values)
        counts[row, cell] = len(values)
    return ClusterTable(tuple(questions), tuple(subjects[q][0] for q in questions), sums, counts)
