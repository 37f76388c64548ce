"""A diagnostic's entry: its card field name, letter and title, what it reads, how it runs,
and how its strict and permissive statuses are read from its card section."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..claim.model import Claim
from ..problems import Problem
from .context import RunContext

Section = dict[str, Any]
InputReader = Callable[[str, str], tuple[str, bytes] | None]
"""(adapter role, part) -> (path, verified bytes), or None when the plan has no such file."""


def _own_status(section: Section) -> str:
    return str(section["status"])


def _no_warnings(_section: Section) -> list[str]:
    return []


@dataclass(frozen=True)
class Diagnostic:
    """One of the protocol's diagnostics. `name` is its field in the card's `diagnostics`."""

    name: str
    letter: str
    title: str
    yields: tuple[str, ...]
    reads: Callable[[Claim], tuple[str, ...]]
    """The plan steps or inputs it reads, for `accard plan`."""
    unavailable: Callable[[Claim], str]
    """Why the claim alone leaves it not evaluable ('' when it is planned)."""
    run: Callable[[RunContext], Section]
    prepare: Callable[[Claim, InputReader], tuple[Any, list[Problem]]] | None = None
    """Reads its own inputs before any diagnostic runs (bad input there is exit 2); the
    result is `RunContext.prepared[name]`."""
    permissive: Callable[[Section], str] = _own_status
    """Its status under permissive coding (an auditor's relabel, any transfer target)."""
    warnings: Callable[[Section], list[str]] = _no_warnings

    @property
    def label(self) -> str:
        return f"({self.letter}) {self.title}"

    def strict(self, section: Section) -> str:
        return _own_status(section)
