"""Record files of a data set (as the plan lists them) -> a validated ClusterTable."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from ..ir import DataSet, Records
from ..plan import Plan, PlanInput, dataset_key
from ..problems import Problem
from ..span import Span
from .readers import read_rows
from .table import ClusterTable, SourceFile, build_table

MAX_RECORD_BYTES = 1 << 30

__all__ = ["ClusterTable", "load_dataset", "read_input"]


def read_input(
    spec_dir: Path, item: PlanInput, kept: dict[str, bytes] | None = None
) -> tuple[bytes | None, list[Problem]]:
    """Read a planned input and check it is the file the plan hashed (bytes the plan kept
    are the very bytes it hashed)."""
    if kept is not None and item.path in kept:
        return kept[item.path], []
    path = spec_dir / item.path
    span = Span(item.path, 0)
    size = path.stat().st_size
    if size > MAX_RECORD_BYTES:
        return None, [Problem(f"the file is {size} bytes; the limit is 1 GiB", span)]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != item.sha256:
        return None, [
            Problem(
                "the file changed after the plan was made",
                span,
                "rerun `accard check`; the card must describe what it read",
            )
        ]
    return data, []


def load_dataset(
    plan: Plan,
    data: DataSet,
    spec_dir: Path,
    records: Records,
    kept: dict[str, bytes] | None = None,
) -> tuple[ClusterTable | None, list[Problem]]:
    key = dataset_key(data)
    sources: list[SourceFile] = []
    problems: list[Problem] = []
    for item in plan.inputs_for(f"records/{key}"):
        content, read_problems = read_input(spec_dir, item, kept)
        problems += read_problems
        if content is None:
            continue
        role, _, condition = item.role.partition("@")
        arm = role.rsplit("/", 1)[1] if role.count("/") == 2 else None
        suffix = PurePosixPath(item.path).suffix.lower()
        sources.append(SourceFile(item.path, content, suffix, arm, condition or None))
    if problems:
        return None, problems
    return build_table(
        sources,
        records.field_map(),
        records.format,
        lambda source: read_rows(source.data, source.suffix, records.format),
        records.filter,
    )
