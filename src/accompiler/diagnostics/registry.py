"""A diagnostic's entry: its card field name, letter and title, what it reads, how it runs,
and how its strict and permissive statuses are read from its card section."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..claim.model import Claim
from ..problems import Problem
from .context import RunContext

Section = dict[str, Any]
InputReader = Callable[[str, str], tuple[str, bytes] | None]
"""(adapter role, part) -> (path, verified bytes), or None when the plan has no such file."""


JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Implied:
    """A value of a card that the card's other values determine, by `rule` (in words)."""

    path: JsonPath
    """Where the value sits, relative to the section (or the card, for card-level rules)."""
    value: Any
    rule: str
    project: str = ""
    """For a list of objects: compare each object's `project` field (their names)."""


CardDocument = Mapping[str, Any]
"""A card document (JSON), as `accard validate` reads it."""


def _implies_nothing(_section: Section, _card: CardDocument) -> list[Implied]:
    return []


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
    implied: Callable[[Section, CardDocument], list[Implied]] = _implies_nothing
    """Every value of its section that the card's own numbers and settings determine
    (status, retention, class...), re-derived by the same rules `run` applies; the card's
    data sets, precondition and earlier sections are already as their numbers imply."""

    @property
    def label(self) -> str:
        return f"({self.letter}) {self.title}"

    def strict(self, section: Section) -> str:
        return _own_status(section)


def recorded(card: CardDocument, key: str, *names: str) -> dict[str, Any]:
    """The named intervals of data set `key` as the card's `datasets` record them: null for a
    data set the claim lacks or that could not be bootstrapped, and nothing at all for a
    card that predates per-data-set intervals (1.0, migrated with `intervals` null)."""
    data = next((d for d in card["datasets"] if d["key"] == key), None)
    if data is None or data["clusters"] is None:
        return dict.fromkeys(names)
    intervals = data.get("intervals")
    return {} if intervals is None else {name: intervals[name] for name in names}


def dataset_name(card: CardDocument, key: str, default: str = "") -> str:
    data = next((d for d in card["datasets"] if d["key"] == key), None)
    return str(data["name"]) if data else default or key


def agreeing(found: Any, derived: float) -> float:
    """The card's own number where it agrees with the one re-derived from the card's other
    numbers (so a rule decides on the digits the card shows), else the re-derived one."""
    if isinstance(found, bool) or not isinstance(found, (int, float)):
        return derived
    close = math.isclose(found, derived, rel_tol=1e-9, abs_tol=1e-12)
    return float(found) if close else derived
