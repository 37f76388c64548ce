"""Diagnostics -> the card: a versioned, ordered, deterministic JSON record.

Field order follows PROTOCOL and is part of the format: reordering means a new version.
Floats are rounded to 12 significant digits so the bytes do not depend on the last ulp
of a platform's BLAS; there are no timestamps.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from . import __version__
from .diagnostics.context import DataSetResult, interval_json
from .plan import DIAGNOSTIC_NAMES, Plan, bootstrap_settings
from .stats.bootstrap import CELLS
from .stats.signature import ZERO_ENERGY

CARD_VERSION = "1"
SIGNIFICANT_DIGITS = 12


def build_card(
    plan: Plan, results: dict[str, DataSetResult], diagnostics: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    settings = plan.claim.settings
    heldout = results["heldout"]
    card = {
        "card_version": CARD_VERSION,
        "tool": {"name": "accard", "version": __version__},
        "claim": _claim(plan),
        "inputs": [vars(i) for i in plan.inputs],
        "settings": {
            "bootstrap": bootstrap_settings(vars(settings)),
            "thresholds": {
                "rho_at": settings.rho_at,
                "tau_fresh": settings.tau_fresh,
                "safelora_threshold": settings.safelora_threshold,
                "max_deploy_cost": settings.max_deploy_cost,
            },
            "cross_check": {
                "method": "cluster-robust linearisation (Miller 2024), CR1 factor "
                "G/(G-1), t interval with G-1 df",
                "gate": "bootstrap",
            },
            "min_clusters": settings.min_clusters,
            "mechanism": {
                "rank_rtol": settings.rank_rtol,
                "rank_rule": "singular values of the reference update above rtol * S.max() "
                "count; default rtol = max(max(out, in) * eps64, "
                "2 * sqrt(r) * eps of the stored dtype, 1e-7)",
                "zero_energy": ZERO_ENERGY,
                "arithmetic": "float64",
            },
        },
        "precondition": _precondition(heldout),
        "diagnostics": diagnostics,
        "verdict": {
            "strict": _verdict(diagnostics, permissive=False),
            "permissive": _verdict(diagnostics, permissive=True),
        },
        "datasets": [_dataset(r) for r in results.values()],
        "warnings": _warnings(plan, results, diagnostics, settings.min_clusters),
    }
    normalised: dict[str, Any] = normalise_numbers(card)
    return normalised


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


def _status(name: str, section: dict[str, Any], permissive: bool) -> str:
    if permissive and name == "mechanism" and section.get("relabel"):
        return str(section["relabel"]["status"])
    if permissive and name == "transfer":
        return str(section["permissive_status"])
    return str(section["status"])


def _verdict(diagnostics: dict[str, dict[str, Any]], permissive: bool) -> dict[str, Any]:
    statuses = {n: _status(n, diagnostics[n], permissive) for n in DIAGNOSTIC_NAMES}
    passed = sum(s == "pass" for s in statuses.values())
    return {
        "pass": passed == len(DIAGNOSTIC_NAMES),
        "passed": passed,
        "failed": [n for n, s in statuses.items() if s == "fail"],
        "not_evaluable": [n for n, s in statuses.items() if s == "not_evaluable"],
    }


def _dataset(result: DataSetResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": result.key,
        "name": result.name,
        "subjects": sorted(result.subjects),
    }
    if result.boot is None:
        return entry | {"clusters": None, "items": None, "accuracy": None, "reason": result.reason}
    accuracy: dict[str, dict[str, float]] = {}
    for (arm, condition), value in zip(CELLS, result.boot.accuracies, strict=True):
        accuracy.setdefault(arm, {})[condition] = value
    return entry | {
        "clusters": result.boot.clusters,
        "items": result.boot.items,
        "accuracy": accuracy,
        "reason": "",
    }


def _warnings(
    plan: Plan,
    results: dict[str, DataSetResult],
    diagnostics: dict[str, dict[str, Any]],
    min_clusters: int,
) -> list[str]:
    warnings = []
    for result in results.values():
        if result.boot is not None and result.boot.clusters < min_clusters:
            warnings.append(
                f"`{result.name}` has {result.boot.clusters} question clusters "
                f"(fewer than {min_clusters}): its intervals are unreliable"
            )
        if result.boot is None:
            continue
        for name, interval in result.boot.intervals.items():
            if interval.sign_disagreement:
                warnings.append(
                    f"`{result.name}`: the bootstrap and t intervals of {name} "
                    "disagree on the sign of the upper bound"
                )
    coverage = diagnostics["mechanism"].get("coverage") or {}
    if coverage.get("not_in_reference"):
        warnings.append(
            f"the reference adapter does not cover {len(coverage['not_in_reference'])}"
            " adapted module(s); the signature sums over the covered ones"
        )
    return warnings + _reused_inputs(plan)


def _reused_inputs(plan: Plan) -> list[str]:
    """The same bytes read in two roles (a held-out file passed off as fresh, say)."""
    roles_by_hash: dict[str, list[str]] = {}
    for item in plan.inputs:
        if not item.role.endswith("/config"):
            roles_by_hash.setdefault(item.sha256, []).append(item.role)
    return [
        f"the same file content is read as {' and '.join(roles)}"
        for roles in roles_by_hash.values()
        if len(roles) > 1
    ]


def normalise_numbers(value: Any) -> Any:
    """Round floats to 12 significant digits; NaN/inf must never reach a card."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a non-finite number reached the card")
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") + 0.0
    if isinstance(value, dict):
        return {k: normalise_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_numbers(v) for v in value]
    return value


def dumps(card: dict[str, Any]) -> str:
    return json.dumps(card, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def validation_errors(card: Any) -> list[str]:
    """Every schema violation of a card, most relevant first, each with its JSON path."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import relevance

    from ._resources import load_schema

    validator = Draft202012Validator(load_schema("card.v1"))
    errors = sorted(validator.iter_errors(card), key=relevance)
    return [f"{e.json_path}: {e.message}" for e in map(_deepest, errors)]


def _deepest(error: Any) -> Any:
    """An anyOf (value-or-null) failure says little; the sub-error that reaches deepest into
    the card names the field that is wrong."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def write_card(card: dict[str, Any], path: Path) -> None:
    """Validate, then write atomically (temporary file in the same folder, then rename)."""
    errors = validation_errors(card)
    if errors:
        raise ValueError("the card does not match its schema: " + "; ".join(errors[:3]))
    temporary = path.with_name(f".{path.name}.accard-tmp")
    temporary.write_text(dumps(card), encoding="utf-8")
    temporary.replace(path)
