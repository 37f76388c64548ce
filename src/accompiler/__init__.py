"""accard: Acceptance Cards for safe fine-tuning defense claims.

The public API, imported lazily so that `accard --help` does not load numpy:

    from accompiler import check
    card = check("specs/example/oracle.ac")      # the card as a JSON-ready dict
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

__version__ = "0.1.0"
__all__ = ["check", "compile_plan", "load_spec", "run_plan", "__version__"]

_LAZY = {"load_spec": "load", "compile_plan": "plan", "run_plan": "run"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check(spec: str | Path) -> dict[str, Any]:
    """Load, plan and run a claim spec; return its card.

    Args:
        spec: a `.ac`, `.yaml` or `.yml` claim.

    Returns:
        The filled card (validate it with `accompiler.card.validation_errors`).

    Raises:
        accompiler.problems.SpecError: the spec or an input is wrong; `.problems` lists all.
    """
    from .load import load_spec
    from .plan import compile_plan
    from .run import run_plan

    path = Path(spec)
    claim, _sources = load_spec(path)
    kept: dict[str, bytes] = {}
    plan, _problems = compile_plan(claim, path.parent, kept)
    return run_plan(plan, path.parent, kept)
