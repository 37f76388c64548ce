"""Record formats, one entry each: file suffixes, default field paths, the readers (rows, and
columns), the score conversion, and the repeat and filter rules. Adding a format is one
reader and one entry. Nothing here imports numpy: the claim's decoder reads this table."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .readers import (
    ReadError,
    Row,
    lookup,
    read_csv,
    read_inspect,
    read_inspect_log,
    read_jsonl,
    read_parquet,
)

if TYPE_CHECKING:
    from .columns import FileColumns, Paths

RECORD_FIELDS = ("question_id", "template_id", "subject", "condition", "arm", "correct")


@dataclass(frozen=True)
class RecordFormat:
    name: str
    suffixes: tuple[str, ...]
    fields: Mapping[str, str]
    """Where each canonical field lives in a row (dotted paths), unless the claim says."""
    read: Callable[[bytes, str], Iterator[Row]]
    """(file bytes, lower-case suffix) -> (row id, row) pairs, for probing a file's first
    rows (`accard init`, a problem's "the file has"); Parquet yields its first 50 only.
    Tables are built from `columns`."""
    columns: Callable[[bytes, str, Paths], FileColumns]
    """(file bytes, lower-case suffix, the paths to read) -> the file as columns."""
    text_scores: Mapping[str, float] = field(default_factory=dict)
    """Score strings with a conventional value (inspect's value_to_float)."""
    repeats_are_epochs: bool = False
    """Rows sharing an item key are epochs of one sample, averaged (inspect's mean reducer);
    otherwise a repeated key is a duplicate item."""
    filtered: bool = False
    """The tool logs each doc once per filter, and `filter "name"` chooses the one scored."""
    duplicate_hint: str = ""
    log_level: str = ""
    """The first part of a path that names a log-level value (inspect: `eval`), not a row's."""

    def score(self, value: Any) -> float | None:
        """The row's score as a float (NaN kept, to be reported), or None if it is none."""
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            if value in self.text_scores:
                return self.text_scores[value]
            try:
                value = float(value)
            except ValueError:
                return None
        if isinstance(value, (int, float)):
            try:
                number = float(value)
            except OverflowError:  # an integer beyond float range
                return None
            return None if math.isinf(number) else number
        return None


def _canonical_rows(data: bytes, suffix: str) -> Iterator[Row]:
    if suffix == ".csv":
        return read_csv(data)
    if suffix == ".parquet":
        return read_parquet(data)
    return read_jsonl(data)


def _jsonl_rows(data: bytes, _suffix: str) -> Iterator[Row]:
    return read_jsonl(data)


def _canonical_columns(data: bytes, suffix: str, paths: Paths) -> FileColumns:
    from .columns import csv_columns, jsonl_columns

    if suffix == ".csv":
        return csv_columns(data, paths)
    if suffix == ".parquet":
        from .parquet import parquet_columns

        return parquet_columns(data, paths)
    return jsonl_columns(data, paths)


def _jsonl_columns(data: bytes, _suffix: str, paths: Paths) -> FileColumns:
    from .columns import jsonl_columns

    return jsonl_columns(data, paths)


def _inspect_columns(data: bytes, suffix: str, paths: Paths) -> FileColumns:
    """Samples as rows; a path under `eval.` is the log header's value, one for the file."""
    from .columns import Coder, columns_from_rows

    logged = {name: parts for name, parts in paths.items() if parts[0] == "eval"}
    rows, header = read_inspect_log(data, suffix)
    columns = columns_from_rows(rows, {n: p for n, p in paths.items() if n not in logged})
    if logged and header is None and columns.error is None:
        columns.error = ReadError("an inspect log without its `eval` header")
    for name, parts in logged.items():
        coder = Coder()
        coder.add_constant(lookup(header, parts[1:]) if header is not None else None, columns.rows)
        columns.columns[name] = coder.column()
    return columns


FORMATS: dict[str, RecordFormat] = {
    "canonical": RecordFormat(
        "canonical",
        (".jsonl", ".csv", ".parquet"),
        {name: name for name in RECORD_FIELDS},
        _canonical_rows,
        _canonical_columns,
    ),
    "lm_eval": RecordFormat(
        "lm_eval",
        (".jsonl",),
        {
            "question_id": "doc.question_id",
            "template_id": "doc.template_id",
            "subject": "doc.subject",
            "condition": "doc.condition",
            "arm": "doc.arm",
            "correct": "acc",
        },
        _jsonl_rows,
        _jsonl_columns,
        filtered=True,
        duplicate_hint=(
            '; lm-eval logs a doc once per filter: choose one with `filter "name"` in the '
            "records block"
        ),
    ),
    "inspect": RecordFormat(
        "inspect",
        (".eval", ".json"),
        {
            "question_id": "metadata.question_id",
            "template_id": "metadata.template_id",
            "subject": "metadata.subject",
            "condition": "metadata.condition",
            "arm": "metadata.arm",
            "correct": "scores.match.value",
        },
        read_inspect,
        _inspect_columns,
        text_scores={"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0},
        repeats_are_epochs=True,
        log_level="eval",
    ),
}
