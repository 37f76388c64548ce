"""Audits: many claims (cells) checked in one run, on a laptop or a dask cluster.

An audit file (`audit "title" { ... }` in the claim language, or YAML) lists claim files,
globs them (`{name}` captures a hyper-parameter from the path) or multiplies a claim
template over axes (`matrix`). Every cell is a claim checked by the one pipeline; the
summary (schemas/audit.v1.schema.json) has a row per cell, the paper's two figures and a
self-contained HTML report.

    import accompiler
    result = accompiler.audit("examples/installed_gap/audit.ac", jobs=2)
    result.rows, result.frame, result.summary["counts"]

This package is callable: `accompiler.audit(...)` is `accompiler.audit.run.audit(...)`.

Stages: decode (tree -> declarations) -> expand (-> cells) -> cell (one job, any process)
-> executors (here, a process pool, dask) -> summary -> tables, html, plots.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from .load import is_audit_file, load_audit
from .model import Audit, Cell
from .run import AuditResult, Event, audit

__all__ = ["Audit", "AuditResult", "Cell", "Event", "audit", "is_audit_file", "load_audit"]


class _CallablePackage(ModuleType):
    """The package `accompiler.audit` is also the public function `accompiler.audit`: once
    the package is imported, Python's import system makes it the attribute of that name."""

    def __call__(self, *args: Any, **kwargs: Any) -> AuditResult:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
