"""Record files -> what they hold: the task, the arm and condition their names or headers
give, and the fields, metrics, filters and scorers of their first rows. `accard init`
drafts a claim from it; problems use it to list what a file actually has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

from ..files import read_capped
from .formats import FORMATS
from .readers import ReadError, read_inspect_header

ROWS_PROBED = 50
_ARM = re.compile(r"(?<![A-Za-z])(undefended|defended)(?![A-Za-z])")
_CONDITION = re.compile(r"(?:^|[_\-.])(deploy|eval)(?:$|[_\-.])")
_LM_EVAL = re.compile(r"^samples_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[^_]+\.jsonl$")
_INSPECT = re.compile(r"^\d{4}-\d{2}-\d{2}T[^_]+_(?P<task>.+)_[A-Za-z0-9]+\.(?:eval|json)$")


@dataclass(frozen=True)
class FileFacts:
    """One record file as found: enough to draft its `records` block and entry."""

    path: Path
    format: str
    task: str | None
    arm: str | None
    condition: str | None
    fields: tuple[str, ...]
    """Dotted paths of the leaves of its first rows (e.g. doc.question_id, acc)."""
    metrics: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    scorers: tuple[str, ...] = ()
    header: tuple[tuple[str, str], ...] = ()
    """inspect: the log-level values under `eval` that a field path may name."""


def probe_folder(folder: Path) -> list[FileFacts]:
    """Every record file under `folder` that a harness or the canonical form wrote."""
    found = []
    for path in sorted(folder.rglob("*")):
        record_format = _format_of(path)
        if record_format is not None and path.is_file():
            found.append(probe_file(path, record_format))
    return found


def _format_of(path: Path) -> str | None:
    if _LM_EVAL.match(path.name):
        return "lm_eval"
    if _INSPECT.match(path.name):
        return "inspect"
    if path.suffix.lower() in FORMATS["canonical"].suffixes:
        return "canonical"
    return None


def probe_file(path: Path, record_format: str) -> FileFacts:
    """What one record file holds, from its name, its header and its first rows."""
    data = read_capped(path)
    suffix = path.suffix.lower()
    rows = [row for _, row in islice(FORMATS[record_format].read(data, suffix), ROWS_PROBED)]
    rows = [r for r in rows if isinstance(r, dict)]
    header = read_inspect_header(data, suffix) if record_format == "inspect" else {}
    task = _task(path.name, record_format, header)
    return FileFacts(
        path,
        record_format,
        task,
        _arm(path, header),
        _condition(task),
        tuple(sorted(set().union(*(leaf_paths(r) for r in rows)))),
        _distinct(m for r in rows for m in r.get("metrics") or () if isinstance(m, str)),
        _distinct(r["filter"] for r in rows if isinstance(r.get("filter"), str)),
        _distinct(s for r in rows if isinstance(r.get("scores"), dict) for s in r["scores"]),
        tuple(sorted(leaf_values(header, "eval").items())),
    )


def _distinct(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _task(name: str, record_format: str, header: dict[str, Any]) -> str | None:
    if record_format == "inspect" and isinstance(header.get("task"), str):
        return str(header["task"])
    match = (_LM_EVAL if record_format == "lm_eval" else _INSPECT).match(name)
    return match["task"] if match else None


def _arm(path: Path, header: dict[str, Any]) -> str | None:
    """The arm a log header names (inspect task_args), else the nearest folder or file name
    that says undefended or defended."""
    for value in (header.get("task_args") or {}).values():
        if isinstance(value, str) and value in ("undefended", "defended"):
            return value
    for part in reversed(PurePosixPath(path.as_posix()).parts):
        match = _ARM.search(part)
        if match:
            return match.group(1)
    return None


def _condition(task: str | None) -> str | None:
    match = _CONDITION.search(task or "")
    return match.group(1) if match else None


def leaf_paths(row: Any, prefix: str = "", depth: int = 4) -> set[str]:
    """The dotted paths of a row's scalar leaves, `depth` levels deep at most."""
    if not isinstance(row, dict) or depth == 0:
        return {prefix} if prefix else set()
    paths: set[str] = set()
    for key, value in row.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        paths |= leaf_paths(value, path, depth - 1) if isinstance(value, dict) else {path}
    return paths


def leaf_values(value: Any, prefix: str, depth: int = 3) -> dict[str, str]:
    """Scalar leaves of a log header as `prefix.path: value`, for the draft's comments."""
    if isinstance(value, dict) and depth > 0:
        found: dict[str, str] = {}
        for key, child in value.items():
            found |= leaf_values(child, f"{prefix}.{key}", depth - 1)
        return found
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {prefix: str(value)}
    return {}


__all__ = ["FileFacts", "ReadError", "leaf_paths", "probe_file", "probe_folder"]
