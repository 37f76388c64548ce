"""Record files (bytes) -> raw rows: JSONL, CSV, Parquet, lm-eval samples, inspect_ai logs.

Each reader yields (row, mapping) where `row` is the 1-based line (JSONL, CSV), row number
(Parquet) or `member#n` (inspect .eval archives) that a problem will name. These are the
reference readers: `columns.py` reads the same rows as columns, and problems list what a
file holds from its first rows read here.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from typing import Any


class ReadError(Exception):
    """A file that cannot be read as its format at all (not a single bad row)."""

    def __init__(self, message: str, row: int | str | None = None, field: str = ""):
        super().__init__(message)
        self.row = row
        self.field = field


Row = tuple[int | str, Any]


def lookup(row: dict[str, Any], parts: tuple[str, ...]) -> Any:
    """The value at a dotted path's parts, or None where the path leaves the objects."""
    if len(parts) == 1:
        return row.get(parts[0])
    value: Any = row
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def line_error(error: Exception) -> str:
    """A JSON error inside one line of a JSONL file: its column, not json's "line 1" (the
    problem already names the file's line)."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    return str(error)


def read_jsonl(data: bytes) -> Iterator[Row]:
    """One JSON value a line; lines end at `\\n` only (a raw U+2028 inside a JSON string
    is part of the string, as JSON says)."""
    text = _text(data)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (ValueError, RecursionError) as error:
            raise ReadError(f"not valid JSON ({line_error(error)})", number) from None


def read_csv(data: bytes) -> Iterator[Row]:
    reader = csv.DictReader(io.StringIO(_text(data), newline=""))
    try:
        for row in reader:
            if None in row:
                raise ReadError("more values than header columns", reader.line_num)
            yield reader.line_num, row
    except csv.Error as error:
        raise ReadError(f"not valid CSV ({error})", reader.line_num) from None


def read_parquet(data: bytes) -> Iterator[Row]:
    from .parquet import parquet_rows

    return parquet_rows(data)


def read_inspect(data: bytes, suffix: str) -> Iterator[Row]:
    """Samples of an inspect_ai log: a `.json` EvalLog or an `.eval` zip archive."""
    if suffix == ".json":
        log = _json_document(data)
        samples = log.get("samples") if isinstance(log, dict) else None
        if not isinstance(samples, list):
            raise ReadError("an inspect log without `samples` (was it written with samples?)")
        for index, sample in enumerate(samples):
            yield f"samples[{index}]", sample
        return
    yield from _read_eval_archive(data)


def read_inspect_log(data: bytes, suffix: str) -> tuple[list[Row], dict[str, Any] | None]:
    """An inspect log's samples, and its `eval` header when it has one: a `.json` log is
    parsed once for both, an `.eval` archive reads its members one by one."""
    if suffix == ".json":
        log = _json_document(data)
        samples = log.get("samples") if isinstance(log, dict) else None
        if not isinstance(samples, list):
            raise ReadError("an inspect log without `samples` (was it written with samples?)")
        header = log.get("eval")
        rows: list[Row] = [(f"samples[{i}]", sample) for i, sample in enumerate(samples)]
        return rows, header if isinstance(header, dict) else None
    archive = _eval_archive(data)
    rows = list(_samples_of(archive))
    header = None
    if "header.json" in archive.infos:
        found = _member_json(archive, "header.json")
        header = found.get("eval") if isinstance(found, dict) else None
    return rows, header if isinstance(header, dict) else None


def read_inspect_header(data: bytes, suffix: str) -> dict[str, Any]:
    """An inspect log's log-level `eval` object (task, task_args, model, config...)."""
    if suffix == ".json":
        log = _json_document(data)
    else:
        archive = _eval_archive(data)
        if "header.json" not in archive.infos:
            raise ReadError("an inspect .eval archive without header.json")
        log = _member_json(archive, "header.json")
    header = log.get("eval") if isinstance(log, dict) else None
    if not isinstance(header, dict):
        raise ReadError("an inspect log without its `eval` header")
    return header


def _json_document(data: bytes) -> Any:
    try:
        return json.loads(_text(data))
    except (ValueError, RecursionError) as error:
        raise ReadError(f"not valid JSON ({error})") from None


def _eval_archive(data: bytes) -> Any:
    from .archive import Archive, ArchiveError

    try:
        return Archive(data)
    except ArchiveError as error:
        if error.member is None:
            raise ReadError("not an inspect .eval archive (not a zip file)") from None
        raise ReadError(str(error), error.member) from None


def _member_json(archive: Any, name: str) -> Any:
    from .archive import ArchiveError

    try:
        content = archive.read(name)
    except ArchiveError as error:
        raise ReadError(str(error), name) from None
    try:
        return json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ReadError(f"not UTF-8 text (byte {error.start})", name) from None
    except (ValueError, RecursionError) as error:
        raise ReadError(f"not valid JSON ({error})", name) from None


def _read_eval_archive(data: bytes) -> Iterator[Row]:
    yield from _samples_of(_eval_archive(data))


def _samples_of(archive: Any) -> Iterator[Row]:
    members = sorted(n for n in archive.names() if n.startswith("samples/") and n.endswith(".json"))
    if not members:
        raise ReadError("an inspect .eval archive with no samples/ entries")
    for name in members:
        yield name, _member_json(archive, name)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadError(f"not UTF-8 text (byte {error.start})") from None


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""
