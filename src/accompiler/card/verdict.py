"""Diagnostic sections -> the strict and permissive verdicts, by the registry's rules."""

from __future__ import annotations

from typing import Any

from ..diagnostics import DIAGNOSTICS


def verdicts(sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Both verdicts of a card's `diagnostics` (strict: the authors' coding, all targets)."""
    return {"strict": verdict(sections, False), "permissive": verdict(sections, True)}


def verdict(sections: dict[str, dict[str, Any]], permissive: bool) -> dict[str, Any]:
    """Pass needs every diagnostic to pass; `failed` and `not_evaluable` name the others."""
    statuses = {
        name: (entry.permissive if permissive else entry.strict)(sections[name])
        for name, entry in DIAGNOSTICS.items()
        if name in sections
    }
    passed = sum(s == "pass" for s in statuses.values())
    return {
        "pass": passed == len(statuses),
        "passed": passed,
        "failed": [n for n, s in statuses.items() if s == "fail"],
        "not_evaluable": [n for n, s in statuses.items() if s == "not_evaluable"],
    }
