"""Parquet bytes -> columns (pyarrow, imported only here). Bounded: at most MAX_ROWS rows,
only the mapped columns are decoded, row group by row group, single-threaded (no reader
thread is left to abort the process at exit), strings kept dictionary-encoded (a 2 KB file
of one 256-byte string repeated four million times stays 16 MB of indices), and the decoded
size capped from the metadata before and, after each row group, at the size of its values
spelled out (that file's 1 GiB of strings is refused, as a 1 GiB JSONL file would be).
Types a record field cannot hold (timestamps, structs, lists, binary) are values of their
own kind that validation refuses; strings that are not UTF-8 likewise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .columns import Coder, FileColumns, Paths
from .readers import ReadError, Row

MAX_ROWS = 1 << 24
MAX_DECODED_BYTES = 1 << 30


@dataclass(frozen=True)
class Unreadable:
    """A Parquet value of a type no record field holds, or a string that is not UTF-8."""

    what: str

    def __repr__(self) -> str:
        return f"<{self.what}>"


def _pyarrow() -> tuple[Any, Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise ReadError("reading Parquet needs pyarrow: pip install 'accard[parquet]'") from None
    return pa, pc, pq


def _open(data: bytes) -> Any:
    pa, _pc, pq = _pyarrow()
    try:
        return pq.ParquetFile(pa.BufferReader(data), pre_buffer=False, read_dictionary=None)
    except Exception as error:  # noqa: BLE001 - pyarrow raises many types for a bad file
        raise ReadError(f"not a readable Parquet file ({error})") from None


def parquet_columns(data: bytes, paths: Paths) -> FileColumns:
    """Rows numbered from 1, as problems name them."""
    pa, pc, pq = _pyarrow()
    parquet = _open(data)
    names = parquet.schema_arrow.names
    wanted = sorted({parts[0] for parts in paths.values() if parts[0] in names})
    rows = parquet.metadata.num_rows
    _check_size(parquet, wanted, rows)
    strings = [n for n in wanted if _is_text(pa, parquet.schema_arrow.field(n).type)]
    try:
        parquet = pq.ParquetFile(
            pa.BufferReader(data), pre_buffer=False, read_dictionary=strings or None
        )
    except Exception as error:  # noqa: BLE001
        raise ReadError(f"not a readable Parquet file ({error})") from None
    coders = {name: Coder() for name in paths}
    decoded = 0
    for group in range(parquet.num_row_groups):
        try:
            table = parquet.read_row_group(group, columns=wanted, use_threads=False)
        except Exception as error:  # noqa: BLE001
            raise ReadError(f"not a readable Parquet file ({error})") from None
        decoded += _logical_bytes(pa, pc, table)
        if decoded > MAX_DECODED_BYTES:
            raise ReadError(_too_large(decoded), decoded_at(parquet, group))
        for name, parts in paths.items():
            _add(pa, pc, coders[name], table, parts)
    columns = {name: coder.column() for name, coder in coders.items()}
    total = len(next(iter(columns.values())).codes) if columns else rows
    return FileColumns(
        total, np.arange(1, total + 1, dtype=np.int64), columns, np.zeros(total, np.bool_)
    )


def _check_size(parquet: Any, wanted: list[str], rows: int) -> None:
    if rows > MAX_ROWS:
        raise ReadError(f"the file holds {rows} rows; at most {MAX_ROWS} are read")
    metadata = parquet.metadata
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if chunk.path_in_schema.split(".")[0] in wanted:
                total += max(0, chunk.total_uncompressed_size)
    if total > MAX_DECODED_BYTES:
        raise ReadError(_too_large(total))


def decoded_at(parquet: Any, group: int) -> int:
    """The 1-based row where row group `group` starts (a problem's row)."""
    return 1 + sum(int(parquet.metadata.row_group(g).num_rows) for g in range(group))


def _logical_bytes(pa: Any, pc: Any, table: Any) -> int:
    """What the row group's columns hold once every value is spelled out: a dictionary
    column counts each row's value in full (4 M rows of one 256-byte string are 1 GiB,
    though Arrow keeps them as 16 MB of indices), other columns their Arrow size."""
    total = 0
    for column in table.columns:
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if pa.types.is_dictionary(array.type) and _is_text(pa, array.dictionary.type):
            lengths = pc.binary_length(array.dictionary).fill_null(0).to_numpy(zero_copy_only=False)
            indices = np.asarray(array.indices.drop_null().to_numpy(), np.int64)
            uses = np.bincount(indices, minlength=len(lengths))
            total += int(np.dot(uses, lengths.astype(np.int64)))
            total += int(array.indices.nbytes)
        else:
            total += int(array.nbytes)
    return total


def _too_large(size: int) -> str:
    return (
        f"the file's record columns decode to {size} bytes; at most "
        f"{MAX_DECODED_BYTES >> 30} GiB are read"
    )


def _is_text(pa: Any, kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _add(pa: Any, pc: Any, coder: Coder, table: Any, parts: tuple[str, ...]) -> None:
    rows = table.num_rows
    if parts[0] not in table.column_names:
        coder.add_constant(None, rows)
        return
    array = table.column(parts[0]).combine_chunks()
    for part in parts[1:]:
        kind = array.type
        if not pa.types.is_struct(kind) or kind.get_field_index(part) < 0:
            coder.add_constant(None, rows)
            return
        array = pc.struct_field(array, [kind.get_field_index(part)])
    codes, values = _encoded(pa, pc, array)
    coder.add_coded(codes, values)


def _encoded(pa: Any, pc: Any, array: Any) -> tuple[Any, list[Any]]:
    """(local codes, distinct values) of one Arrow array; a null is None."""
    kind = array.type
    if pa.types.is_null(kind):
        return np.zeros(len(array), np.int32), [None]
    if not pa.types.is_dictionary(kind):
        if not _plain(pa, kind):
            valid = np.asarray(array.is_valid())
            return valid.astype(np.int32), [None, Unreadable(f"a {kind} value")]
        array = pc.dictionary_encode(array)
    dictionary = array.dictionary
    if not _plain(pa, dictionary.type):
        values: list[Any] = [Unreadable(f"a {dictionary.type} value")] * len(dictionary)
    else:
        values = _python_values(pa, dictionary)
    indices = array.indices.fill_null(len(values))
    return np.asarray(indices.to_numpy(zero_copy_only=False), np.int32), values + [None]


def _plain(pa: Any, kind: Any) -> bool:
    return bool(
        _is_text(pa, kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
    )


def _python_values(pa: Any, dictionary: Any) -> list[Any]:
    if not _is_text(pa, dictionary.type):
        return list(dictionary.to_pylist())
    raw = dictionary.view(
        pa.large_binary() if pa.types.is_large_string(dictionary.type) else pa.binary()
    )
    values: list[Any] = []
    for item in raw.to_pylist():
        try:
            values.append(item.decode("utf-8"))
        except UnicodeDecodeError:
            values.append(Unreadable("string that is not UTF-8"))
    return values


def parquet_rows(data: bytes, _suffix: str = ".parquet") -> Iterator[Row]:
    """The first rows as dicts (for `accard init` and for listing a file's fields)."""
    parquet = _open(data)
    if parquet.metadata.num_rows == 0 or parquet.num_row_groups == 0:
        return
    try:
        batch = next(parquet.iter_batches(batch_size=50, use_threads=False), None)
    except Exception as error:  # noqa: BLE001
        raise ReadError(f"not a readable Parquet file ({error})") from None
    if batch is None:
        return
    names = batch.schema.names
    for index in range(batch.num_rows):
        yield index + 1, {name: _safe(batch.column(name), index) for name in names}


def _safe(column: Any, index: int) -> Any:
    try:
        return column[index].as_py()
    except Exception:  # noqa: BLE001 - out-of-range temporal values, bad UTF-8
        return Unreadable(f"a {column.type} value")
