"""A card against itself: every status, verdict, count, retention, class and warning
re-derived from the card's own numbers, thresholds and precondition, by the rules the run
applies (the registry's `implied`, card/verdict.py, card/warnings.py). Every disagreement is
a problem naming its JSON path, the value found and the value the card implies."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..canonical import round_numbers
from ..diagnostics import DIAGNOSTICS
from ..diagnostics.context import installed
from ..diagnostics.registry import Implied, JsonPath, recorded
from ..problems import Problem
from ..span import Span
from ..stats.intervals import CELL_NAMES, CONTRASTS
from .locate import locate
from .verdict import verdicts
from .warnings import card_warnings

REL_TOL, ABS_TOL = 1e-9, 1e-12
"""Numbers re-derived from 12-significant-digit values agree to about 1e-12."""
CONTRAST_TOL = 1e-9
"""A contrast of four rounded accuracies against its own rounded estimate."""


@dataclass(frozen=True)
class Inconsistency:
    """A value of a card that disagrees with what the card's other values imply."""

    path: JsonPath
    found: Any
    implied: Any
    rule: str
    described: bool = False
    """`implied` is a description (e.g. "a value in [a, b]"), not a value."""

    def problem(self, display: str, where: tuple[int, int] | None) -> Problem:
        implied = self.implied if self.described else _show(self.implied)
        summary = (
            f"inconsistent card: {json_path(self.path)} is {_show(self.found)}, "
            f"but the card's own values imply {implied}"
        )
        span = Span(display, *where) if where else Span(display, 0)
        return Problem(summary, span, self.rule, json_path(self.path))


def consistency_problems(
    card: Mapping[str, Any], display: str, text: str | None = None, exact_warnings: bool = True
) -> list[Problem]:
    """Every inconsistency of a schema-valid card, located in `text` when it is given.

    Args:
        card: the card document (migrated to the current version).
        display: how problems name the card's file.
        text: the card's JSON text, to give each problem its line.
        exact_warnings: the card must hold exactly the warnings its values imply (a card
            migrated from an older version, or from a newer one, need only hold those).
    """
    found = list(inconsistencies(card, exact_warnings))
    where = locate(text, [f.path for f in found]) if text is not None and found else {}
    return [f.problem(display, where.get(f.path)) for f in found]


def inconsistencies(
    card: Mapping[str, Any], exact_warnings: bool = True
) -> Iterator[Inconsistency]:
    working = copy.deepcopy(dict(card))
    yield from _datasets(card)
    yield from _intervals(card)
    yield from _apply(card, working, ("precondition",), _precondition(working))
    for name, entry in DIAGNOSTICS.items():
        section = working["diagnostics"].get(name)
        if section is None:
            continue
        try:
            implied = entry.implied(section, working)
        except (ArithmeticError, ValueError, TypeError, KeyError, IndexError) as error:
            rule = f"its values cannot be re-derived ({type(error).__name__}: {error})"
            yield Inconsistency(("diagnostics", name), "this section", "", rule, True)
            continue
        yield from _apply(card, working, ("diagnostics", name), implied)
    if set(working["diagnostics"]) <= set(DIAGNOSTICS):  # a newer card's own: not ours
        implied_verdict = verdicts(working["diagnostics"])
        yield from _compare(("verdict",), card["verdict"], implied_verdict, VERDICT_RULE)
    yield from _warnings(card, working, exact_warnings)


VERDICT_RULE = (
    "a verdict passes iff every diagnostic passes under its coding; `passed` counts them, "
    "`failed` and `not_evaluable` name the others (strict: the authors' class, every "
    "transfer target; permissive: the relabel, any target)"
)


def _precondition(working: dict[str, Any]) -> list[Implied]:
    numbers = recorded(working, "heldout", "installed_gap")
    gap = numbers.get("installed_gap", working["precondition"]["installed_gap"])
    return [
        *(Implied((n,), v, "the held-out data set's interval") for n, v in numbers.items()),
        Implied(("installed",), installed(gap), "installed iff the gap's lower bound is above 0"),
    ]


def _apply(
    card: Mapping[str, Any], working: dict[str, Any], base: JsonPath, implied: list[Implied]
) -> Iterator[Inconsistency]:
    """Compare each implied value with the card's, then put it in `working`, so what is
    derived later reads values as their own numbers imply them."""
    for item in implied:
        path = (*base, *item.path)
        found = _get(card, path)
        if item.project:
            if isinstance(found, list) and all(isinstance(f, dict) for f in found):
                found = [f.get(item.project) for f in found]
            yield from _compare(path, found, item.value, item.rule)
            continue
        yield from _compare(path, found, item.value, item.rule)
        _set(working, path, copy.deepcopy(item.value))


def _compare(path: JsonPath, found: Any, implied: Any, rule: str) -> Iterator[Inconsistency]:
    """Each leaf where `found` and `implied` differ (numbers within REL_TOL)."""
    if isinstance(found, dict) and isinstance(implied, dict) and found.keys() == implied.keys():
        for key in implied:
            yield from _compare((*path, key), found[key], implied[key], rule)
    elif (
        isinstance(found, list)
        and isinstance(implied, list)
        and len(found) == len(implied)
        and any(isinstance(v, (dict, list)) for v in implied)
    ):
        for index, (f, i) in enumerate(zip(found, implied, strict=True)):
            yield from _compare((*path, index), f, i, rule)
    elif not _same(found, implied):
        yield Inconsistency(path, found, implied, rule)


def _same(found: Any, implied: Any) -> bool:
    numbers = (int, float)
    if isinstance(found, bool) or isinstance(implied, bool):
        return found is implied
    if isinstance(found, numbers) and isinstance(implied, numbers):
        return math.isclose(found, implied, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(found == implied)


def _get(document: Any, path: JsonPath) -> Any:
    for key in path:
        if isinstance(document, dict) and isinstance(key, str) and key in document:
            document = document[key]
        elif isinstance(document, list) and isinstance(key, int) and 0 <= key < len(document):
            document = document[key]
        else:
            return None
    return document


def _set(document: Any, path: JsonPath, value: Any) -> None:
    parent = _get(document, path[:-1])
    key = path[-1]
    if isinstance(parent, dict) and isinstance(key, str):
        parent[key] = value
    elif isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
        parent[key] = value


def _datasets(card: Mapping[str, Any]) -> Iterator[Inconsistency]:
    """Each data set: a key of its own, accuracies as their intervals' estimates, each
    contrast's estimate as the contrast of the four accuracies."""
    seen: set[str] = set()
    for index, data in enumerate(card["datasets"]):
        base: JsonPath = ("datasets", index)
        if data["key"] in seen:
            yield Inconsistency(
                (*base, "key"), data["key"], "a key no other data set has", "", True
            )
        seen.add(data["key"])
        accuracy, cells = data["accuracy"], data.get("accuracy_intervals")
        if accuracy is None:
            continue
        if cells is not None:
            for arm, by_condition in cells.items():
                for condition, interval in by_condition.items():
                    yield from _compare(
                        (*base, "accuracy", arm, condition),
                        _get(accuracy, (arm, condition)),
                        interval["estimate"],
                        "a cell's accuracy is its interval's estimate",
                    )
        yield from _contrasts(base, accuracy, data.get("intervals"))


def _contrasts(
    base: JsonPath, accuracy: dict[str, Any], intervals: dict[str, Any] | None
) -> Iterator[Inconsistency]:
    if intervals is None:
        return
    values = [_get(accuracy, cell) for cell in CELL_NAMES.values()]
    if not all(isinstance(v, (int, float)) for v in values):
        return
    for name, coefficients in CONTRASTS.items():
        implied = sum(c * v for c, v in zip(coefficients, values, strict=True))
        found = intervals[name]["estimate"]
        if not math.isclose(found, implied, rel_tol=0, abs_tol=CONTRAST_TOL):
            yield Inconsistency(
                (*base, "intervals", name, "estimate"),
                found,
                implied,
                f"{name} is {_formula(coefficients)} of the data set's accuracies",
            )


def _formula(coefficients: tuple[float, ...]) -> str:
    terms = []
    for coefficient, (arm, condition) in zip(coefficients, CELL_NAMES.values(), strict=True):
        if coefficient:
            sign = "+" if coefficient > 0 else "-"
            terms.append(f"{sign} acc[{arm},{condition}]")
    return " ".join(terms).removeprefix("+ ")


def _intervals(card: Mapping[str, Any]) -> Iterator[Inconsistency]:
    """Every interval: its level, B, seed, sidedness and method those of
    `settings.bootstrap`, its estimate inside it, df = clusters - 1, the sign-disagreement
    flag as its bounds say, and (in a data set) the data set's clusters."""
    intervals = list(_every_interval(card, ()))
    yield from _bootstrap_settings(card["settings"]["bootstrap"], intervals)
    clusters = {i: d["clusters"] for i, d in enumerate(card["datasets"])}
    for path, interval in intervals:
        index = path[1] if path[0] == "datasets" else None
        if isinstance(index, int) and clusters.get(index) is not None:
            yield from _compare(
                (*path, "clusters"), interval["clusters"], clusters[index], CLUSTERS_RULE
            )
        low, estimate, high = interval["ci_low"], interval["estimate"], interval["ci_high"]
        if not low <= estimate <= high:
            yield Inconsistency(
                (*path, "estimate"),
                estimate,
                f"a value in [{_show(low)}, {_show(high)}]",
                ESTIMATE_RULE,
                True,
            )
        yield from _cross_check(path, interval)


CLUSTERS_RULE = "an interval resamples its data set's clusters"
_RECORDED = {
    "level": "confidence",
    "resamples": "resamples",
    "seed": "seed",
    "sidedness": "sidedness",
    "method": "method",
}


def _bootstrap_settings(
    boot: dict[str, Any], intervals: list[tuple[JsonPath, dict[str, Any]]]
) -> Iterator[Inconsistency]:
    """Each interval records the bootstrap settings. When every interval agrees on a value
    the settings lack, the settings are what is wrong (one problem, not one per interval)."""
    for key, setting in _RECORDED.items():
        expected = boot[setting]
        wrong = [(path, i[key]) for path, i in intervals if not _same(i[key], expected)]
        if not wrong:
            continue
        values = {json.dumps(v) for _, v in wrong}
        rule = f"every interval records settings.bootstrap.{setting} as its `{key}`"
        if len(wrong) == len(intervals) and len(values) == 1:
            first = json_path(wrong[0][0])
            implied = (
                f"{_show(wrong[0][1])}, which all {len(wrong)} intervals record (e.g. {first})"
            )
            yield Inconsistency(("settings", "bootstrap", setting), expected, implied, rule, True)
            continue
        for path, value in wrong:
            yield Inconsistency((*path, key), value, expected, rule)


ESTIMATE_RULE = "the point estimate lies inside its own interval"


def _cross_check(path: JsonPath, interval: dict[str, Any]) -> Iterator[Inconsistency]:
    check = interval["cross_check"]
    yield from _compare(
        (*path, "cross_check", "df"), check["df"], interval["clusters"] - 1, "df = clusters - 1"
    )
    disagree = (interval["ci_high"] < 0) != (check["t_high"] < 0)
    yield from _compare(
        (*path, "cross_check", "sign_disagreement"),
        check["sign_disagreement"],
        disagree,
        "the bootstrap and t upper bounds fall on different sides of 0",
    )


def _every_interval(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    if isinstance(value, dict):
        if {"estimate", "ci_low", "ci_high", "cross_check"} <= value.keys():
            yield path, value
            return
        for key, child in value.items():
            yield from _every_interval(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _every_interval(child, (*path, index))


def _warnings(
    card: Mapping[str, Any], working: dict[str, Any], exact: bool
) -> Iterator[Inconsistency]:
    implied, found = card_warnings(working), list(card["warnings"])
    for warning in implied:
        if warning not in found:
            yield Inconsistency(("warnings",), found, f"a warning {warning!r}", WARNING_RULE, True)
    if exact:
        for index, warning in enumerate(found):
            if warning not in implied:
                yield Inconsistency(
                    ("warnings", index), warning, "no such warning", WARNING_RULE, True
                )


WARNING_RULE = (
    "the warnings follow from the card: data sets with fewer than min_clusters clusters, "
    "bootstrap and t intervals disagreeing on a sign, each diagnostic's own, inputs reused"
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def json_path(path: JsonPath) -> str:
    """`$.a.b[0]` (and `$['odd key']`), as jsonschema names paths."""
    parts = ["$"]
    for key in path:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif _IDENTIFIER.match(key):
            parts.append(f".{key}")
        else:
            parts.append(f"[{json.dumps(key)[1:-1]!r}]")
    return "".join(parts)


def _show(value: Any) -> str:
    text = json.dumps(round_numbers(value), ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."
