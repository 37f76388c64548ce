"""Two card documents -> every value that differs, compared as parsed JSON (formatting and
key order never matter), under a stated tolerance: what `accard reproduce` reports."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .consistency import json_path

IDENTITY_KEYS = ("key", "path", "name", "module", "role")
"""A list of objects each holding a distinct one of these is matched by it, not by position
(a removed transfer target is one difference, not a shift of every later one)."""
DEFAULT_MC_MULTIPLE = 4.0
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "absent"})()
"""The value of a field one of the two cards does not have."""


@dataclass(frozen=True)
class Tolerance:
    """How close two numbers must be. `exact`: equal to 1e-9 relative (12 significant
    digits are written; the last may differ between CPUs' floating-point sums). `mc`: as
    exact, except that an interval bound may move by `mc_multiple` times the Monte-Carlo
    error of the difference of the two bounds, sqrt(e1^2 + e2^2), or of the interval's
    largest MC error in either card if that is larger (a bound on a lattice point of
    discrete data reports 0), and the MC errors themselves are not compared (a
    recomputation with another seed or B)."""

    name: str = "exact"
    mc_multiple: float = DEFAULT_MC_MULTIPLE

    def describe(self) -> str:
        if self.name == "mc":
            return (
                f"interval bounds within {self.mc_multiple:g} x their Monte-Carlo error "
                "sqrt(e_card^2 + e_recomputed^2) (at least the interval's largest MC error); "
                "every other value equal (numbers to 1e-9 relative)"
            )
        return "every value equal (numbers to 1e-9 relative)"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"name": self.name, "rule": self.describe()}
        if self.name == "mc":
            document["mc_multiple"] = self.mc_multiple
        return document


EXACT = Tolerance()


@dataclass(frozen=True)
class Difference:
    """One value that differs: its JSON path, the card's value and the recomputed one."""

    path: str
    card: Any
    recomputed: Any
    detail: str = ""
    multiple: float | None = None
    """An interval bound: how many Monte-Carlo errors it moved."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "card": None if self.card is ABSENT else self.card,
            "recomputed": None if self.recomputed is ABSENT else self.recomputed,
            "card_has": self.card is not ABSENT,
            "recomputed_has": self.recomputed is not ABSENT,
            "detail": self.detail,
            "mc_multiple": self.multiple
            if self.multiple is None or math.isfinite(self.multiple)
            else None,
        }


@dataclass(frozen=True)
class Comparison:
    differences: list[Difference]
    tolerated: list[Difference] = field(default_factory=list)
    """Bounds that differ within the Monte-Carlo tolerance."""
    skipped: list[str] = field(default_factory=list)
    """Paths left out, and why (the tool's version, settings the reproduction overrode)."""


def compare_cards(
    card: Mapping[str, Any],
    recomputed: Mapping[str, Any],
    tolerance: Tolerance = EXACT,
    expected: Mapping[str, str] | None = None,
) -> Comparison:
    """Every difference between a submitted card and its recomputation.

    Args:
        card: the submitted card's document (read with `parse_card`).
        recomputed: the recomputed card's document.
        tolerance: how close numbers must be.
        expected: fields (by name, anywhere) expected to differ, with why: the settings a
            reproduction overrode (e.g. {"seed": "recomputed with seed 7"}).
    """
    expected = dict(expected or {})
    differences: list[Difference] = []
    tolerated: list[Difference] = []
    skipped = {"$.tool.version": ""}  # reproduce notes a different version itself
    for difference in _walk("$", card, recomputed, tolerance, expected, skipped):
        (tolerated if difference.detail.startswith("within") else differences).append(difference)
    notes = [f"{path}: {why}" for path, why in skipped.items() if why]
    return Comparison(differences, tolerated, notes)


def _walk(
    path: str,
    card: Any,
    recomputed: Any,
    tolerance: Tolerance,
    expected: dict[str, str],
    skipped: dict[str, str],
    name: str = "",
) -> Iterator[Difference]:
    if path in skipped:
        return
    if name in expected and not isinstance(card, (dict, list)):
        if not _same(card, recomputed):
            skipped.setdefault(f"$..{name}", expected[name])
        return
    if isinstance(card, dict) and isinstance(recomputed, dict):
        yield from _walk_objects(path, card, recomputed, tolerance, expected, skipped)
    elif isinstance(card, list) and isinstance(recomputed, list) and _keyed(card, recomputed):
        yield from _walk_keyed(path, card, recomputed, tolerance, expected, skipped)
    elif _same(card, recomputed):
        return
    else:
        yield Difference(path, card, recomputed)


def _walk_objects(
    path: str,
    card: dict[str, Any],
    recomputed: dict[str, Any],
    tolerance: Tolerance,
    expected: dict[str, str],
    skipped: dict[str, str],
) -> Iterator[Difference]:
    interval = {"ci_low", "ci_high", "mc_error"} <= card.keys() & recomputed.keys()
    for key in list(card) + [k for k in recomputed if k not in card]:
        mine, theirs = card.get(key, ABSENT), recomputed.get(key, ABSENT)
        if interval and tolerance.name == "mc":
            if key == "mc_error":
                continue
            if key in ("ci_low", "ci_high"):
                yield from _bound(path, key, card, recomputed, tolerance)
                continue
        yield from _walk(_member(path, key), mine, theirs, tolerance, expected, skipped, key)


def _bound(
    path: str,
    key: str,
    card: dict[str, Any],
    recomputed: dict[str, Any],
    tolerance: Tolerance,
) -> Iterator[Difference]:
    mine, theirs = card[key], recomputed[key]
    if _same(mine, theirs):
        return
    error = max(math.hypot(_mc(card, key), _mc(recomputed, key)), _lattice(card, recomputed))
    allowed = tolerance.mc_multiple * error
    multiple = abs(mine - theirs) / error if error > 0 else math.inf
    within = abs(mine - theirs) <= allowed
    detail = (
        f"{'within' if within else 'beyond'} {tolerance.mc_multiple:g} x MC error: moved "
        f"{abs(mine - theirs):.3g}, {multiple:.2f} x {error:.3g}"
    )
    yield Difference(_member(path, key), mine, theirs, detail, multiple)


def _lattice(card: dict[str, Any], recomputed: dict[str, Any]) -> float:
    """The largest MC error either card gives a bound of the interval: on discrete data a
    bound that sits on a point of the statistic's lattice reports an MC error of 0, yet
    another seed may move it by one lattice step, which the other errors show."""
    return max(_mc(i, k) for i in (card, recomputed) for k in ("ci_low", "ci_high"))


def _mc(interval: dict[str, Any], key: str) -> float:
    errors = interval.get("mc_error") or {}
    value = errors.get(key, 0.0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def _keyed(card: list[Any], recomputed: list[Any]) -> str:
    """The identity key both lists' objects share, uniquely ('' when there is none)."""
    items = card + recomputed
    if not items or not all(isinstance(i, dict) for i in items):
        return ""
    for key in IDENTITY_KEYS:
        if all(key in i for i in items):
            if all(len({str(i[key]) for i in group}) == len(group) for group in (card, recomputed)):
                return key
    return ""


def _walk_keyed(
    path: str,
    card: list[dict[str, Any]],
    recomputed: list[dict[str, Any]],
    tolerance: Tolerance,
    expected: dict[str, str],
    skipped: dict[str, str],
) -> Iterator[Difference]:
    key = _keyed(card, recomputed)
    mine = {str(i[key]): i for i in card}
    theirs = {str(i[key]): i for i in recomputed}
    if [k for k in mine if k in theirs] != [k for k in theirs if k in mine]:
        yield Difference(path, list(mine), list(theirs), f"the order of the {key}s")
    for identity in list(mine) + [k for k in theirs if k not in mine]:
        yield from _walk(
            f"{path}[{identity!r}]",
            mine.get(identity, ABSENT),
            theirs.get(identity, ABSENT),
            tolerance,
            expected,
            skipped,
        )


def _member(path: str, key: str) -> str:
    return json_path((key,)).replace("$", path, 1)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b) and type(a) is type(b)
