"""Audits: many claims (cells) checked in one run, on a laptop or a dask cluster.

An audit file (`audit "title" { ... }` in the claim language, or YAML) lists claim files,
globs them (`{name}` captures a hyper-parameter from the path) or multiplies a claim
template over axes (`matrix`). Every cell is a claim checked by the one pipeline; the
summary (schemas/audit.v1.schema.json) has a row per cell, the paper's two figures and a
self-contained HTML report.

Stages: decode (tree -> declarations) -> expand (-> cells) -> cell (one job, any process)
-> executors (here, a process pool, dask) -> summary -> tables, html, plots.
"""

from __future__ import annotations

from .load import is_audit_file, load_audit
from .model import Audit, Cell
from .run import AuditResult, Event, audit

__all__ = ["Audit", "AuditResult", "Cell", "Event", "audit", "is_audit_file", "load_audit"]
