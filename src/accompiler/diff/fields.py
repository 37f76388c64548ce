"""Card x Card -> every differing field, unclassified: what `accard reproduce` lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Fields that restate an interval's settings or detail the computation; the settings and
# the headline numbers already carry the change.
_SKIP = {
    "mc_error",
    "cross_check",
    "level",
    "sidedness",
    "method",
    "per_module",
    "coverage",
    "reason",
    "datasets",
    "warnings",
    "tool",
    "inputs",
    "resamples",
    "seed",
    "clusters",
    "name",
}


@dataclass(frozen=True)
class Change:
    """One field that differs: its JSON path and both values (None when absent)."""

    path: str
    old: Any
    new: Any

    @property
    def shift(self) -> float | None:
        numbers = (int, float)
        if isinstance(self.old, numbers) and isinstance(self.new, numbers):
            if not isinstance(self.old, bool) and not isinstance(self.new, bool):
                return float(self.new) - float(self.old)
        return None


def _flatten(value: Any, path: str, out: dict[str, Any], top: bool = False) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if key in _SKIP and not (top and key == "settings"):
                continue
            _flatten(child, f"{path}.{key}", out)
    elif (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and "name" in v for v in value)
    ):
        for child in value:
            _flatten(child, f"{path}[{child['name']!r}]", out)
    else:
        out[path] = value


def _settings(card: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    boot = card["settings"]["bootstrap"]
    for key in ("resamples", "confidence", "seed"):
        out[f"$.settings.bootstrap.{key}"] = boot[key]
    for key, value in card["settings"]["thresholds"].items():
        out[f"$.settings.thresholds.{key}"] = value
    return out


def _inputs(card: dict[str, Any]) -> dict[str, Any]:
    return {f"$.inputs[{i['role']!r}]": f"{i['path']} ({i['sha256'][:12]})" for i in card["inputs"]}


def diff_cards(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every headline change from `old` to `new`, in card order (settings and inputs first)."""
    flat_old, flat_new = _settings(old) | _inputs(old), _settings(new) | _inputs(new)
    _flatten(old, "$", flat_old, top=True)
    _flatten(new, "$", flat_new, top=True)
    return [
        Change(p, flat_old.get(p), flat_new.get(p))
        for p in _merged_order(flat_old, flat_new)
        if flat_old.get(p) != flat_new.get(p)
    ]


def _merged_order(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """New's order, each path only in old placed right after its predecessor in old."""
    rank = {path: float(i) for i, path in enumerate(new)}
    previous = -1.0
    for path in old:
        if path in rank:
            previous = rank[path]
        else:
            previous += 1e-6
            rank[path] = previous
    return sorted(rank, key=rank.__getitem__)


def render_changes(changes: list[Change], old_name: str, new_name: str) -> str:
    if not changes:
        return f"no differences between {old_name} and {new_name}"
    lines = [f"--- {old_name}", f"+++ {new_name}"]
    width = max(len(c.path) for c in changes)
    for change in changes:
        shift = change.shift
        suffix = f"   ({shift:+.4g})" if shift is not None else ""
        lines.append(f"{change.path:<{width}}  {_show(change.old)} -> {_show(change.new)}{suffix}")
    return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
