"""Files. Inputs -> bytes: read once, size-capped, hashed; a planned input is checked against
the sha256 the plan recorded, so a run reads exactly what its plan describes. Outputs are
written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

MAX_INPUT_BYTES = 1 << 30


class InputError(Exception):
    """A file that cannot be read as planned; `summary` says what, `detail` how to fix it."""

    def __init__(self, summary: str, detail: str = "", path: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.path = path


def sha256_file(path: Path) -> tuple[str, int]:
    """(sha256, size) of a file, streamed: `accard plan` need not hold it in memory."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_capped(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The whole file, refused when it is larger than `limit` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise InputError(f"the file is {size} bytes; the limit is {_human(limit)}")
    return path.read_bytes()


def read_verified(
    spec_dir: Path, relative: str, sha256: str, kept: Mapping[str, bytes] | None = None
) -> bytes:
    """The planned file's bytes: those the plan kept (the very bytes it hashed), or the
    file read again and checked against the plan's sha256."""
    if kept is not None and relative in kept:
        return kept[relative]
    try:
        data = read_capped(spec_dir / relative)
    except InputError as error:
        raise InputError(error.summary, error.detail, relative) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(
            "the file changed after the plan was made",
            "rerun `accard check`; the card must describe what it read",
            relative,
        )
    return data


def _human(size: int) -> str:
    return "1 GiB" if size == 1 << 30 else f"{size} bytes"


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file of its own in the same folder, flushed to disk and
    renamed over `path`; a read-only destination is refused, not replaced."""
    if path.exists() and not path.stat().st_mode & 0o222:  # root's os.access says yes
        raise PermissionError(13, "the file is read-only; not replaced", str(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
