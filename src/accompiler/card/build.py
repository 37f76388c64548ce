"""Plan, data-set results and diagnostic sections -> the card document.

Field order follows PROTOCOL and is part of the format: reordering means a new version.
"""

from __future__ import annotations

from typing import Any

from .._version import __version__
from ..canonical import round_numbers
from ..claim.settings import card_group
from ..diagnostics.context import DataSetResult, interval_json
from ..plan import Plan, bootstrap_settings
from ..stats.energy import ZERO_ENERGY
from ..stats.intervals import CELL_NAMES, CONTRASTS
from .document import CARD_VERSION, Card
from .verdict import verdicts
from .warnings import card_warnings


def build_card(
    plan: Plan, results: dict[str, DataSetResult], diagnostics: dict[str, dict[str, Any]]
) -> Card:
    """The card: every number rounded to 12 significant digits, no timestamps."""
    settings = plan.claim.settings
    heldout = results["heldout"]
    card = {
        "card_version": CARD_VERSION,
        "tool": {"name": "accard", "version": __version__},
        "claim": _claim(plan),
        "inputs": [i.to_json() for i in plan.inputs],
        "settings": {
            "bootstrap": bootstrap_settings(settings),
            "thresholds": card_group(settings, "thresholds"),
            "cross_check": {
                "method": "cluster-robust linearisation (Miller 2024), CR1 factor "
                "G/(G-1), t interval with G-1 df",
                "gate": "bootstrap",
            },
            **card_group(settings, ""),
            "mechanism": {
                **card_group(settings, "mechanism"),
                "rank_rule": "singular values of the reference update above rtol * S.max() "
                "count; default rtol = max(max(out, in) * eps64, "
                "2 * sqrt(r) * eps of the stored dtype, 1e-7)",
                "zero_energy": ZERO_ENERGY,
                "arithmetic": "float64",
            },
        },
        "precondition": _precondition(heldout),
        "diagnostics": diagnostics,
        "verdict": verdicts(diagnostics),
        "datasets": [_dataset(r) for r in results.values()],
        "warnings": [],
    }
    card = round_numbers(card)
    card["warnings"] = card_warnings(card)
    return Card(card)


def _claim(plan: Plan) -> dict[str, Any]:
    claim = plan.claim
    relabel = claim.defense.relabel
    return {
        "title": claim.title,
        "defense": claim.defense.name,
        "model": claim.model,
        "mechanism_claimed": claim.defense.mechanism,
        "relabel": {"to": relabel.to, "because": relabel.because} if relabel else None,
        "records_format": claim.records.format,
    }


def _precondition(heldout: DataSetResult) -> dict[str, Any]:
    if heldout.boot is None:
        return {"installed_gap": None, "installed": False, "reason": heldout.reason}
    return {
        "installed_gap": interval_json(heldout, "installed_gap"),
        "installed": heldout.installed,
        "reason": "" if heldout.installed else heldout.not_installed_reason(),
    }


def _dataset(result: DataSetResult) -> dict[str, Any]:
    """A data set's size, cell accuracies and every interval computed on it (card 1.1)."""
    entry: dict[str, Any] = {
        "key": result.key,
        "name": result.name,
        "records_format": result.records_format,
        "subjects": sorted(result.subjects),
    }
    if result.boot is None:
        empty = dict.fromkeys(("clusters", "items", "accuracy", "intervals"))
        return entry | empty | {"accuracy_intervals": None, "reason": result.reason}
    accuracy: dict[str, dict[str, float]] = {}
    accuracy_intervals: dict[str, dict[str, Any]] = {}
    for name, (arm, condition) in CELL_NAMES.items():
        accuracy.setdefault(arm, {})[condition] = result.interval(name).estimate
        accuracy_intervals.setdefault(arm, {})[condition] = interval_json(result, name)
    return entry | {
        "clusters": result.boot.clusters,
        "items": result.boot.items,
        "accuracy": accuracy,
        "intervals": {name: interval_json(result, name) for name in CONTRASTS},
        "accuracy_intervals": accuracy_intervals,
        "reason": "",
    }
