"""Cells and their results -> the audit summary (schemas/audit.v1.schema.json): counts on top,
one row per cell read from its card. No computation beyond counting."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any

from .._version import __version__
from ..diagnostics import DIAGNOSTICS
from .cell import COMPUTED
from .model import Audit, Cell

AUDIT_VERSION = "1"
STATUSES = ("pass", "fail", "not_evaluable")


def summarize(
    audit: Audit, results: list[dict[str, Any]], overrides: dict[str, Any]
) -> dict[str, Any]:
    """The summary document: title, settings overrides, counts, one row per cell."""
    files = card_files([c.name for c in audit.cells])
    rows = [_row(c, r, files[c.name]) for c, r in zip(audit.cells, results, strict=True)]
    return {
        "audit_version": AUDIT_VERSION,
        "tool": {"name": "accard", "version": __version__},
        "title": audit.title,
        "overrides": overrides,
        "diagnostics": [
            {"name": d.name, "letter": d.letter, "title": d.title} for d in DIAGNOSTICS.values()
        ],
        "counts": _counts(rows),
        "cells": rows,
        "warnings": _warnings(results),
    }


def card_files(names: list[str]) -> dict[str, str]:
    """Each cell's card file under the output folder: its name made safe, kept unique."""
    files: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        stem = re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("._") or "cell"
        candidate, number = stem, 1
        while candidate.lower() in taken:
            number += 1
            candidate = f"{stem}-{number}"
        taken.add(candidate.lower())
        files[name] = f"cards/{candidate}.card.json"
    return files


def _row(cell: Cell, result: dict[str, Any], card_file: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "cell": cell.name,
        "group": cell.group,
        "params": cell.hyper_parameters,
        "seed": cell.seed,
        "status": result["status"],
        "reused": bool(result.get("reused", False)),
    }
    if result["status"] != COMPUTED:
        return row | _EMPTY | {"problems": result["problems"]}
    card = json.loads(result["card"])
    d = card["diagnostics"]
    mechanism = d["mechanism"]
    return row | {
        "defense": card["claim"]["defense"],
        "mechanism_claimed": card["claim"]["mechanism_claimed"],
        "card": {"file": card_file, "sha256": hashlib.sha256(result["card"].encode()).hexdigest()},
        "diagnostics": {name: d[name]["status"] for name in DIAGNOSTICS if name in d},
        "strict": _verdict(card["verdict"]["strict"]),
        "permissive": _verdict(card["verdict"]["permissive"]),
        "delta_gap": _interval(d["reliability"]["delta_gap"]),
        "delta_deploy": _interval(d["reliability"]["delta_deploy"]),
        "alpha_t": mechanism["alpha_t"],
        "alpha_a": mechanism["alpha_a"],
        "rho_at": mechanism["rho_at"],
        "measured": mechanism["measured"],
        "problems": [],
    }


_EMPTY: dict[str, Any] = {
    "defense": None,
    "mechanism_claimed": None,
    "card": None,
    "diagnostics": None,
    "strict": None,
    "permissive": None,
    "delta_gap": None,
    "delta_deploy": None,
    "alpha_t": None,
    "alpha_a": None,
    "rho_at": None,
    "measured": None,
}


def _verdict(verdict: dict[str, Any]) -> dict[str, Any]:
    return {"pass": verdict["pass"], "passed": verdict["passed"]}


def _interval(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: value[k] for k in ("estimate", "ci_low", "ci_high")}


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    computed = [r for r in rows if r["status"] == COMPUTED]
    by_diagnostic = {
        name: {s: sum(r["diagnostics"].get(name) == s for r in computed) for s in STATUSES}
        for name in DIAGNOSTICS
    }
    fails = {name: counts["fail"] for name, counts in by_diagnostic.items()}
    most = max(fails.values(), default=0)
    return {
        "cells": len(rows),
        "computed": len(computed),
        "failed": len(rows) - len(computed),
        "reused": sum(r["reused"] for r in rows),
        "strict_pass": sum(r["strict"]["pass"] for r in computed),
        "permissive_pass": sum(r["permissive"]["pass"] for r in computed),
        "diagnostics": by_diagnostic,
        "most_failed": [name for name, n in fails.items() if n == most and most > 0],
    }


def _warnings(results: list[dict[str, Any]]) -> list[str]:
    """Settings the figures draw once, when the cells disagree on them."""
    cards = [json.loads(r["card"]) for r in results if r["status"] == COMPUTED]
    levels = Counter(c["settings"]["bootstrap"]["confidence"] for c in cards)
    thresholds = Counter(c["diagnostics"]["mechanism"]["rho_at_threshold"] for c in cards)
    warnings = []
    if len(levels) > 1:
        shown = ", ".join(f"{level:g}" for level in sorted(levels))
        warnings.append(f"the cells' intervals have different confidence levels ({shown})")
    if len(thresholds) > 1:
        shown = ", ".join(f"{t:g}" for t in sorted(thresholds))
        warnings.append(f"the cells use different rho_at thresholds ({shown})")
    return warnings


def figure_settings(cards: list[dict[str, Any]]) -> tuple[float, float]:
    """The confidence level and rho_at threshold the figures draw: the most common ones."""
    levels = Counter(c["settings"]["bootstrap"]["confidence"] for c in cards)
    thresholds = Counter(c["diagnostics"]["mechanism"]["rho_at_threshold"] for c in cards)
    level = levels.most_common(1)[0][0] if levels else 0.95
    threshold = thresholds.most_common(1)[0][0] if thresholds else 0.6
    return float(level), float(threshold)


def flat_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat dict per cell (CSV, pandas): parameters as `param.<name>` columns."""
    names = list(dict.fromkeys(k for row in summary["cells"] for k in row["params"]))
    return [_flat(row, names) for row in summary["cells"]]


def _flat(row: dict[str, Any], names: list[str]) -> dict[str, Any]:
    flat: dict[str, Any] = {
        "cell": row["cell"],
        "group": row["group"],
        "defense": row["defense"],
        "mechanism_claimed": row["mechanism_claimed"],
        "seed": row["seed"],
        **{f"param.{name}": row["params"].get(name) for name in names},
        "status": row["status"],
        "reused": row["reused"],
        **{name: (row["diagnostics"] or {}).get(name) for name in DIAGNOSTICS},
    }
    for kind in ("strict", "permissive"):
        verdict = row[kind]
        flat[kind] = None if verdict is None else verdict["pass"]
        flat[f"{kind}_passed"] = None if verdict is None else verdict["passed"]
    for name in ("delta_gap", "delta_deploy"):
        interval = row[name] or {}
        flat[name] = interval.get("estimate")
        flat[f"{name}_low"], flat[f"{name}_high"] = interval.get("ci_low"), interval.get("ci_high")
    flat |= {k: row[k] for k in ("alpha_t", "alpha_a", "rho_at", "measured")}
    flat["problems"] = "; ".join(p["summary"] for p in row["problems"])
    return flat
