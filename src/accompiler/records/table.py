"""A data set's record files (as columns) -> a validated ClusterTable: per-question sums and
counts of the four cells; or every problem, grouped by cause (`faults.py`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..problems import Problem
from ..protocol import ARMS, CELLS, CONDITIONS
from ..span import Span
from . import faults
from .columns import FileColumns
from .formats import RecordFormat
from .readers import ReadError, is_missing

_TEXT_FIELDS = ("question_id", "template_id", "subject")
ARM_INDEX = {arm: i for i, arm in enumerate(ARMS)}
CONDITION_INDEX = {condition: i for i, condition in enumerate(CONDITIONS)}
_EXACT_GRID = 23
"""Scores on a 2^-23 grid sum exactly in any order below 2^30 rows (numpy's bincount then
equals math.fsum bit for bit)."""


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


def text_field(value: Any) -> str | None:
    """An id or subject as text: a string (without NUL or lone surrogates, which no card or
    terminal can carry) or an integer (also written as an integral float); else None."""
    if isinstance(value, bool) or is_missing(value):
        return None
    if isinstance(value, str):
        if "\x00" in value or not _encodable(value):
            return None
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class _Rows:
    """Every kept row of a data set, coded; a fault code per field (0: valid)."""

    source: list[NDArray[np.int32]] = field(default_factory=list)
    local: list[NDArray[np.int64]] = field(default_factory=list)
    values: dict[str, list[NDArray[Any]]] = field(default_factory=dict)
    faults: dict[str, list[NDArray[np.int8]]] = field(default_factory=dict)
    raw: dict[str, list[NDArray[np.int32]]] = field(default_factory=dict)
    not_object: list[NDArray[np.bool_]] = field(default_factory=list)

    def add(self, name: str, values: NDArray[Any], fault: NDArray[np.int8], raw: Any) -> None:
        self.values.setdefault(name, []).append(values)
        self.faults.setdefault(name, []).append(fault)
        self.raw.setdefault(name, []).append(raw)

    def joined(self, parts: list[NDArray[Any]]) -> NDArray[Any]:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def build_table(
    sources: list[SourceFile],
    fields: dict[str, str],
    record_format: RecordFormat,
    lm_filter: str | None = None,
    spans: Mapping[str, Span] | None = None,
) -> tuple[ClusterTable | None, list[Problem]]:
    """Validate every row of a data set's files and sum it into a ClusterTable.

    Args:
        sources: the data set's files, in the claim's order.
        fields: where each canonical field is read (dotted paths).
        record_format: the files' format.
        lm_filter: lm-eval's filter to score (the others' samples are skipped).
        spans: where the spec writes each field's mapping (and `filter`), so that a mapping
            no row fits is pointed at.
    """
    check = faults.Check(sources, fields, record_format, lm_filter, dict(spans or {}))
    rows = _Rows()
    texts: list[dict[str, int]] = [{}, {}, {}]
    for index, source in enumerate(sources):
        columns = _read(check, index, source)
        if columns is not None:
            _code_file(check, rows, index, source, columns, texts)
    check.filter_problems()
    if not rows.source:
        return None, check.sorted_problems()
    coded = _Coded.of(rows, [list(t) for t in texts])
    check.row_faults(coded)
    if check.problems:
        return None, check.sorted_problems()
    check.pairing(coded)
    if check.problems:
        return None, check.sorted_problems()
    return _sum_table(coded, record_format.repeats_are_epochs), []


def _read(check: faults.Check, index: int, source: SourceFile) -> FileColumns | None:
    paths = {
        name: tuple(path.split("."))
        for name, path in check.fields.items()
        if not (name == "arm" and source.arm) and not (name == "condition" and source.condition)
    }
    if check.lm_filter is not None:
        paths["filter"] = ("filter",)
    try:
        columns = check.format.columns(source.data, source.suffix, paths)
    except ReadError as error:
        check.file_problem(index, error)
        return None
    check.files[index] = columns
    if columns.error is not None:
        check.file_problem(index, columns.error, after=columns.rows)
    elif columns.rows == 0:
        check.empty(index)
    return columns


def _code_file(
    check: faults.Check,
    rows: _Rows,
    index: int,
    source: SourceFile,
    columns: FileColumns,
    texts: list[dict[str, int]],
) -> None:
    kept = check.filtered(index, columns)
    local = np.flatnonzero(kept) if kept is not None else np.arange(columns.rows)
    if not len(local):
        return
    rows.source.append(np.full(len(local), index, np.int32))
    rows.local.append(local)
    rows.not_object.append(columns.not_object[local])
    for name, table in zip(_TEXT_FIELDS, texts, strict=True):
        used = columns.columns[name].codes[local]
        values = columns.columns[name].values
        present = np.flatnonzero(np.bincount(used, minlength=len(values)))  # np.unique(used)
        codes, fault = _text_codes(values, table, present)
        rows.add(name, codes[used], fault[used], used)
    for name, allowed, fixed in (
        ("condition", CONDITION_INDEX, source.condition),
        ("arm", ARM_INDEX, source.arm),
    ):
        if fixed is not None:
            zeros = np.zeros(len(local), np.int8)
            rows.add(name, np.full(len(local), allowed[fixed], np.int8), zeros, None)
            continue
        used = columns.columns[name].codes[local]
        choices, fault = _choice_codes(columns.columns[name].values, allowed)
        rows.add(name, choices[used], fault[used], used)
    used = columns.columns["correct"].codes[local]
    scores, fault = _score_values(columns.columns["correct"].values, check.format)
    rows.add("correct", scores[used], fault[used], used)


def _text_codes(
    values: list[Any], table: dict[str, int], used: NDArray[np.int64]
) -> tuple[NDArray[np.int32], NDArray[np.int8]]:
    """Codes of the texts (in the data set's order of first appearance) of the values the
    kept rows use; a fault for each value that is no id."""
    codes = np.full(len(values), -1, np.int32)
    fault = np.zeros(len(values), np.int8)
    for k in used.tolist():
        value = values[k]
        text = text_field(value)
        if text is None:
            fault[k] = faults.MISSING if is_missing(value) else faults.INVALID
        else:
            codes[k] = table.setdefault(text, len(table))
    return codes, fault


def _choice_codes(
    values: list[Any], allowed: dict[str, int]
) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    codes = np.full(len(values), -1, np.int8)
    fault = np.zeros(len(values), np.int8)
    for k, value in enumerate(values):
        if isinstance(value, str) and value in allowed:
            codes[k] = allowed[value]
        else:
            fault[k] = faults.MISSING if is_missing(value) else faults.UNKNOWN
    return codes, fault


def _score_values(
    values: list[Any], record_format: RecordFormat
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    scores = np.zeros(len(values))
    fault = np.zeros(len(values), np.int8)
    for k, raw in enumerate(values):
        fault[k] = faults.score_fault(raw, record_format.score(raw))
        if not fault[k]:
            scores[k] = record_format.score(raw)
    return scores, fault


@dataclass
class _Coded:
    """A data set's kept rows, joined across files."""

    source: NDArray[np.int32]
    local: NDArray[np.int64]
    not_object: NDArray[np.bool_]
    values: dict[str, NDArray[Any]]
    faults: dict[str, NDArray[np.int8]]
    raw: dict[str, NDArray[np.int32] | None]
    texts: list[list[str]]

    @classmethod
    def of(cls, rows: _Rows, texts: list[list[str]]) -> _Coded:
        raw: dict[str, NDArray[np.int32] | None] = {}
        for name, parts in rows.raw.items():
            raw[name] = None if any(p is None for p in parts) else rows.joined(parts)
        return cls(
            rows.joined(rows.source),
            rows.joined(rows.local),
            rows.joined(rows.not_object),
            {name: rows.joined(parts) for name, parts in rows.values.items()},
            {name: rows.joined(parts) for name, parts in rows.faults.items()},
            raw,
            texts,
        )

    @property
    def valid(self) -> NDArray[np.bool_]:
        ok = ~self.not_object
        for fault in self.faults.values():
            ok &= fault == 0
        return ok

    def item_keys(self, rows: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
        v = self.values
        if rows is None:
            question, template, arm, condition = (
                v["question_id"],
                v["template_id"],
                v["arm"],
                v["condition"],
            )
        else:
            question, template = v["question_id"][rows], v["template_id"][rows]
            arm, condition = v["arm"][rows], v["condition"][rows]
        templates = max(len(self.texts[1]), 1)
        key: NDArray[np.int64] = question.astype(np.int64) * templates
        key += template
        key = (key * 2 + arm) * 2 + condition
        return key


# --- sums ------------------------------------------------------------------------------------


def _sum_table(coded: _Coded, repeats_are_epochs: bool) -> ClusterTable:
    """Sum items per question and cell exactly (math.fsum's value, whatever the row order);
    repeated keys (inspect epochs) are averaged first."""
    questions, subjects = coded.texts[0], coded.texts[2]
    order = sorted(range(len(questions)), key=questions.__getitem__)
    position = np.empty(len(questions), np.int64)
    position[order] = np.arange(len(questions))
    key = coded.item_keys()
    scores = coded.values["correct"]
    if repeats_are_epochs:
        key, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        scores = _means(inverse, scores, len(key))
        rows = first
    else:
        rows = np.arange(len(key))
    cell = position[coded.values["question_id"][rows]] * 4
    cell += coded.values["arm"][rows].astype(np.int64) * 2 + coded.values["condition"][rows]
    size = 4 * len(questions)
    counts = np.bincount(cell, minlength=size).astype(np.float64).reshape(-1, 4)
    sums = _exact_sums(cell, scores, size).reshape(-1, 4)
    first_subject = np.empty(len(questions), np.int64)
    first_subject[coded.values["question_id"][::-1]] = coded.values["subject"][::-1]
    return ClusterTable(
        tuple(questions[g] for g in order),
        tuple(subjects[first_subject[g]] for g in order),
        sums,
        counts,
    )


def _on_grid(scores: NDArray[np.float64]) -> bool:
    grid = np.ldexp(scores, _EXACT_GRID)
    return len(scores) < (1 << 30) and bool(np.all(grid == np.floor(grid)))


def _exact_sums(
    cell: NDArray[np.int64], scores: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """math.fsum of each cell's scores (as today's per-item reader summed them)."""
    if _on_grid(scores):
        return np.bincount(cell, weights=scores, minlength=size).astype(np.float64)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(size + 1))
    values = scores[order].tolist()
    sums = np.zeros(size)
    for c in np.flatnonzero(bounds[1:] > bounds[:-1]):
        sums[c] = math.fsum(values[bounds[c] : bounds[c + 1]])
    return sums


def _means(
    inverse: NDArray[np.int64], scores: NDArray[np.float64], items: int
) -> NDArray[np.float64]:
    """Each item's mean score, fsum(scores) / len(scores) (an inspect sample's epochs)."""
    counts = np.bincount(inverse, minlength=items)
    totals = _exact_sums(inverse, scores, items)
    return totals / counts


def cell_name(arm: int, condition: int) -> str:
    return f"{ARMS[arm]}/{CONDITIONS[condition]}"


__all__ = ["CELLS", "ClusterTable", "SourceFile", "build_table", "text_field"]
