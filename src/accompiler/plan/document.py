"""Plan -> its JSON document (schemas/plan.v1.schema.json), for `accard plan --json`."""

from __future__ import annotations

from typing import Any

from .._version import __version__
from ..claim.model import claim_to_json
from ..claim.settings import Settings, settings_json
from .model import Plan, PlanStep

PLAN_VERSION = "1"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    claim = claim_to_json(plan.claim)
    del claim["settings"]
    return {
        "plan_version": PLAN_VERSION,
        "tool": {"name": "accard", "version": __version__},
        "claim": claim,
        "settings": settings_json(plan.claim.settings)
        | {"bootstrap": bootstrap_settings(plan.claim.settings)},
        "inputs": [i.to_json() for i in plan.inputs],
        "steps": [_step_json(s) for s in plan.steps],
    }


def bootstrap_settings(settings: Settings) -> dict[str, Any]:
    """The bootstrap's settings and its fixed method, as plans and cards record them."""
    return {
        "resamples": settings.resamples,
        "confidence": settings.confidence,
        "seed": settings.seed,
        "method": "percentile",
        "sidedness": "two-sided",
        "cluster": "question_id",
        "paired": True,
        "quantile_method": "linear",
        "rng": "numpy.random.default_rng(seed), one stream per data set",
    }


def _step_json(step: PlanStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "kind": step.kind,
        "reads": list(step.reads),
        "yields": list(step.yields),
        "status": step.status,
        "reason": step.reason,
    }
