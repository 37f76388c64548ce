"""Zip archives (inspect's .eval logs) -> member bytes, every member inflated through a
capped stream whatever its method (stored, deflate, bzip2, LZMA, zstd) and whatever sizes
its headers state; every zip fault is a ReadError naming the member."""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

MAX_MEMBER_BYTES = 64 << 20
MAX_ARCHIVE_BYTES = 1 << 30
_CHUNK = 1 << 16
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_METHODS = {0: "stored", 8: "deflate", 12: "bzip2", 14: "LZMA", 93: "zstd"}


class ArchiveError(Exception):
    """A fault of the archive or of one member (`member` names it)."""

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member


class Archive:
    """A zip archive held in memory; members read one at a time, each capped."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as e:
            raise ArchiveError(f"not a readable zip archive ({e})") from None
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self.infos:
                raise ArchiveError(
                    f"the archive holds member {info.filename} more than once", info.filename
                )
            self.infos[info.filename] = info
        self.inflated = 0

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str) -> bytes:
        """A member's bytes: at most MAX_MEMBER_BYTES, and MAX_ARCHIVE_BYTES in all."""
        info = self.infos[name]
        if info.flag_bits & 0x1:
            raise ArchiveError(f"archive member {name} is encrypted", name)
        if info.compress_type not in _METHODS:
            raise ArchiveError(
                f"archive member {name} uses compression method {info.compress_type}, "
                f"not one of {', '.join(_METHODS.values())}",
                name,
            )
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveError(
                f"archive member {name} is too large to read safely ({info.file_size} bytes; "
                f"at most {MAX_MEMBER_BYTES >> 20} MiB)",
                name,
            )
        cap = min(info.file_size, MAX_MEMBER_BYTES, MAX_ARCHIVE_BYTES - self.inflated)
        content = _inflate(info.compress_type, self._compressed(info), cap, name)
        if len(content) > cap:
            raise ArchiveError(
                f"archive member {name} inflates past its stated size ({info.file_size} bytes)"
                if cap == info.file_size
                else f"archive member {name} is too large to read safely",
                name,
            )
        if len(content) != info.file_size:
            raise ArchiveError(
                f"archive member {name} is corrupt: {len(content)} bytes, {info.file_size} stated",
                name,
            )
        if zlib.crc32(content) != info.CRC:
            raise ArchiveError(f"archive member {name} is corrupt (CRC mismatch)", name)
        self.inflated += len(content)
        return content

    def _compressed(self, info: zipfile.ZipInfo) -> memoryview:
        offset = info.header_offset
        header = self.data[offset : offset + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size:
            raise ArchiveError(f"archive member {info.filename} is truncated", info.filename)
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != b"PK\x03\x04":
            raise ArchiveError(
                f"archive member {info.filename} has a bad local header", info.filename
            )
        name_length, extra_length = fields[9], fields[10]
        start = offset + _LOCAL_HEADER.size
        local_name = self.data[start : start + name_length]
        if local_name.decode("utf-8" if info.flag_bits & 0x800 else "cp437") != info.orig_filename:
            raise ArchiveError(
                f"archive member {info.filename}: its local and central names differ",
                info.filename,
            )
        start += name_length + extra_length
        if start + info.compress_size > len(self.data):
            raise ArchiveError(f"archive member {info.filename} is truncated", info.filename)
        return memoryview(self.data)[start : start + info.compress_size]


def _inflate(method: int, data: memoryview, cap: int, name: str) -> bytes:
    """At most cap + 1 bytes of the member's content (one more shows it is too long)."""
    try:
        if method == 0:
            return bytes(data[: cap + 1])
        return b"".join(_chunks(method, data, cap + 1))
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as error:
        raise ArchiveError(f"archive member {name} is corrupt ({error})", name) from None
    except Exception as error:  # noqa: BLE001 - zstandard raises its own ZstdError
        if type(error).__name__ == "ZstdError":
            raise ArchiveError(f"archive member {name} is corrupt ({error})", name) from None
        raise


def _chunks(method: int, data: memoryview, limit: int) -> Iterator[bytes]:
    """Inflated pieces, `limit` bytes in all at most: every call is told how much it may
    produce, so a small input that inflates to gigabytes never does. A short member is
    caught by the size and CRC checks that follow."""
    if method == 93:
        yield from _zstd_chunks(data, limit)
        return
    decompressor, data = _decompressor(method, data)
    produced = 0
    for position in range(0, len(data), _CHUNK):
        pending = bytes(data[position : position + _CHUNK])
        while produced < limit:
            piece = decompressor.decompress(pending, limit - produced)
            produced += len(piece)
            yield piece
            pending = _left_over(decompressor)
            if decompressor.eof or (not pending and _wants_input(decompressor)):
                break
        if decompressor.eof or produced >= limit:
            return
    if method == 8 and produced < limit:
        yield decompressor.flush()[: limit - produced]


def _decompressor(method: int, data: memoryview) -> tuple[Any, memoryview]:
    if method == 8:
        return zlib.decompressobj(-15), data
    if method == 12:
        return bz2.BZ2Decompressor(), data
    if len(data) < 4:
        raise EOFError("the LZMA header is truncated")
    size = int.from_bytes(data[2:4], "little")
    properties = bytes(data[4 : 4 + size])
    lzma_filter = lzma._decode_filter_properties(lzma.FILTER_LZMA1, properties)  # type: ignore[attr-defined]  # noqa: E501 - as zipfile itself reads LZMA members
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma_filter]), data[4 + size :]


def _left_over(decompressor: Any) -> bytes:
    """Input a capped call left unconsumed: zlib hands it back; bz2 and lzma keep it."""
    tail = getattr(decompressor, "unconsumed_tail", b"")
    return bytes(tail)


def _wants_input(decompressor: Any) -> bool:
    return bool(getattr(decompressor, "needs_input", True))


def _zstd_chunks(data: memoryview, limit: int) -> Iterator[bytes]:
    import zstandard

    source = io.BytesIO(bytes(data))
    reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    produced = 0
    while produced < limit:
        piece = reader.read(min(_CHUNK * 16, limit - produced))
        if not piece:
            break
        produced += len(piece)
        yield piece
