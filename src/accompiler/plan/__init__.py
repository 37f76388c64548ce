"""Stage 3, Claim -> Plan: every input typed and hashed, the settings explicit, and the
steps a check will run, with what cannot be evaluated and why (`accard plan`)."""

from __future__ import annotations

from .compile import compile_plan
from .document import PLAN_VERSION, bootstrap_settings, plan_to_json
from .model import Plan, PlanInput, PlannedDataSet, PlanStep

__all__ = [
    "PLAN_VERSION",
    "Plan",
    "PlanInput",
    "PlanStep",
    "PlannedDataSet",
    "bootstrap_settings",
    "compile_plan",
    "plan_to_json",
]
