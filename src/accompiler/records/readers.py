"""Record files (bytes) -> raw rows: JSONL, CSV, Parquet, lm-eval samples, inspect_ai logs.

Each reader yields (row, mapping) where `row` is the 1-based line (JSONL, CSV), row index
(Parquet) or `member#n` (inspect .eval archives) that a problem will name.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

MAX_MEMBER_BYTES = 64 << 20
MAX_ARCHIVE_BYTES = 1 << 30


class ReadError(Exception):
    """A file that cannot be read as its format at all (not a single bad row)."""

    def __init__(self, message: str, row: int | str | None = None):
        super().__init__(message)
        self.row = row


Row = tuple[int | str, Any]


def _json(text: str | bytes) -> Any:
    return json.loads(text)


def read_jsonl(data: bytes) -> Iterator[Row]:
    """One JSON value a line; lines end at `\\n` only (a raw U+2028 inside a JSON string
    is part of the string, as JSON says)."""
    text = _text(data)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, _json(line)
        except (ValueError, RecursionError) as error:
            raise ReadError(f"not valid JSON ({error})", number) from None


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
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ReadError("reading Parquet needs pyarrow: pip install 'accard[parquet]'") from None
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - pyarrow raises many types for a bad file
        raise ReadError(f"not a readable Parquet file ({error})") from None
    yield from enumerate(table.to_pylist(), start=1)


def read_inspect(data: bytes, suffix: str) -> Iterator[Row]:
    """Samples of an inspect_ai log: a `.json` EvalLog or an `.eval` zip archive."""
    if suffix == ".json":
        try:
            log = _json(data)
        except (ValueError, RecursionError) as error:
            raise ReadError(f"not valid JSON ({error})") from None
        samples = log.get("samples") if isinstance(log, dict) else None
        if not isinstance(samples, list):
            raise ReadError("an inspect log without `samples` (was it written with samples?)")
        for index, sample in enumerate(samples, start=1):
            yield f"samples[{index - 1}]", sample
        return
    yield from _read_eval_archive(data)


def read_inspect_header(data: bytes, suffix: str) -> dict[str, Any]:
    """An inspect log's log-level `eval` object (task, task_args, model, config...)."""
    if suffix == ".json":
        try:
            log = _json(data)
        except (ValueError, RecursionError) as error:
            raise ReadError(f"not valid JSON ({error})") from None
    else:
        archive = _eval_archive(data)
        if "header.json" not in archive.namelist():
            raise ReadError("an inspect .eval archive without header.json")
        log = _member_json(archive, "header.json")
    header = log.get("eval") if isinstance(log, dict) else None
    if not isinstance(header, dict):
        raise ReadError("an inspect log without its `eval` header")
    return header


def _eval_archive(data: bytes) -> zipfile.ZipFile:
    if sys.version_info < (3, 14):
        import zipfile_zstd  # noqa: F401 - registers zstd, as inspect_ai itself does
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ReadError("not an inspect .eval archive (not a zip file)") from None


def _member_json(archive: zipfile.ZipFile, name: str) -> Any:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise ReadError(f"archive member {name} is too large to read safely", name)
    with archive.open(name) as member:
        content = member.read(MAX_MEMBER_BYTES + 1)
    if len(content) > MAX_MEMBER_BYTES:
        raise ReadError(f"archive member {name} inflates past its stated size", name)
    try:
        return _json(content)
    except (ValueError, RecursionError) as error:
        raise ReadError(f"not valid JSON ({error})", name) from None


def _read_eval_archive(data: bytes) -> Iterator[Row]:
    archive = _eval_archive(data)
    members = sorted(
        n for n in archive.namelist() if n.startswith("samples/") and n.endswith(".json")
    )
    if not members:
        raise ReadError("an inspect .eval archive with no samples/ entries")
    total = 0
    for name in members:
        total += archive.getinfo(name).file_size
        if total > MAX_ARCHIVE_BYTES:
            raise ReadError(f"archive member {name} is too large to read safely", name)
        yield name, _member_json(archive, name)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadError(f"not UTF-8 text (byte {error.start})") from None


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""
