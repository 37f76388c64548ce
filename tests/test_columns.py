"""The columnar JSONL reader (msgspec in blocks) against its reference, `json.loads` line
by line (`readers.read_jsonl`): the same rows, row ids, raw values and codes, or the same
read problem, on every file, including the ones where msgspec and json.loads disagree and
the block must fall back."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accompiler.records import columns
from accompiler.records.columns import FileColumns, columns_from_rows, jsonl_columns
from accompiler.records.readers import ReadError, read_jsonl

CANONICAL = {name: (name,) for name in ("question_id", "template_id", "subject", "correct")}
NESTED = {
    "question_id": ("doc", "question_id"),
    "template_id": ("doc", "template_id"),
    "correct": ("acc",),
    "filter": ("filter",),
}


def reference(data: bytes, paths: dict[str, tuple[str, ...]]) -> FileColumns:
    return columns_from_rows(read_jsonl(data), paths)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b and repr(a) == repr(b)


def assert_same(data: bytes, paths: dict[str, tuple[str, ...]]) -> None:
    try:
        expected = reference(data, paths)
    except ReadError as error:
        with pytest.raises(ReadError) as caught:
            jsonl_columns(data, paths)
        assert (str(caught.value), caught.value.row) == (str(error), error.row)
        return
    try:
        actual = jsonl_columns(data, paths)
    except ReadError as error:  # a whole-file fault: the reference ends there too
        assert expected.error is not None, error
        assert (str(error), error.row) == (str(expected.error), expected.error.row)
        return
    assert actual.rows == expected.rows
    assert [actual.row_id(i) for i in range(actual.rows)] == [
        expected.row_id(i) for i in range(expected.rows)
    ]
    assert (actual.error is None) == (expected.error is None)
    if expected.error is not None:
        assert actual.error is not None
        assert (str(actual.error), actual.error.row) == (str(expected.error), expected.error.row)
    assert np.array_equal(actual.not_object, expected.not_object)
    for name in paths:
        a, e = actual.columns[name], expected.columns[name]
        rows_a = [a.values[c] for c in a.codes.tolist()]
        rows_e = [e.values[c] for c in e.codes.tolist()]
        assert all(map(_same_value, rows_a, rows_e)), name
        # one code per distinct value, in both
        assert len(a.values) == len(e.values), name


ROW = {"question_id": "q1", "template_id": "t", "subject": "s", "correct": 1}
TRICKY = {
    "plain": b'{"question_id": "q", "template_id": "t", "subject": "s", "correct": 1}\n',
    "crlf_blank_lines": b'{"question_id": "q", "correct": 0.5}\r\n\r\n  \n{"question_id": 5}\r\n',
    "bom": b'\xef\xbb\xbf{"question_id": "q"}\n',
    "no_final_newline": b'{"question_id": "q"}\n{"question_id": "r"}',
    "u2028_inside_a_string": '{"question_id": "a\u2028b"}\n'.encode(),
    "nbsp_line": '{"question_id": "q"}\n\u00a0\n'.encode(),
    "nan_literal": b'{"question_id": "q", "correct": NaN}\n{"correct": Infinity}\n',
    "duplicate_keys": b'{"question_id": "a", "question_id": "b"}\n',
    "big_int": b'{"question_id": 1180591620717411303425}\n',
    "bool_int_float": b'{"question_id": true}\n{"question_id": 1}\n{"question_id": 1.0}\n',
    "negative_zero": b'{"correct": -0.0}\n{"correct": 0.0}\n{"correct": 0}\n',
    "null_and_array_lines": b'{"question_id": "q"}\nnull\n[1, 2]\n5\n',
    "two_objects_one_line": b'{"question_id": "q"} {"question_id": "r"}\n',
    "invalid_json": b'{"question_id": "q"}\n{"question_id": \n',
    "escapes": b'{"question_id": "\\u00e9\\ud83d\\ude00", "subject": "\\ud800"}\n',
    "nested_extra": b'{"question_id": "q", "x": {"y": [1, {"z": null}]}}\n',
    "object_where_a_value_is": b'{"question_id": {"a": 1}, "correct": [1]}\n',
    "non_utf8": b'{"question_id": "q\xff"}\n',
}
LM_EVAL = {
    "doc_missing": b'{"doc_id": 0, "acc": 1.0, "filter": "none"}\n',
    "doc_not_an_object": b'{"doc": 5, "acc": 1.0}\n{"doc": null}\n',
    "doc_nested": b'{"doc": {"question_id": "q", "template_id": 3}, "acc": 0.0, "filter": "x"}\n',
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_canonical_file(name: str) -> None:
    assert_same(TRICKY[name], CANONICAL)


@pytest.mark.parametrize("name", sorted(LM_EVAL))
def test_lm_eval_paths(name: str) -> None:
    assert_same(LM_EVAL[name], NESTED)


def test_many_blocks_with_a_fallback_in_the_middle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of ~200 bytes: the block holding a NaN literal falls back to json.loads; the
    others are msgspec's; the row ids run on across blocks."""
    monkeypatch.setattr(columns, "_BLOCK_BYTES", 200)
    lines = [json.dumps({**ROW, "question_id": f"q{i}", "correct": i % 2}) for i in range(60)]
    lines[31] = lines[31].replace('"correct": 1', '"correct": NaN')
    lines.insert(10, "")
    assert_same(("\n".join(lines) + "\n").encode(), CANONICAL)


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(sorted(CANONICAL) + ["other"]), _values, max_size=5),
        max_size=30,
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(1, 400),
)
def test_random_rows(rows: list[dict[str, Any]], newline: str, block: int) -> None:
    original = columns._BLOCK_BYTES
    columns._BLOCK_BYTES = block
    try:
        assert_same(newline.join(json.dumps(r) for r in rows).encode(), CANONICAL)
    finally:
        columns._BLOCK_BYTES = original
