"""Record files (verified bytes) -> a validated ClusterTable. Knows nothing of plans: the
runner hands it each file's bytes with the arm and condition the claim gives it."""

from __future__ import annotations

from .formats import FORMATS, RECORD_FIELDS, RecordFormat
from .table import ClusterTable, SourceFile, build_table

__all__ = ["FORMATS", "RECORD_FIELDS", "ClusterTable", "RecordFormat", "SourceFile", "build_table"]
