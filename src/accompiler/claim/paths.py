"""Paths a claim names -> files inside the spec's folder. One portable rule for how a path
is written (`/` only; no backslash, NUL, control character or lone surrogate; components of
at most 255 bytes, the whole at most 4,096), every path resolved through files.py (so it is
confined to the spec's folder even through symlinks), and a record entry that names a
folder or a glob pattern resolved to exact files by a bounded walk, refusing ambiguity (two
runs of one task for one arm)."""

from __future__ import annotations

import fnmatch
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..files import Found, InputError, find
from ..records.formats import RecordFormat

GLOB_CHARACTERS = frozenset("*?[")
MAX_MATCHES = 10_000
MAX_VISITED = 100_000
"""Folder entries a folder or pattern entry may look at before it is refused."""
MAX_PATH_BYTES = 4096
MAX_COMPONENT_BYTES = 255
# How the harnesses name their outputs: lm-eval `samples_<task>_<timestamp>.jsonl`,
# inspect `<timestamp>_<task>_<id>.eval|json`.
_TASK_NAMES = {
    "lm_eval": re.compile(r"^samples_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[^_]+\.jsonl$"),
    "inspect": re.compile(r"^\d{4}-\d{2}-\d{2}T[^_]+_(?P<task>.+)_[A-Za-z0-9]+\.(?:eval|json)$"),
}
PORTABLE_HELP = (
    "write paths relative to the spec's folder with `/` between folders; no backslash, "
    "control character or lone surrogate; at most 255 bytes a name and 4,096 in all"
)


def path_fault(path: str) -> str:
    """Why `path` breaks the portable path rule ('' when it keeps it)."""
    for char in path:
        if "\ud800" <= char <= "\udfff":
            return (
                f"holds a lone surrogate ({char.encode('unicode_escape').decode()}), "
                "which is not text UTF-8 can encode"
            )
        if char == "\x00":
            return "holds a NUL character"
        if unicodedata.category(char) == "Cc":
            return f"holds a control character (U+{ord(char):04X})"
    if "\\" in path:
        return "holds a backslash (`\\`); separate folders with `/`"
    if not path.strip():
        return "is empty"
    if path.startswith("/") or (len(path) > 1 and path[1] == ":" and path[0].isalpha()):
        return "is absolute; paths are relative to the spec's folder"
    if ".." in path.split("/"):
        return "leaves the spec's folder (`..`)"
    size = len(path.encode("utf-8"))
    if size > MAX_PATH_BYTES:
        return f"is {size} bytes long; a path may be at most {MAX_PATH_BYTES:,} bytes"
    longest = max(len(part.encode("utf-8")) for part in path.split("/"))
    if longest > MAX_COMPONENT_BYTES:
        return (
            f"has a name of {longest} bytes; a file or folder name may be at most "
            f"{MAX_COMPONENT_BYTES} bytes"
        )
    return ""


def path_help(why: str) -> str:
    """The help for a path that breaks the rule `why` says."""
    if why.startswith(("is absolute", "leaves")):
        return "keep every input inside the folder that holds the spec"
    return PORTABLE_HELP


def shown(path: str, limit: int = 80) -> str:
    """A path as a problem may quote it: escaped when it breaks the rule, and shortened."""
    text = path if not path_fault(path) else path.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def confined_path(spec_dir: Path, relative: str) -> tuple[Found | None, str]:
    """What `relative` names inside `spec_dir`; (found, '') or (None, why it is refused)."""
    why = path_fault(relative)
    if why:
        return None, why
    try:
        return find(spec_dir, relative), ""
    except InputError as error:
        return None, error.summary


def is_pattern(relative: str) -> bool:
    return any(char in GLOB_CHARACTERS for char in relative)


@dataclass(frozen=True)
class Resolved:
    """The exact files a record entry names (relative, sorted), or why it names none."""

    paths: tuple[str, ...] = ()
    why: str = ""
    detail: str = ""


def resolve_records(
    spec_dir: Path, written: str, record_format: RecordFormat, arm: bool, condition: bool
) -> Resolved:
    """The record files `written` names: itself, a folder's record files, or a pattern's
    matches. When the entry fixes the `arm`, each harness task may appear once (a rerun
    beside the first is ambiguous); when it fixes the `condition` too, one run in all."""
    why = path_fault(written)
    if why:
        return Resolved(why=why, detail=path_help(why))
    try:
        if is_pattern(written):
            resolved = _pattern(spec_dir, written, record_format)
        else:
            found = find(spec_dir, written)
            if not found.is_dir:
                return _single(written, found, record_format)
            resolved = _folder(spec_dir, found.real, record_format)
    except InputError as error:
        return Resolved(why=error.summary, detail=error.detail)
    if resolved.why or not arm:
        return resolved
    return _unambiguous(resolved, record_format, condition)


def _single(written: str, found: Found, record_format: RecordFormat) -> Resolved:
    if not found.is_file:
        return Resolved(why="is not a regular file")
    if PurePosixPath(written).suffix.lower() not in record_format.suffixes:
        expected = "expected " + " or ".join(record_format.suffixes)
        return Resolved(why=f"is not a {record_format.name} record file", detail=expected)
    return Resolved((written,))


class _Walk:
    """A bounded walk of folders inside the spec's folder: names only; every match is
    resolved again (confined) through files.find."""

    def __init__(self, spec_dir: Path) -> None:
        self.root = os.path.realpath(spec_dir)
        self.visited = 0

    def entries(self, relative: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(os.path.join(self.root, relative)) as listing:
                found = []
                for entry in listing:
                    self.visited += 1
                    if self.visited > MAX_VISITED:
                        raise InputError(f"looks at more than {MAX_VISITED:,} folder entries")
                    found.append(entry)
                return sorted(found, key=lambda e: e.name)
        except OSError:
            return []

    def below(self, relative: str) -> list[str]:
        """Every file below `relative` (symlinked folders are not entered)."""
        found: list[str] = []
        for entry in self.entries(relative):
            path = _join(relative, entry.name)
            if entry.is_dir(follow_symlinks=False):
                found += self.below(path)
            else:
                found.append(path)
        return found


def _join(folder: str, name: str) -> str:
    return name if folder in ("", ".") else f"{folder}/{name}"


def _pattern(spec_dir: Path, written: str, record_format: RecordFormat) -> Resolved:
    walk = _Walk(spec_dir)
    parts = [p for p in written.split("/") if p not in ("", ".")]
    candidates = _match(walk, "", parts)
    matches = _confine(spec_dir, candidates)
    if len(matches) > MAX_MATCHES:
        return Resolved(why=f"matches more than {MAX_MATCHES} files")
    wrong = [m for m in matches if PurePosixPath(m).suffix.lower() not in record_format.suffixes]
    if wrong:
        what = f"not a {record_format.name} record file"
        return Resolved(
            why=f"matches `{wrong[0]}`, {what}",
            detail="expected " + " or ".join(record_format.suffixes),
        )
    return _found(matches, record_format, "pattern")


def _match(walk: _Walk, folder: str, parts: list[str]) -> list[str]:
    """Paths below `folder` matching glob components `parts` (`**`: any folders)."""
    if not parts:
        return [folder]
    part, rest = parts[0], parts[1:]
    if part == "**":
        found = _match(walk, folder, rest)
        for entry in walk.entries(folder):
            if entry.is_dir(follow_symlinks=False):
                found += _match(walk, _join(folder, entry.name), parts)
        return found
    if not is_pattern(part):
        path = _join(folder, part)
        return (
            _match(walk, path, rest)
            if rest or os.path.lexists(os.path.join(walk.root, path))
            else []
        )
    found = []
    for entry in walk.entries(folder):
        if fnmatch.fnmatchcase(entry.name, part) and (not rest or entry.is_dir()):
            found += _match(walk, _join(folder, entry.name), rest)
    return found


def _confine(spec_dir: Path, candidates: list[str]) -> list[str]:
    """The regular files among `candidates` that stay inside the spec's folder, as their
    real relative paths (sorted, each once)."""
    real = set()
    for candidate in candidates:
        try:
            found = find(spec_dir, candidate)
        except InputError:
            continue
        if found.is_file:
            real.add(found.real)
    return sorted(real)


def _folder(spec_dir: Path, folder: str, record_format: RecordFormat) -> Resolved:
    walk = _Walk(spec_dir)
    names = [p for p in walk.below(folder) if _is_record_file(p.rsplit("/", 1)[-1], record_format)]
    matches = _confine(spec_dir, names)
    if len(matches) > MAX_MATCHES:
        return Resolved(why=f"holds more than {MAX_MATCHES} files")
    return _found(matches, record_format, "folder")


def _is_record_file(name: str, record_format: RecordFormat) -> bool:
    naming = _TASK_NAMES.get(record_format.name)
    if naming is not None:
        return naming.match(name) is not None
    return PurePosixPath(name).suffix.lower() in record_format.suffixes


def _found(matches: list[str], record_format: RecordFormat, kind: str) -> Resolved:
    if not matches:
        return Resolved(
            why=f"is a {kind} with no {record_format.name} record file",
            detail=_naming_help(record_format),
        )
    return Resolved(tuple(matches))


def _naming_help(record_format: RecordFormat) -> str:
    if record_format.name == "lm_eval":
        return "lm-eval writes samples_<task>_<timestamp>.jsonl (run it with --log_samples)"
    if record_format.name == "inspect":
        return "inspect writes <timestamp>_<task>_<id>.eval (or .json) logs"
    return "expected " + " or ".join(record_format.suffixes)


def _unambiguous(resolved: Resolved, record_format: RecordFormat, condition: bool) -> Resolved:
    """Two runs of one task for one arm (a rerun beside the first) are ambiguous, and so are
    two runs for one arm and condition."""
    naming = _TASK_NAMES.get(record_format.name)
    if naming is None or len(resolved.paths) < 2:
        return resolved
    tasks: dict[str, list[str]] = {}
    for path in resolved.paths:
        match = naming.match(PurePosixPath(path).name)
        tasks.setdefault(match["task"] if match else path, []).append(path)
    clash = list(resolved.paths) if condition else None
    clash = clash or next((paths for paths in tasks.values() if len(paths) > 1), None)
    if clash is None:
        return resolved
    what = "one arm and condition" if condition else "one task and arm"
    return Resolved(
        why=f"is ambiguous: {len(clash)} runs for {what}: " + ", ".join(clash),
        detail="name one file, or narrow the pattern (e.g. with the task or the timestamp)",
    )
