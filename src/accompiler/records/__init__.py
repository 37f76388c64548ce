"""Record files (verified bytes) -> a validated ClusterTable. Knows nothing of plans: the
runner hands it each file's bytes with the arm and condition the claim gives it. Importing
this package imports no numpy: the table and its readers load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formats import FORMATS, RECORD_FIELDS, RecordFormat

if TYPE_CHECKING:
    from .table import ClusterTable, SourceFile, build_table

__all__ = ["FORMATS", "RECORD_FIELDS", "ClusterTable", "RecordFormat", "SourceFile", "build_table"]


def __getattr__(name: str) -> Any:
    if name in ("ClusterTable", "SourceFile", "build_table"):
        from . import table

        return getattr(table, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
