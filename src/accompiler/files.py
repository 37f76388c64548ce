"""Files. Untrusted paths -> bytes: the one module that opens what a spec names (and the
spec itself, and a card on the command line). A path is resolved component by component
from the spec's folder, following symlinks only while they stay inside it; only a regular
file is opened, the opened descriptor is checked to be the file that was checked, at most
the cap plus one byte is read, and what is read is hashed. A planned input is read again
only when the plan did not keep its bytes, and then checked against the plan's sha256, so
a run reads exactly what its plan describes. Outputs are written atomically."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_INPUT_BYTES = 1 << 30
"""Record files (and any input without a cap of its own)."""
CAPS = {
    "spec": 1 << 20,
    "records": MAX_INPUT_BYTES,
    "config": 16 << 20,
    "adapter": 4 << 30,
    "weights": 16 << 30,
    "card": 64 << 20,
}
"""The most bytes read of each kind of input; a larger file is refused from its size."""
MAX_SYMLINKS = 40
"""As Linux's MAXSYMLINKS: more links followed while resolving one path is a loop."""
_CHUNK = 1 << 24


class InputError(Exception):
    """A file that cannot be read as planned; `summary` says what, `detail` how to fix it."""

    def __init__(self, summary: str, detail: str = "", path: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.path = path


OUTSIDE = "points outside the spec's folder (through a symlink)"
KEEP_INSIDE = "keep every input inside the folder that holds the spec"


@dataclass(frozen=True)
class Found:
    """What a confined path names: its path relative to the root with every symlink
    resolved, and the status of what it names (a file, a folder or anything else)."""

    real: str
    status: os.stat_result

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.status.st_mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.status.st_mode)


def human(size: int) -> str:
    """A cap for people: 1 GiB, 4 MiB, or bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} bytes"


# --- resolving inside a root -----------------------------------------------------------------


def _parts(relative: str) -> list[str]:
    return [p for p in relative.split("/") if p not in ("", ".")]


@contextmanager
def _root_fd(root: Path) -> Iterator[tuple[int, str]]:
    real = os.path.realpath(root)
    fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd, real
    finally:
        os.close(fd)


def _absolute_inside(target: str, root_real: str) -> list[str]:
    """An absolute symlink target as components below the root, if it lies inside."""
    if target == root_real or target.startswith(root_real.rstrip("/") + "/"):
        return _parts(target[len(root_real) :])
    raise InputError(OUTSIDE, KEEP_INSIDE)


def _resolve(root_fd: int, root_real: str, relative: str) -> tuple[list[int], list[str], str]:
    """Walk `relative` from the root without ever leaving it: (open folder descriptors from
    the root down, their names, the last component). Every folder is opened with
    O_NOFOLLOW and every symlink read and resolved here, so what is checked is what is
    opened."""
    if relative.startswith("/"):
        raise InputError("is absolute; paths are relative to the spec's folder", KEEP_INSIDE)
    pending = _parts(relative)
    folders: list[int] = [root_fd]
    names: list[str] = []
    links = 0
    try:
        while pending:
            part = pending.pop(0)
            if part == "..":
                if len(folders) == 1:
                    raise InputError(
                        OUTSIDE if links else "leaves the spec's folder (`..`)", KEEP_INSIDE
                    )
                os.close(folders.pop())
                names.pop()
                continue
            status = _lstat(part, folders[-1])
            if stat.S_ISLNK(status.st_mode):
                links += 1
                if links > MAX_SYMLINKS:
                    raise InputError(
                        "is a symlink loop (too many levels of symlinks)", "remove the loop"
                    )
                target = os.readlink(part, dir_fd=folders[-1])
                if target.startswith("/"):
                    while len(folders) > 1:
                        os.close(folders.pop())
                    names.clear()
                    pending = _absolute_inside(target, root_real) + pending
                else:
                    pending = _parts(target) + pending
                continue
            if not pending:
                return folders, names, part
            if not stat.S_ISDIR(status.st_mode):
                raise InputError("does not exist", "a path component is not a folder")
            folders.append(_open_folder(part, folders[-1]))
            names.append(part)
        return folders, names, "."
    except BaseException:
        for fd in folders[1:]:
            os.close(fd)
        raise


def _lstat(name: str, folder: int) -> os.stat_result:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        raise InputError(
            "does not exist",
            "check the spelling; paths are relative to the folder that holds the spec",
        ) from None
    except OSError as error:
        raise _os_problem(error) from None


def _open_folder(name: str, folder: int) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError as error:
        raise _os_problem(error) from None


def _os_problem(error: OSError) -> InputError:
    if error.errno == errno.ELOOP:
        return InputError("changed while it was read (a symlink appeared)", "rerun accard")
    if error.errno == errno.ENAMETOOLONG:
        return InputError("has a name too long for this system", "")
    if error.errno in (errno.EACCES, errno.EPERM):
        return InputError("cannot be read (permission denied)", "")
    return InputError(f"cannot be read ({error.strerror or error})", "")


def find(root: Path, relative: str) -> Found:
    """What `relative` names inside `root`, every symlink resolved inside it.

    Raises:
        InputError: the path leaves the root (`..`, an absolute path, a symlink), loops,
            or does not exist.
    """
    with _root_fd(root) as (root_fd, root_real):
        folders, names, last = _resolve(root_fd, root_real, relative)
        try:
            if last == ".":
                return Found("/".join(names) or ".", os.fstat(folders[-1]))
            status = _lstat(last, folders[-1])
            return Found("/".join([*names, last]), status)
        finally:
            for fd in folders[1:]:
                os.close(fd)


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """The bytes of one file as read, their sha256, and the file's real relative path."""

    data: bytes
    sha256: str
    real: str


def read_confined(root: Path, relative: str, cap: int, what: str = "file") -> Read:
    """Read a regular file inside `root` (see the module docstring), at most `cap` bytes.

    Raises:
        InputError: outside the root, not a regular file, larger than `cap`, unreadable.
    """
    data, real = read_unhashed(root, relative, cap, what)
    return Read(data, sha256_hex(data), real)


def sha256_hex(data: bytes) -> str:
    """hashlib releases the GIL while it hashes: call it from a thread to overlap."""
    return hashlib.sha256(data).hexdigest()


def read_unhashed(root: Path, relative: str, cap: int, what: str = "file") -> tuple[bytes, str]:
    """`read_confined` without the hash (the caller hashes these very bytes, in a thread):
    the bytes and the real relative path."""
    fd, real = _open_confined(root, relative, what)
    try:
        data = _read_fd(fd, cap, what)
    finally:
        os.close(fd)
    return data, real


def _open_confined(root: Path, relative: str, what: str) -> tuple[int, str]:
    """A descriptor of the regular file `relative` names inside `root`, and its real
    relative path; the caller closes it."""
    with _root_fd(root) as (root_fd, root_real):
        folders, names, last = _resolve(root_fd, root_real, relative)
        try:
            return _open_regular(last, folders[-1], what), "/".join([*names, last])
        finally:
            for folder in folders[1:]:
                os.close(folder)


def _open_regular(name: str, folder: int, what: str) -> int:
    """Open `name` for reading only if it is a regular file, and check that the descriptor
    is the very file that was checked (device and inode)."""
    if name == ".":
        raise InputError(f"is a folder, not a {what}", "")
    checked = _lstat(name, folder)
    _require_regular(checked, what)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(name, flags, dir_fd=folder)
    except OSError as error:
        raise _os_problem(error) from None
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino) or not stat.S_ISREG(
        opened.st_mode
    ):
        os.close(fd)
        raise InputError("changed while it was read", "rerun accard")
    return fd


def _require_regular(status: os.stat_result, what: str) -> None:
    mode = status.st_mode
    if stat.S_ISREG(mode):
        return
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise InputError(f"is {kind}, not a regular file", f"a {what} must be a regular file")


def _read_fd(fd: int, cap: int, what: str) -> bytes:
    size = os.fstat(fd).st_size
    if size > cap:
        raise InputError(
            f"is {size} bytes; the limit is {human(cap)} for a {what}",
            "accard refuses larger inputs without reading them",
        )
    try:
        chunks = [os.read(fd, min(size, cap) + 1)] if size else []
        total = sum(map(len, chunks))
        while total <= cap:
            chunk = os.read(fd, min(_CHUNK, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except MemoryError:
        raise InputError(f"is {size} bytes: too large for the memory available", "") from None
    except OSError as error:
        raise _os_problem(error) from None
    if total > cap:
        raise InputError(f"grew past {human(cap)} while it was read", f"a {what} must not change")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def sha256_confined(root: Path, relative: str, cap: int, what: str = "file") -> tuple[str, int]:
    """(sha256, size) of a confined regular file, streamed (`accard plan` need not hold it)."""
    fd, _real = _open_confined(root, relative, what)
    try:
        size = os.fstat(fd).st_size
        if size > cap:
            raise InputError(
                f"is {size} bytes; the limit is {human(cap)} for a {what}",
                "accard refuses larger inputs without reading them",
            )
        digest, total = hashlib.sha256(), 0
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            if total > cap:
                raise InputError(f"grew past {human(cap)} while it was read", "")
            digest.update(chunk)
        return digest.hexdigest(), total
    except OSError as error:
        raise _os_problem(error) from None
    finally:
        os.close(fd)


def read_regular(path: Path, cap: int, what: str = "file") -> bytes:
    """A file named on the command line (a card): a regular file of at most `cap` bytes,
    its symlinks followed (the command line is the reviewer's own)."""
    try:
        checked = os.stat(path)
    except OSError as error:
        raise _os_problem(error) from None
    _require_regular(checked, what)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise _os_problem(error) from None
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
            raise InputError("changed while it was read", "rerun accard")
        return _read_fd(fd, cap, what)
    finally:
        os.close(fd)


def read_capped(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """A record file in a folder the reviewer named (`accard init`): regular, capped."""
    return read_regular(path, limit, "record file")


def read_verified(
    spec_dir: Path,
    relative: str,
    sha256: str,
    kept: Mapping[str, bytes] | None = None,
    cap: int = MAX_INPUT_BYTES,
) -> bytes:
    """The planned file's bytes: those the plan kept (the very bytes it hashed), or the
    file read again (confined, capped) and checked against the plan's sha256."""
    if kept is not None and relative in kept:
        return kept[relative]
    try:
        read = read_confined(spec_dir, relative, cap)
    except InputError as error:
        raise InputError(error.summary, error.detail, relative) from None
    if read.sha256 != sha256:
        raise InputError(
            "the file changed after the plan was made",
            "rerun `accard check`; the card must describe what it read",
            relative,
        )
    return read.data


# --- writing -------------------------------------------------------------------------------


def same_file(a: Path, b: Path) -> bool:
    """Do two paths name one existing file (after symlinks)?"""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file of its own in the same folder, flushed to disk and
    renamed over `path`; a read-only destination is refused, not replaced. The temporary
    file is removed on every failure, SIGTERM and SIGINT included.

    Raises:
        UnicodeEncodeError: `text` cannot be written as UTF-8 (a lone surrogate).
        OSError: the destination cannot be written.
    """
    data = text.encode("utf-8")
    if path.exists() and not path.stat().st_mode & 0o222:  # root's os.access says yes
        raise PermissionError(13, "the file is read-only; not replaced", str(path))
    with _terminate_as_exception():
        # SIGINT and SIGTERM wait until the temporary file's name is known to the cleanup
        mask = _block_signals()
        try:
            handle, temporary = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
            )
        except BaseException:
            _restore_signals(mask)
            raise
        try:
            _restore_signals(mask)
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


_STOPS = {signal.SIGINT, signal.SIGTERM}


def _block_signals() -> set[int | signal.Signals] | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)


def _restore_signals(mask: set[int | signal.Signals] | None) -> None:
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class _Terminated(BaseException):
    """SIGTERM during a write, raised so that the temporary file is removed."""


@contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """While writing, SIGTERM raises (so cleanup runs); afterwards the process ends by the
    same signal, as it would have. SIGINT already raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise _Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
