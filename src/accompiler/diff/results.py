"""Card x Card -> the changes of results: statuses and verdicts (pass lost or gained),
intervals (a bound beyond its Monte-Carlo error, any change of an estimate), the other
results, the warnings and the tool."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .rules import Change, change

# Fields of `precondition` and `diagnostics` that are not compared: copies of the claim or
# the settings (compared there), free text explaining a status (the status is compared),
# and per-module or cross-check detail (its totals and its warnings are compared).
_SKIP = frozenset(
    {
        "reason",
        "claimed",
        "tau_fresh",
        "rho_at_threshold",
        "mode",
        "to",
        "because",
        "max_deploy_cost",
        "rule",
        "threshold",
        "coverage",
        "cross_check",
    }
)
_STATUS_KEYS = frozenset({"status", "permissive_status", "pass"})
_BOUNDS = ("ci_low", "ci_high")


def compare_results(
    old: dict[str, Any], new: dict[str, Any], quiet: frozenset[str] = frozenset()
) -> list[Change]:
    """Result changes from card `old` to card `new`. Under a `quiet` path only statuses are
    compared (its data set was added or removed, a change named already)."""
    changes: list[Change] = []
    for section in ("precondition", "diagnostics"):
        _walk(old.get(section), new.get(section), f"$.{section}", changes, quiet)
    for kind in ("strict", "permissive"):
        before, after = old["verdict"][kind]["pass"], new["verdict"][kind]["pass"]
        if before != after:
            rule = "verdict.pass_gained" if after else "verdict.pass_lost"
            changes.append(change(rule, f"$.verdict.{kind}.pass", before, after))
    changes += _warnings(old.get("warnings", []), new.get("warnings", []))
    if old["tool"] != new["tool"]:
        changes.append(change("tool.changed", "$.tool", old["tool"], new["tool"]))
    return changes


def _walk(old: Any, new: Any, path: str, out: list[Change], quiet: frozenset[str]) -> None:
    """Compare two values at `path`; a field or a named entry present on one side only is
    part of a claim change (or of a newer card version) and is not compared here."""
    if _is_interval(old) and _is_interval(new):
        if not _under(path, quiet):
            out.extend(_interval(old, new, path))
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new or key in _SKIP:
                continue
            if _stands_in(old[key], new[key]):
                before, after = _own_status(old, old[key]), _own_status(new, new[key])
                _leaf(before, after, f"{path}.{key}.status", out, quiet)
            else:
                _walk(old[key], new[key], f"{path}.{key}", out, quiet)
    elif _named(old) and _named(new):
        after = {entry["name"]: entry for entry in new}
        for entry in old:
            if entry["name"] in after:
                name = entry["name"]
                _walk(entry, after[name], f"{path}[{name!r}]", out, quiet)
    elif _is_interval(old) or _is_interval(new):
        if not _under(path, quiet):
            detail = "computed on one side only"
            out.append(change("result.changed", path, _brief(old), _brief(new), detail))
    elif not (isinstance(old, (dict, list)) or isinstance(new, (dict, list))) or _flat(old, new):
        _leaf(old, new, path, out, quiet)


def _leaf(old: Any, new: Any, path: str, out: list[Change], quiet: frozenset[str]) -> None:
    if old == new:
        return
    key = path.rpartition(".")[2]
    if key in _STATUS_KEYS:
        out.append(_status(old, new, path))
    elif _under(path, quiet):
        return
    elif _number(old) and _number(new):
        if moved_beyond(old, new, 0.0):
            out.append(change("estimate.moved", path, old, new, f"{new - old:+.4g}"))
    else:
        out.append(change("result.changed", path, old, new))


def _stands_in(old: Any, new: Any) -> bool:
    """A part with its own status on one side only (a relabel's): on the side without it,
    its section's own status is the status it stands in for."""
    return (old is None) != (new is None) and any(
        isinstance(v, dict) and "status" in v for v in (old, new)
    )


def _own_status(section: dict[str, Any], part: Any) -> Any:
    return part["status"] if isinstance(part, dict) else section.get("status")


def _status(old: Any, new: Any, path: str) -> Change:
    """A status or a gate's pass: pass lost, pass gained, or a change between the others."""
    passed_before, passed_after = old in ("pass", True), new in ("pass", True)
    if passed_before == passed_after:
        return change("status.changed", path, old, new)
    return change("status.pass_gained" if passed_after else "status.pass_lost", path, old, new)


def _interval(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Change]:
    """The estimate: any change (it has no Monte-Carlo error). A bound: a move beyond the
    larger of the two cards' Monte-Carlo errors of that bound."""
    changes = []
    if moved_beyond(old["estimate"], new["estimate"], 0.0):
        shift = new["estimate"] - old["estimate"]
        path_to = f"{path}.estimate"
        changes.append(
            change("estimate.moved", path_to, old["estimate"], new["estimate"], f"{shift:+.4g}")
        )
    for bound in _BOUNDS:
        tolerance = max(_mc_error(old, bound), _mc_error(new, bound))
        if moved_beyond(old[bound], new[bound], tolerance):
            shift = new[bound] - old[bound]
            detail = f"{shift:+.4g}; Monte-Carlo error {tolerance:.4g}"
            changes.append(change("bound.moved", f"{path}.{bound}", old[bound], new[bound], detail))
    return changes


def _brief(interval: Any) -> Any:
    """An interval as its estimate and bounds (the rest restates the settings)."""
    if not _is_interval(interval):
        return interval
    return {key: interval[key] for key in ("estimate", *_BOUNDS)}


def _mc_error(interval: dict[str, Any], bound: str) -> float:
    errors = interval.get("mc_error")
    value = errors.get(bound) if isinstance(errors, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def moved_beyond(before: float, after: float, tolerance: float) -> bool:
    """Whether a number moved by more than `tolerance`; a slack far above the card's
    12-significant-digit rounding keeps a move of exactly the tolerance from counting."""
    slack = 1e-9 * max(abs(before), abs(after)) + 1e-12
    return abs(after - before) > tolerance + slack


def _warnings(old: list[str], new: list[str]) -> list[Change]:
    """Warnings gone from `old` (removed) and new in `new` (added), in document order."""
    gone, came = Counter(old) - Counter(new), Counter(new) - Counter(old)
    changes = []
    for text in old:
        if gone[text] > 0:
            gone[text] -= 1
            changes.append(change("warning.removed", "$.warnings", text, None))
    for text in new:
        if came[text] > 0:
            came[text] -= 1
            changes.append(change("warning.added", "$.warnings", None, text))
    return changes


def _is_interval(value: Any) -> bool:
    return isinstance(value, dict) and {"estimate", *_BOUNDS} <= value.keys()


def _named(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


def _flat(old: Any, new: Any) -> bool:
    """Lists of plain values (subjects): compared whole. Lists of unnamed entries (per-module
    detail) and sections present on one side only are not."""
    return all(
        isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v) for v in (old, new)
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _under(path: str, quiet: frozenset[str]) -> bool:
    return any(path == q or path.startswith((f"{q}.", f"{q}[")) for q in quiet)
