"""Paths a claim names -> files inside the spec's folder: every path confined to it, and a
record entry that names a folder or a glob pattern resolved to exact files, refusing
ambiguity (two runs of one task for one arm)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..records.formats import RecordFormat

GLOB_CHARACTERS = frozenset("*?[")
MAX_MATCHES = 10_000
# How the harnesses name their outputs: lm-eval `samples_<task>_<timestamp>.jsonl`,
# inspect `<timestamp>_<task>_<id>.eval|json`.
_TASK_NAMES = {
    "lm_eval": re.compile(r"^samples_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[^_]+\.jsonl$"),
    "inspect": re.compile(r"^\d{4}-\d{2}-\d{2}T[^_]+_(?P<task>.+)_[A-Za-z0-9]+\.(?:eval|json)$"),
}


def confined_path(spec_dir: Path, relative: str) -> tuple[Path | None, str]:
    """Resolve `relative` inside `spec_dir`; return (path, '') or (None, why it is refused)."""
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (len(relative) > 1 and relative[1] == ":"):
        return None, "is absolute; paths are relative to the spec's folder"
    if ".." in pure.parts:
        return None, "leaves the spec's folder (`..`)"
    root = spec_dir.resolve()
    target = (root / pure).resolve()
    if target != root and root not in target.parents:
        return None, "points outside the spec's folder (through a symlink)"
    if not target.exists():
        return None, "does not exist"
    return target, ""


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
    if is_pattern(written):
        resolved = _pattern(spec_dir, written, record_format)
    else:
        path, why = confined_path(spec_dir, written)
        if path is None:
            return Resolved(why=why)
        if not path.is_dir():
            return _single(written, path, record_format)
        resolved = _folder(spec_dir, path, record_format)
    if resolved.why or not arm:
        return resolved
    return _unambiguous(resolved, record_format, condition)


def _single(written: str, path: Path, record_format: RecordFormat) -> Resolved:
    if not path.is_file():
        return Resolved(why="is not a file")
    if path.suffix.lower() not in record_format.suffixes:
        expected = "expected " + " or ".join(record_format.suffixes)
        return Resolved(why=f"is not a {record_format.name} record file", detail=expected)
    return Resolved((written,))


def _relative(spec_dir: Path, path: Path) -> str:
    return path.relative_to(spec_dir.resolve()).as_posix()


def _pattern(spec_dir: Path, written: str, record_format: RecordFormat) -> Resolved:
    pure = PurePosixPath(written)
    if pure.is_absolute() or ".." in pure.parts or "\\" in written:
        return Resolved(why="is not a relative pattern inside the spec's folder")
    root = spec_dir.resolve()
    matches: list[Path] = []
    for found in root.glob(written):
        if len(matches) >= MAX_MATCHES:
            return Resolved(why=f"matches more than {MAX_MATCHES} files")
        target = found.resolve()
        if target.is_file() and root in target.parents:
            matches.append(found)
    wrong = [m for m in matches if m.suffix.lower() not in record_format.suffixes]
    if wrong:
        what = f"not a {record_format.name} record file"
        return Resolved(
            why=f"matches `{_relative(spec_dir, wrong[0])}`, {what}",
            detail="expected " + " or ".join(record_format.suffixes),
        )
    return _found(spec_dir, matches, record_format, "pattern")


def _folder(spec_dir: Path, folder: Path, record_format: RecordFormat) -> Resolved:
    matches: list[Path] = []
    for found in folder.rglob("*"):
        if len(matches) >= MAX_MATCHES:
            return Resolved(why=f"holds more than {MAX_MATCHES} files")
        if found.is_file() and _is_record_file(found.name, record_format):
            matches.append(found)
    return _found(spec_dir, matches, record_format, "folder")


def _is_record_file(name: str, record_format: RecordFormat) -> bool:
    naming = _TASK_NAMES.get(record_format.name)
    if naming is not None:
        return naming.match(name) is not None
    return PurePosixPath(name).suffix.lower() in record_format.suffixes


def _found(spec_dir: Path, matches: list[Path], record_format: RecordFormat, kind: str) -> Resolved:
    root = spec_dir.resolve()
    confined = sorted(
        _relative(spec_dir, m.resolve()) for m in matches if root in m.resolve().parents
    )
    if not confined:
        return Resolved(
            why=f"is a {kind} with no {record_format.name} record file",
            detail=_naming_help(record_format),
        )
    return Resolved(tuple(confined))


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
