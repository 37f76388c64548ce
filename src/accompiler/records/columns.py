"""Record bytes -> columns: for each field a record format reads, one code per row and the
distinct raw values (as `json.loads`, `csv` or pyarrow give them). Validation then runs
once per distinct value, not once per row (`table.py`).

Raw values keep their type: `True`, `1` and `1.0` are three values (an id `1` is the text
"1", `True` is not an id), NaN is one value, and unhashable values (lists, objects) are
told apart by their repr. JSONL is decoded in blocks by msgspec into a struct of the
mapped fields only (nested for dotted paths), so the rest of a row (lm-eval prompts,
responses) is never built; a block msgspec cannot read exactly as `json.loads` would
(invalid JSON, NaN literals, escapes of lone surrogates, a non-object row, two values on
one line) is read again line by line with `json.loads`, whose result is the reference.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .readers import ReadError, Row, line_error, lookup

MAX_LINE_BYTES = 64 << 20
"""A record line longer than this is refused before it is decoded (no row is that long;
a file of one huge line would otherwise be copied whole as text)."""
_BLOCK_BYTES = 1 << 20
_ROWS_PER_BATCH = 1 << 14
_CSV_PIECE_ROWS = 256
_BOM = b"\xef\xbb\xbf"


@dataclass
class Column:
    """One field of one file: `values[codes[i]]` is row i's raw value (None when absent)."""

    codes: NDArray[np.int32]
    values: list[Any]


@dataclass
class FileColumns:
    """One record file as columns. `ids` names each row as problems do (1-based line or
    row number, or an archive member / sample index); `error` is a read problem that ended
    the file after `rows` rows."""

    rows: int
    ids: NDArray[np.int64] | list[str]
    columns: dict[str, Column]
    not_object: NDArray[np.bool_]
    error: ReadError | None = None

    def row_id(self, index: int) -> int | str:
        value = self.ids[index]
        return value if isinstance(value, str) else int(value)


def _key(value: Any) -> Any:
    """A dict key that never merges values the reader tells apart: strings and ints are
    their own keys; other values are keyed with their type (True != 1 != 1.0), floats by
    their hex form (-0.0 is not 0.0; every NaN is one value), unhashable ones by repr."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if kind is float:
        return (float, value.hex())
    try:
        hash(value)
    except TypeError:
        return (kind, repr(value))
    return (kind, value)


class Coder:
    """Codes a field's values batch by batch into one code space."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.values: list[Any] = []
        self.parts: list[NDArray[np.int32]] = []

    def add(self, column: list[Any]) -> None:
        kinds = set(map(type, column))
        if kinds == {float}:
            self._add_floats(column)
            return
        index, values = self.index, self.values
        if kinds <= {str, int}:  # their own keys: new ones found at C speed
            keys = column
            for key in dict.fromkeys(keys):
                if key not in index:
                    index[key] = len(values)
                    values.append(key)
        else:
            keys = list(map(_key, column))
            for key, value in zip(keys, column, strict=True):
                if key not in index:
                    index[key] = len(values)
                    values.append(value)
        self.parts.append(np.fromiter(map(index.__getitem__, keys), np.int32, len(keys)))

    def _add_floats(self, column: list[float]) -> None:
        """A column of floats by their bit patterns (NaNs as one), keyed as _key keys them."""
        array = np.array(column, dtype=np.float64)
        bits = np.where(np.isnan(array), np.int64(0x7FF8000000000000), array.view(np.int64))
        _unique, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
        local = np.empty(len(first), np.int32)
        for k, row in enumerate(first):
            value = column[int(row)]
            key = _key(value)
            if key not in self.index:
                self.index[key] = len(self.values)
                self.values.append(value)
            local[k] = self.index[key]
        self.parts.append(local[inverse.reshape(-1)])

    def add_coded(self, codes: NDArray[np.int32], values: list[Any]) -> None:
        """Rows already coded locally (Arrow's dictionary encoding): map each local code."""
        mapping = np.empty(len(values), np.int32)
        for k, value in enumerate(values):
            key = _key(value)
            if key not in self.index:
                self.index[key] = len(self.values)
                self.values.append(value)
            mapping[k] = self.index[key]
        self.parts.append(mapping[codes])

    def add_constant(self, value: Any, rows: int) -> None:
        key = _key(value)
        if key not in self.index:
            self.index[key] = len(self.values)
            self.values.append(value)
        self.parts.append(np.full(rows, self.index[key], np.int32))

    def column(self) -> Column:
        codes = np.concatenate(self.parts) if self.parts else np.zeros(0, np.int32)
        return Column(codes.astype(np.int32, copy=False), self.values)


Paths = dict[str, tuple[str, ...]]
"""The fields to read: name -> the dotted path's parts."""


class _Columns:
    """Accumulates a file's rows into columns, batch by batch."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.coders = {name: Coder() for name in paths}
        self.not_object: list[NDArray[np.bool_]] = []
        self.ids: list[Any] = []
        self.rows = 0

    def add_values(self, values: dict[str, list[Any]], not_object: NDArray[np.bool_]) -> None:
        for name, column in values.items():
            self.coders[name].add(column)
        self.not_object.append(not_object)
        self.rows += len(not_object)

    def add_rows(self, rows: list[Any]) -> None:
        """Rows as `json.loads`/`csv` give them (a non-object row has every field None)."""
        values = {
            name: [lookup(r, parts) if isinstance(r, dict) else None for r in rows]
            for name, parts in self.paths.items()
        }
        self.add_values(values, np.array([not isinstance(r, dict) for r in rows], np.bool_))

    def finish(self, ids: NDArray[np.int64] | list[str], error: ReadError | None) -> FileColumns:
        not_object = np.concatenate(self.not_object) if self.not_object else np.zeros(0, bool)
        columns = {name: coder.column() for name, coder in self.coders.items()}
        return FileColumns(self.rows, ids, columns, not_object, error)


def columns_from_rows(rows: Iterable[Row], paths: Paths) -> FileColumns:
    """Any reader's (row id, row) pairs -> columns; a ReadError ends the file there."""
    out = _Columns(paths)
    batch: list[Any] = []
    ids: list[Any] = []
    error = None
    try:
        for row_id, row in rows:
            ids.append(row_id)
            batch.append(row)
            if len(batch) == _ROWS_PER_BATCH:
                out.add_rows(batch)
                batch = []
    except ReadError as caught:
        error = caught
    if batch:
        out.add_rows(batch)
    numeric = all(isinstance(i, int) for i in ids)
    return out.finish(np.array(ids, np.int64) if numeric else [str(i) for i in ids], error)


# --- text -----------------------------------------------------------------------------------


def utf8_body(data: bytes) -> bytes:
    """The bytes after a BOM, checked to be UTF-8 without decoding them whole."""
    body = data[3:] if data.startswith(_BOM) else data
    if body.isascii():
        return body
    view = memoryview(body)
    start = 0
    step = 8 << 20
    while start < len(body):
        chunk = view[start : start + step]
        try:
            _text, used = codecs.utf_8_decode(chunk, "strict", start + step >= len(body))
        except UnicodeDecodeError as error:
            raise ReadError(f"not UTF-8 text (byte {start + error.start})") from None
        start += used if used else len(chunk)
    return body


def line_ends(body: bytes) -> NDArray[np.int64]:
    """The offset of every `\\n` (JSONL and CSV lines end there and nowhere else), and a
    line longer than MAX_LINE_BYTES refused with its 1-based number."""
    view = np.frombuffer(body, np.uint8)
    step = 16 << 20
    parts = [np.flatnonzero(view[i : i + step] == 10) + i for i in range(0, len(view), step)]
    ends = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    bounds = np.concatenate([[-1], ends, [len(body)]])
    lengths = np.diff(bounds) - 1
    too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
    if too_long.size:
        line = int(too_long[0]) + 1
        raise ReadError(
            f"line {line} is {int(lengths[line - 1])} bytes long; a record line is at most "
            f"{MAX_LINE_BYTES >> 20} MiB",
            line,
        )
    return ends.astype(np.int64)


# --- JSONL ----------------------------------------------------------------------------------


def jsonl_columns(data: bytes, paths: Paths) -> FileColumns:
    """JSONL lines (split at `\\n` only) -> columns, the row id each line's number."""
    body = utf8_body(data)
    ends = line_ends(body)
    odd = _odd_lines(body, ends)
    decoder = _struct_decoder(paths)
    out = _Columns(paths)
    ids: list[NDArray[np.int64]] = []
    error = None
    for start, stop, first, last in _blocks(body, ends):
        block = memoryview(body)[start:stop]
        blank = _json_blank(body, ends, odd, first, last)
        done = decoder is not None and _decode_block(decoder, block, first, last, blank, out, ids)
        if not done:
            error = _json_block(bytes(block), first + 1, out, ids)
            if error is not None:
                break
    all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    return out.finish(all_ids, error)


def _odd_lines(body: bytes, ends: NDArray[np.int64]) -> NDArray[np.int64]:
    """0-based numbers of the lines that do not open with `{` (blank, or not an object)."""
    starts = np.concatenate([[0], ends + 1]).astype(np.int64)
    starts = starts[starts < len(body)]  # after a final newline: no line
    view = np.frombuffer(body, np.uint8)
    return np.flatnonzero(view[starts] != ord("{"))


def _json_blank(
    body: bytes, ends: NDArray[np.int64], odd: NDArray[np.int64], first: int, last: int
) -> list[int]:
    """The lines of [first, last) that hold JSON whitespace only (msgspec skips them)."""
    blank = []
    for line in odd[(odd >= first) & (odd < last)].tolist():
        start = 0 if line == 0 else int(ends[line - 1]) + 1
        stop = int(ends[line]) if line < len(ends) else len(body)
        if not body[start:stop].strip(b" \t\r"):
            blank.append(line)
    return blank


def _blocks(body: bytes, ends: NDArray[np.int64]) -> Iterator[tuple[int, int, int, int]]:
    """(start, stop, first line, end line) of blocks of about _BLOCK_BYTES ending at a
    `\\n`; lines are 0-based, the end exclusive."""
    total = len(ends) + (1 if len(body) and (not len(ends) or ends[-1] != len(body) - 1) else 0)
    start, line = 0, 0
    while line < total:
        last = max(int(np.searchsorted(ends, start + _BLOCK_BYTES)), line)
        if last >= len(ends):
            yield start, len(body), line, total
            return
        stop = int(ends[last]) + 1
        yield start, stop, line, last + 1
        start, line = stop, last + 1


def _decode_block(
    decoder: _StructDecoder,
    block: memoryview,
    first: int,
    last: int,
    blank: list[int],
    out: _Columns,
    ids: list[NDArray[np.int64]],
) -> bool:
    """msgspec's reading of the block, when it is exactly json.loads's; else False."""
    import msgspec

    try:
        rows = decoder.decoder.decode_lines(block)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    if len(rows) != last - first - len(blank):  # two values on one line: json.loads refuses
        return False
    try:
        values = {name: list(map(get, rows)) for name, get in decoder.getters.items()}
    except AttributeError:  # a missing parent object (no `doc`): leave it to json.loads
        return False
    numbers = np.arange(first + 1, last + 1, dtype=np.int64)
    if blank:
        numbers = np.delete(numbers, np.array(blank) - first)
    out.add_values(values, np.zeros(len(rows), np.bool_))
    ids.append(numbers)
    return True


def _json_block(
    block: bytes, first_line: int, out: _Columns, ids: list[NDArray[np.int64]]
) -> ReadError | None:
    """The block line by line with json.loads (blank: `not line.strip()`)."""
    rows: list[Any] = []
    numbers: list[int] = []
    error = None
    lines = block.split(b"\n")
    if block.endswith(b"\n"):
        lines.pop()
    for offset, raw in enumerate(lines):
        line = raw.decode("utf-8")
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except (ValueError, RecursionError) as caught:
            error = ReadError(f"not valid JSON ({line_error(caught)})", first_line + offset)
            break
        numbers.append(first_line + offset)
    if rows:
        out.add_rows(rows)
        ids.append(np.array(numbers, np.int64))
    return error


@dataclass
class _StructDecoder:
    decoder: Any
    getters: dict[str, Callable[[Any], Any]] = field(default_factory=dict)


def _struct_decoder(paths: Paths) -> _StructDecoder | None:
    """A msgspec decoder of just the mapped fields (nested structs for dotted paths), or
    None when the paths cannot be one struct (a path that is also another's parent)."""
    import msgspec

    tree: dict[str, Any] = {}
    for name, parts in paths.items():
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                return None
            node = child
        if parts[-1] in node:
            return None
        node[parts[-1]] = name
    counter = iter(range(1 << 30))
    getters: dict[str, str] = {}

    def struct(node: dict[str, Any], prefix: str) -> Any:
        fields: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        for key, child in node.items():
            attribute = f"f{next(counter)}"
            rename[attribute] = key
            if isinstance(child, dict):
                fields.append((attribute, struct(child, f"{prefix}{attribute}.") | None, None))
            else:
                fields.append((attribute, Any, None))
                getters[child] = prefix + attribute
        return msgspec.defstruct("Row", fields, rename=rename, gc=False)

    row_type = struct(tree, "")
    decoder = msgspec.json.Decoder(row_type)
    return _StructDecoder(decoder, {n: operator.attrgetter(p) for n, p in getters.items()})


# --- CSV ------------------------------------------------------------------------------------


def csv_columns(data: bytes, paths: Paths) -> FileColumns:
    """CSV as `csv.DictReader` reads it (rows numbered by `line_num`; a short row's missing
    values are None; a long row ends the file) -> columns. A dotted path names no CSV
    column. A mapped column the header names twice is ambiguous, and refused."""
    body = utf8_body(data)
    line_ends(body)
    reader = csv.reader(_csv_lines(body))
    out = _Columns(paths)
    ids: list[int] = []
    try:
        header = next(reader, None)
    except csv.Error as caught:
        return out.finish(np.zeros(0, np.int64), ReadError(f"not valid CSV ({caught})", 1))
    if header is None:
        return out.finish(np.zeros(0, np.int64), None)
    where = {name: _column_of(header, parts) for name, parts in paths.items()}
    twice = [parts[0] for name, parts in paths.items() if header.count(parts[0]) > 1]
    if twice:
        ambiguous = ReadError(f"the header names column `{twice[0]}` more than once", 1, twice[0])
        return out.finish(np.zeros(0, np.int64), ambiguous)
    width = len(header)
    error: ReadError | None = None
    broken: list[ReadError] = []
    rows = _numbered_rows(reader, broken)
    values: dict[str, list[Any]] = {name: [] for name in paths}
    while error is None:
        # Rows a few hundred at a time (a batch of row lists kept alive longer makes the
        # cyclic GC walk them again and again), their values kept in columns
        numbered = list(islice(rows, _CSV_PIECE_ROWS))
        if not numbered:
            break
        error = _csv_piece(numbered, width, where, values, ids)
        if len(ids) - out.rows >= _ROWS_PER_BATCH:
            out.add_values(values, np.zeros(len(ids) - out.rows, np.bool_))
            values = {name: [] for name in paths}
    if len(ids) > out.rows:
        out.add_values(values, np.zeros(len(ids) - out.rows, np.bool_))
    return out.finish(np.array(ids, np.int64), error or (broken[0] if broken else None))


def _numbered_rows(reader: Any, broken: list[ReadError]) -> Iterator[tuple[int, list[str]]]:
    """(line_num, row): the line number read before the next row moves it on. Invalid CSV
    ends the rows, its problem appended to `broken`."""
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as caught:
        broken.append(ReadError(f"not valid CSV ({caught})", reader.line_num))


def _csv_piece(
    numbered: list[tuple[int, list[str]]],
    width: int,
    where: dict[str, int | None],
    values: dict[str, list[Any]],
    ids: list[int],
) -> ReadError | None:
    """Rows -> values appended to the columns: blank rows skipped, a short row's missing
    values None, and the first row longer than the header ends the file (an error at its
    line)."""
    rows = [row for _, row in numbered if row]
    numbers = [number for number, row in numbered if row]
    error = None
    long = next((k for k, row in enumerate(rows) if len(row) > width), None)
    if long is not None:
        error = ReadError("more values than header columns", numbers[long])
        rows, numbers = rows[:long], numbers[:long]
    if not rows:
        return error
    if all(len(row) == width for row in rows):
        transposed = list(zip(*rows, strict=True))
        for name, column in where.items():
            values[name].extend(transposed[column] if column is not None else [None] * len(rows))
    else:
        for name, column in where.items():
            values[name].extend(
                row[column] if column is not None and column < len(row) else None for row in rows
            )
    ids.extend(numbers)
    return error


def _column_of(header: list[str], parts: tuple[str, ...]) -> int | None:
    if len(parts) != 1 or parts[0] not in header:
        return None
    return len(header) - 1 - header[::-1].index(parts[0])


def _csv_lines(body: bytes) -> Iterator[str]:
    """The text's lines as `io.StringIO(text, newline="")` gives them, a block at a time."""
    start = 0
    while start < len(body):
        stop = body.find(b"\n", start + _BLOCK_BYTES)
        stop = len(body) if stop < 0 else stop + 1
        yield from io.StringIO(body[start:stop].decode("utf-8"), newline="")
        start = stop
