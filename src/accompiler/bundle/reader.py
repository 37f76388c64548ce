"""A bundle (zip or directory) -> its files, safely, in a folder of the caller's: every
member's name and kind checked (no absolute path, no `..`, no link, no special file, no
duplicate), sizes and counts capped before anything is written and again as bytes flow,
and every file checked against the manifest's size and sha256."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from ..problems import Problem, SpecError
from ..span import Span
from .manifest import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    Manifest,
    collision_key,
    parse_manifest,
    path_fault,
)

CHUNK = 1 << 20
MAX_DEPTH = 64


@dataclass(frozen=True)
class Limits:
    """What a bundle may hold; anything beyond is refused before it is written."""

    max_files: int = 10_000
    max_file_bytes: int = 1 << 30
    max_total_bytes: int = 4 << 30


LIMITS = Limits()


@dataclass(frozen=True)
class Bundle:
    """An opened bundle: its files under `root` (the caller's folder), where the spec and
    the card are, and its manifest."""

    root: Path
    spec: Path
    card: Path
    manifest: Manifest
    source: str
    """How the bundle was named (the zip or directory given)."""

    def display(self, member: str) -> str:
        """How problems name a file of the bundle: BUNDLE/PATH."""
        return f"{self.source}/{member}"


def open_bundle(
    path: Path, workdir: Path, limits: Limits = LIMITS, display: str | None = None
) -> Bundle:
    """Check a bundle and copy its files into `workdir` (created, or an empty folder).

    Nothing is written before every member's name, kind and declared size has passed,
    and nothing is written outside `workdir`.

    Raises:
        SpecError: the bundle is malformed or unsafe; `.problems` lists every problem.
    """
    display = display or str(path)
    with _source(path, limits, display) as source:
        members = source.members()
        if members[MANIFEST] > MAX_MANIFEST_BYTES:
            _refuse(display, f"{MANIFEST} is {members[MANIFEST]} bytes; the limit is 1 MiB")
        manifest_bytes = source.read(MANIFEST, MAX_MANIFEST_BYTES)
        manifest, problems = parse_manifest(manifest_bytes, f"{display}/{MANIFEST}")
        if manifest is None or problems:
            raise SpecError(problems)
        _fail(display, _listing(manifest, members))
        _fail(display, _empty_folder(workdir))
        faults: list[str] = []
        for entry in manifest.files:
            size, sha256 = _write(workdir, entry.path, source.chunks(entry.path, entry.size))
            if (size, sha256) != (entry.size, entry.sha256):
                faults.append(
                    f"{entry.path}: {size} bytes with sha256 {sha256[:12]}…, but the manifest "
                    f"says {entry.size} bytes with sha256 {entry.sha256[:12]}…"
                )
        _fail(display, faults)
        _write(workdir, MANIFEST, iter([manifest_bytes]))
    return Bundle(workdir, workdir / manifest.spec, workdir / manifest.card, manifest, display)


def _fail(display: str, faults: list[str]) -> None:
    if faults:
        raise SpecError([Problem(f, Span(display, 0)) for f in faults])


def _refuse(display: str, fault: str) -> NoReturn:
    raise SpecError([Problem(fault, Span(display, 0))])


def _listing(manifest: Manifest, members: dict[str, int]) -> list[str]:
    """Every member listed, every listed file present at its declared size."""
    listed = {f.path for f in manifest.files}
    faults = [
        f"{name}: in the bundle but not listed in the manifest"
        for name in members
        if name not in listed and name != MANIFEST
    ]
    for entry in manifest.files:
        if entry.path not in members:
            faults.append(f"{entry.path}: listed in the manifest but missing from the bundle")
        elif members[entry.path] != entry.size:
            faults.append(
                f"{entry.path}: {members[entry.path]} bytes, but the manifest says {entry.size}"
            )
    return faults


def _empty_folder(workdir: Path) -> list[str]:
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        if any(workdir.iterdir()):
            return [f"the folder to unpack into ({workdir}) is not empty"]
    except OSError as error:
        return [f"cannot unpack into {workdir}: {error.strerror or error}"]
    return []


def _write(root: Path, name: str, chunks: Iterator[bytes]) -> tuple[int, str]:
    """Write a member under `root` (a new file, never through a link); its size, sha256."""
    target = root.joinpath(*name.split("/"))
    if root.resolve() not in target.resolve().parents:  # unreachable after path_fault
        raise SpecError([Problem(f"{name}: leaves the folder it is unpacked into")])
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    digest, size = hashlib.sha256(), 0
    with os.fdopen(os.open(target, flags, 0o644), "wb") as handle:
        for chunk in chunks:
            size += len(chunk)
            digest.update(chunk)
            handle.write(chunk)
    return size, digest.hexdigest()


class _Source(ABC):
    """A bundle's members: their names and sizes (checked), and their bytes (capped)."""

    def __init__(self, limits: Limits, display: str) -> None:
        self.limits, self.display = limits, display

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release what the source holds open."""

    @abstractmethod
    def members(self) -> dict[str, int]:
        """Every member's name and size, checked (`checked`) before anything is read."""

    @abstractmethod
    def chunks(self, name: str, declared: int) -> Iterator[bytes]:
        """A member's bytes as they are read, refused past `declared` bytes."""

    def read(self, name: str, cap: int) -> bytes:
        """A small member whole (the manifest), refused beyond `cap` bytes."""
        return b"".join(self.chunks(name, cap))

    def checked(self, entries: list[tuple[str, str, int]]) -> dict[str, int]:
        """(name, fault, size) of every member -> {name: size}, or SpecError listing every
        unsafe name, kind, duplicate, conflict and cap exceeded."""
        faults = [f"{name!r} {fault}" for name, fault, _ in entries if fault]
        limits = self.limits
        if len(entries) > limits.max_files:
            faults.append(f"holds {len(entries)} files; the limit is {limits.max_files}")
        seen: dict[str, str] = {}
        for name, _, size in entries:
            if size > limits.max_file_bytes:
                faults.append(f"{name!r} is {size} bytes; the limit is {limits.max_file_bytes}")
            key = collision_key(name)
            if key in seen:
                faults.append(f"{name!r} appears twice (as {seen[key]!r})")
            seen.setdefault(key, name)
        total = sum(size for _, _, size in entries)
        if total > limits.max_total_bytes:
            faults.append(f"unpacks to {total} bytes; the limit is {limits.max_total_bytes}")
        faults += _prefix_conflicts([name for name, _, _ in entries])
        if MANIFEST not in seen.values():
            faults.append(f"has no {MANIFEST} at its root")
        _fail(self.display, faults)
        return {name: size for name, _, size in entries}


def _prefix_conflicts(names: list[str]) -> list[str]:
    files = {collision_key(n) for n in names}
    return [
        f"{name!r} is a file and a folder of another member"
        for name in names
        if any(
            collision_key("/".join(name.split("/")[:k])) in files
            for k in range(1, name.count("/") + 1)
        )
    ]


def _source(path: Path, limits: Limits, display: str) -> _Source:
    if path.is_dir() and not path.is_symlink():
        return _DirectorySource(path, limits, display)
    try:
        size = path.stat().st_size
    except OSError as error:
        _refuse(display, f"cannot read the bundle: {error.strerror or error}")
    if size > limits.max_total_bytes:
        _refuse(display, f"the archive is {size} bytes; the limit is {limits.max_total_bytes}")
    if not zipfile.is_zipfile(path):
        _refuse(display, "not a bundle: neither a zip archive nor a directory")
    return _ZipSource(path, limits, display)


class _ZipSource(_Source):
    def __init__(self, path: Path, limits: Limits, display: str) -> None:
        super().__init__(limits, display)
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            _refuse(display, f"not a readable zip archive ({error})")
        self.infos: dict[str, zipfile.ZipInfo] = {}

    def close(self) -> None:
        self.archive.close()

    def members(self) -> dict[str, int]:
        entries = []
        for info in self.archive.infolist():
            name = info.orig_filename
            if name.endswith("/") and info.is_dir():
                fault = path_fault(name[:-1])
                if fault:
                    entries.append((name, f"(a folder) {fault}", 0))
                continue
            entries.append((name, path_fault(name) or _zip_kind(info), info.file_size))
            self.infos.setdefault(name, info)
        return self.checked(entries)

    def chunks(self, name: str, declared: int) -> Iterator[bytes]:
        produced = 0
        try:
            with self.archive.open(self.infos[name]) as stream:
                while chunk := stream.read(CHUNK):
                    produced += len(chunk)
                    if produced > declared:
                        _refuse(self.display, f"{name!r} inflates beyond its declared size")
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            _refuse(self.display, f"{name!r} cannot be read ({error})")


def _zip_kind(info: zipfile.ZipInfo) -> str:
    """'' for a plain file stored or deflated, else what it is."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind not in (0, stat.S_IFREG):
        return "is a special file (not a regular file)"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "uses a compression other than stored or deflated"
    return ""


class _DirectorySource(_Source):
    def __init__(self, root: Path, limits: Limits, display: str) -> None:
        super().__init__(limits, display)
        self.root = root

    def close(self) -> None:
        return None  # each member is opened and closed as it is read: nothing stays open

    def members(self) -> dict[str, int]:
        return self.checked(list(self._walk(self.root, "", 0)))

    def _walk(self, folder: Path, prefix: str, depth: int) -> Iterator[tuple[str, str, int]]:
        if depth > MAX_DEPTH:
            yield prefix, f"is nested deeper than {MAX_DEPTH} folders", 0
            return
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                name = f"{prefix}{entry.name}"
                if entry.is_symlink():
                    yield name, "is a symbolic link", 0
                elif entry.is_dir(follow_symlinks=False):
                    yield from self._walk(Path(entry.path), f"{name}/", depth + 1)
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    yield name, path_fault(name), size
                else:
                    yield name, "is a special file (not a regular file)", 0

    def chunks(self, name: str, declared: int) -> Iterator[bytes]:
        path = self.root.joinpath(*name.split("/"))
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            handle = os.fdopen(os.open(path, flags), "rb")
        except OSError as error:
            _refuse(self.display, f"{name!r} cannot be read ({error.strerror or error})")
        produced = 0
        with handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                _refuse(self.display, f"{name!r} is not a regular file")
            while chunk := handle.read(CHUNK):
                produced += len(chunk)
                if produced > declared:
                    _refuse(self.display, f"{name!r} grew beyond its listed size while read")
                yield chunk
