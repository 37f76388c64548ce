"""Audit file -> every cell's plan (`accard plan AUDIT`), or the problems that keep a cell
from being planned; nothing is run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._version import __version__
from ..files import InputError
from ..pipeline import plan_claim
from ..plan import plan_to_json
from ..problems import SpecError
from ..render.plan import render_plan
from . import template
from .cell import problem_json
from .load import load_audit, load_cell

AUDIT_PLAN_VERSION = "1"


def audit_plan(path: Path) -> tuple[dict[str, Any], bool]:
    """The audit's plan document, and whether every cell could be planned.

    Raises:
        SpecError: the audit file itself is wrong.
    """
    audit, _sources = load_audit(path)
    cells = []
    for cell in audit.cells:
        entry: dict[str, Any] = {
            "cell": cell.name,
            "group": cell.group,
            "params": dict(cell.params),
            "plan": None,
            "problems": [],
            "rendered": "",
        }
        try:
            claim, folder, sources = load_cell(cell, audit.sha256)
            planned = plan_claim(claim, folder, sources, overrides=audit.overrides)
            entry["plan"] = plan_to_json(planned.plan)
        except SpecError as error:
            entry["problems"] = [problem_json(p) for p in error.problems]
            entry["rendered"] = error.render()
        except InputError as error:
            entry["problems"] = [
                {
                    "severity": "error",
                    "summary": error.summary,
                    "location": error.path,
                    "field": "",
                    "detail": error.detail,
                }
            ]
            entry["rendered"] = f"error: {error.summary} ({error.path})\n"
        cells.append(entry)
    document = {
        "audit_plan_version": AUDIT_PLAN_VERSION,
        "tool": {"name": "accard", "version": __version__},
        "title": audit.title,
        "overrides": audit.overrides,
        "cells": cells,
    }
    return document, all(c["plan"] is not None for c in cells)


def render_audit_plan(document: dict[str, Any]) -> str:
    """For people: the title, then each cell's plan under a rule with its name."""
    cells = document["cells"]
    planned = sum(c["plan"] is not None for c in cells)
    overrides = ", ".join(f"{k} {v}" for k, v in document["overrides"].items())
    lines = [
        f"audit plan for: {document['title']}",
        f"  {len(cells)} cells, {planned} planned, {len(cells) - planned} with problems"
        + (f"; every cell's settings: {overrides}" if overrides else ""),
    ]
    for cell in cells:
        labels = [f"{k}={template.show(v)}" for k, v in cell["params"].items()]
        group = [f"group {cell['group']}"] if cell["group"] else []
        detail = " · ".join(group + labels)
        lines += ["", f"── cell {cell['cell']}" + (f" ({detail})" if detail else "")]
        if cell["plan"] is not None:
            lines.append(render_plan(cell["plan"]))
        else:
            lines.append(cell["rendered"].rstrip("\n"))
    return "\n".join(lines)
