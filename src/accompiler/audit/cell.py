"""One job -> one result, in whatever process runs it: load the cell's claim by path, plan it
(every input read and hashed), reuse a cached card or run the plan.

Jobs and results are plain JSON: a worker receives text and returns text, so nothing is
ever unpickled from what a cell reads.
"""

from __future__ import annotations

import hashlib
import traceback
from pathlib import Path
from typing import Any

from ..card.document import schema_problems
from ..files import InputError
from ..pipeline import Planned, plan_claim, run_planned
from ..problems import Problem, SpecError
from ..span import Span
from .cache import CardCache, cache_key
from .load import load_cell, template_digest
from .model import Cell

COMPUTED, FAILED, CRASHED = "computed", "failed", "crashed"


def cell_job(
    cell: Cell,
    audit_sha256: str | None,
    overrides: dict[str, Any],
    option_names: dict[str, str],
    cache: Path | None,
) -> dict[str, Any]:
    """A cell's job, as JSON: everything a worker needs, paths absolute."""
    return {
        "kind": "cell",
        "cell": cell.to_json(),
        "audit_sha256": audit_sha256,
        "overrides": overrides,
        "option_names": option_names,
        "cache": str(cache) if cache is not None else None,
    }


def run_cell(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job; a cell that cannot be computed is a result with its problems."""
    cell = Cell.from_json(job["cell"])
    try:
        claim, folder, sources = load_cell(cell, job["audit_sha256"])
        planned = plan_claim(
            claim,
            folder,
            sources,
            overrides=job["overrides"],
            option_names=job["option_names"],
        )
        text, reused = _card(cell, planned, job)
    except SpecError as error:
        return failed(cell.name, error.problems, _without_tally(error.render()))
    except InputError as error:
        span = Span(error.path or cell.display, 0)
        problem = Problem(error.summary, span, error.detail)
        return failed(cell.name, [problem], SpecError([problem]).render())
    except Exception as error:  # noqa: BLE001 - one cell's bug must not stop the others
        summary = f"internal error: {type(error).__name__}: {error} (a bug in accard)"
        return failed(cell.name, [Problem(summary)], summary + "\n", traceback.format_exc())
    return {"cell": cell.name, "status": COMPUTED, "card": text, "reused": reused}


def _card(cell: Cell, planned: Planned, job: dict[str, Any]) -> tuple[str, bool]:
    cache = CardCache(Path(job["cache"])) if job["cache"] else None
    key = ""
    if cache is not None:
        key = cache_key(_spec_sha256(cell, planned, job["audit_sha256"]), planned)
        text = cache.get(key, planned)
        if text is not None:
            return text, True
    card = run_planned(planned)
    errors = schema_problems(card.document, cell.name)
    if errors:
        raise ValueError(f"the card does not match its schema: {errors[0].summary}")
    text = card.to_json()
    if cache is not None:
        cache.put(key, text)
    return text, False


def _spec_sha256(cell: Cell, planned: Planned, audit_sha256: str | None) -> str:
    if cell.matrix is not None:
        return template_digest(cell, audit_sha256)
    text = planned.sources.get(cell.display, "")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _without_tally(rendered: str) -> str:
    """The problems without the closing "N errors found; nothing was written" (for a cell,
    the audit goes on)."""
    return rendered.rstrip("\n").rsplit("\n\n", 1)[0] + "\n"


def failed(
    name: str, problems: list[Problem], rendered: str, trace: str = "", status: str = FAILED
) -> dict[str, Any]:
    """A result for a cell that could not be computed, its problems as JSON and as text."""
    return {
        "cell": name,
        "status": status,
        "problems": [problem_json(p) for p in problems],
        "rendered": rendered,
        "traceback": trace,
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "severity": problem.severity,
        "summary": problem.summary,
        "location": problem.span.location() if problem.span else "",
        "field": problem.field,
        "detail": problem.detail,
    }
