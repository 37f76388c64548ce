"""accard: Acceptance Cards for safe fine-tuning defense claims.

The public API, imported lazily so that `accard --help` does not load numpy:

    from accompiler import check
    card = check("specs/example/oracle.ac")      # a Card
    card.passes, card["verdict"], card.to_json(), card.render("markdown")

    result = audit("examples/installed_gap/audit.ac", jobs=2)   # many claims at once
    result.rows, result.frame, result.summary["counts"]

Stages, one package each: spec (text -> config tree) -> claim (-> Claim) -> plan (-> Plan)
-> run (-> Card) -> card (the document) -> render (for people).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

__all__ = ["audit", "check", "compile_plan", "load_spec", "run_plan", "__version__"]

_LAZY = {
    "check": "pipeline",
    "load_spec": "claim.load",
    "compile_plan": "plan.compile",
    "run_plan": "run",
}


def __getattr__(name: str) -> Any:
    if name == "audit":  # the package, callable: accompiler.audit(...) runs an audit
        return importlib.import_module(".audit", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
