"""Claim -> Plan: the inputs (hashed), explicit settings and the steps a check will run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .ir import WEIGHT_ROLES, Claim, DataSet, claim_to_json, settings_json
from .problems import Problem

PLAN_VERSION = "1"
DIAGNOSTIC_NAMES = ("reliability", "fresh_generalization", "mechanism", "transfer")


@dataclass(frozen=True)
class PlanInput:
    """One file a run reads: its role, its path relative to the spec, its sha256 and size."""

    role: str
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class PlanStep:
    name: str
    kind: str
    reads: tuple[str, ...]
    yields: tuple[str, ...]
    status: str = "planned"
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    claim: Claim
    inputs: tuple[PlanInput, ...]
    steps: tuple[PlanStep, ...]

    def input(self, role: str) -> PlanInput:
        return next(i for i in self.inputs if i.role == role)

    def inputs_for(self, prefix: str) -> list[PlanInput]:
        return [
            i
            for i in self.inputs
            if i.role.split("@")[0] == prefix or i.role.startswith(prefix + "/")
        ]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_key(data: DataSet) -> str:
    return data.role if data.role != "transfer" else f"transfer:{data.name}"


def _record_roles(data: DataSet) -> list[tuple[str, str]]:
    """records/<data set>[/<arm>][@<condition>]: what the file holds, as the run reads it."""
    key = dataset_key(data)
    roles = []
    for keyword, files in data.file_groups():
        arm = "" if keyword == "file" else f"/{keyword}"
        for record in files:
            condition = f"@{record.condition}" if record.condition else ""
            roles.append((f"records/{key}{arm}{condition}", record.path))
    return roles


def _adapter_roles(claim: Claim, spec_dir: Path) -> list[tuple[str, str]]:
    roles = []
    for adapter in claim.adapters:
        base = f"adapter/{adapter.role}"
        if adapter.role in WEIGHT_ROLES:
            roles.append((f"weights/{adapter.role}", adapter.path))
        elif (spec_dir / adapter.path).is_dir():
            weights = "adapter_model.safetensors"
            if not (spec_dir / adapter.path / weights).is_file():
                weights = "adapter_model.bin"
            roles.append((f"{base}/config", f"{adapter.path.rstrip('/')}/adapter_config.json"))
            roles.append((f"{base}/weights", f"{adapter.path.rstrip('/')}/{weights}"))
        else:
            roles.append((f"{base}/weights", adapter.path))
    return roles


def compile_plan(
    claim: Claim, spec_dir: Path, keep: dict[str, bytes] | None = None
) -> tuple[Plan, list[Problem]]:
    """Hash every input and lay out the steps; diagnostics lacking data are not_evaluable.

    Args:
        claim: the checked claim.
        spec_dir: the folder its paths are relative to.
        keep: if given, the bytes that were hashed are stored here by path, so that a run
            right after reads exactly them (and does not read or hash them twice).
    """
    datasets = [claim.heldout] + ([claim.fresh] if claim.fresh else []) + list(claim.transfer)
    roles = [r for d in datasets for r in _record_roles(d)] + _adapter_roles(claim, spec_dir)
    inputs = []
    for role, relative in roles:
        path = spec_dir / relative
        if keep is None:
            inputs.append(PlanInput(role, relative, sha256_file(path), path.stat().st_size))
            continue
        data = keep.setdefault(relative, path.read_bytes())
        inputs.append(PlanInput(role, relative, hashlib.sha256(data).hexdigest(), len(data)))
    return Plan(claim, tuple(inputs), tuple(_steps(claim, datasets))), []


def _steps(claim: Claim, datasets: list[DataSet]) -> list[PlanStep]:
    steps = [
        PlanStep(
            f"records.{dataset_key(d)}",
            "load_and_bootstrap",
            tuple(f for _, f in _record_roles(d)),
            ("installed_gap", "delta_gap", "delta_deploy"),
        )
        for d in datasets
    ]
    fresh_reason = "" if claim.fresh else "the claim declares no fresh-subject records"
    adapter_reason = "" if claim.adapters else "the claim declares no adapters"
    transfer_reason = "" if claim.transfer else "the claim declares no transfer target"
    transfer_reads = tuple(f"records.{dataset_key(t)}" for t in claim.transfer)
    steps += [
        _diagnostic("reliability", ("records.heldout",), ("delta_gap", "delta_deploy"), ""),
        _diagnostic(
            "fresh_generalization",
            ("records.heldout", "records.fresh"),
            ("delta_gap_fresh", "retention"),
            fresh_reason,
        ),
        _diagnostic(
            "mechanism",
            tuple(f"adapter.{a.role}" for a in claim.adapters),
            ("alpha_t", "alpha_a", "rho_at", "measured_class"),
            adapter_reason,
        ),
        _diagnostic("transfer", transfer_reads, ("delta_gap per target",), transfer_reason),
    ]
    return steps


def _diagnostic(
    name: str, reads: tuple[str, ...], yields: tuple[str, ...], reason: str
) -> PlanStep:
    status = "not_evaluable" if reason else "planned"
    return PlanStep(name, "diagnostic", reads if not reason else (), yields, status, reason)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    claim = claim_to_json(plan.claim)
    settings = claim.pop("settings")
    return {
        "plan_version": PLAN_VERSION,
        "tool": {"name": "accard", "version": __version__},
        "claim": claim,
        "settings": settings_json(plan.claim.settings)
        | {"bootstrap": bootstrap_settings(settings)},
        "inputs": [vars(i) for i in plan.inputs],
        "steps": [_step_json(s) for s in plan.steps],
    }


def bootstrap_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "resamples": settings["resamples"],
        "confidence": settings["confidence"],
        "seed": settings["seed"],
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


def dumps(document: dict[str, Any]) -> str:
    """Stable JSON: insertion-ordered keys, two-space indent, no NaN, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
