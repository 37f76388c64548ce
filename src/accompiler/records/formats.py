"""Record formats, one entry each: file suffixes, default field paths, the reader, the score
conversion, and the repeat and filter rules. Adding a format is one reader and one entry."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .readers import Row, read_csv, read_inspect, read_jsonl, read_parquet

RECORD_FIELDS = ("question_id", "template_id", "subject", "condition", "arm", "correct")


@dataclass(frozen=True)
class RecordFormat:
    name: str
    suffixes: tuple[str, ...]
    fields: Mapping[str, str]
    """Where each canonical field lives in a row (dotted paths), unless the claim says."""
    read: Callable[[bytes, str], Iterator[Row]]
    """(file bytes, lower-case suffix) -> (row id, row) pairs."""
    text_scores: Mapping[str, float] = field(default_factory=dict)
    """Score strings with a conventional value (inspect's value_to_float)."""
    repeats_are_epochs: bool = False
    """Rows sharing an item key are epochs of one sample, averaged (inspect's mean reducer);
    otherwise a repeated key is a duplicate item."""
    filtered: bool = False
    """The tool logs each doc once per filter, and `filter "name"` chooses the one scored."""
    duplicate_hint: str = ""

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


FORMATS: dict[str, RecordFormat] = {
    "canonical": RecordFormat(
        "canonical",
        (".jsonl", ".csv", ".parquet"),
        {name: name for name in RECORD_FIELDS},
        _canonical_rows,
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
        text_scores={"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0},
        repeats_are_epochs=True,
    ),
}
