"""Claim -> Plan: the inputs (typed, hashed), the settings and the steps a check will run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..claim.checks import resolve_record_entry
from ..claim.model import WEIGHT_ROLES, Claim, DataSet
from ..diagnostics import DIAGNOSTICS
from ..files import read_capped, sha256_file
from ..problems import Problem
from .model import Plan, PlanInput, PlannedDataSet, PlanStep

_Hasher = Callable[[str], tuple[str, int]]


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

    def hashed(relative: str) -> tuple[str, int]:
        if keep is None:
            return sha256_file(spec_dir / relative)
        data = keep.setdefault(relative, read_capped(spec_dir / relative))
        return hashlib.sha256(data).hexdigest(), len(data)

    datasets = tuple(
        PlannedDataSet(data, tuple(_record_inputs(data, spec_dir, hashed)))
        for data in claim.datasets
    )
    adapters = tuple(_adapter_inputs(claim, spec_dir, hashed))
    return Plan(claim, datasets, adapters, _steps(claim)), []


def _record_inputs(data: DataSet, spec_dir: Path, hashed: _Hasher) -> list[PlanInput]:
    """Each entry's exact files (a folder or pattern resolved), in spec order."""
    inputs = []
    for keyword, files in data.file_groups():
        arm = None if keyword == "file" else keyword
        for record in files:
            for path in resolve_record_entry(spec_dir, data, keyword, record).paths:
                sha256, size = hashed(path)
                inputs.append(
                    PlanInput("records", path, sha256, size, data.key, arm, record.condition)
                )
    return inputs


def _adapter_inputs(claim: Claim, spec_dir: Path, hashed: _Hasher) -> list[PlanInput]:
    inputs = []
    for adapter in claim.adapters:
        if adapter.role in WEIGHT_ROLES:
            parts = [("", adapter.path)]
        elif (spec_dir / adapter.path).is_dir():
            folder = adapter.path.rstrip("/")
            weights = "adapter_model.safetensors"
            if not (spec_dir / folder / weights).is_file():
                weights = "adapter_model.bin"
            parts = [
                ("config", f"{folder}/adapter_config.json"),
                ("weights", f"{folder}/{weights}"),
            ]
        else:
            parts = [("weights", adapter.path)]
        for part, path in parts:
            sha256, size = hashed(path)
            kind = "weights" if adapter.role in WEIGHT_ROLES else "adapter"
            inputs.append(
                PlanInput(kind, path, sha256, size, adapter=adapter.role, part=part or None)
            )
    return inputs


def _steps(claim: Claim) -> tuple[PlanStep, ...]:
    loads = [
        PlanStep(
            f"records.{d.key}",
            "load_and_bootstrap",
            tuple(f.path for _, files in d.file_groups() for f in files),  # as written
            ("installed_gap", "delta_gap", "delta_deploy"),
        )
        for d in claim.datasets
    ]
    diagnostics = []
    for diagnostic in DIAGNOSTICS.values():
        reason = diagnostic.unavailable(claim)
        reads = () if reason else diagnostic.reads(claim)
        status = "not_evaluable" if reason else "planned"
        diagnostics.append(
            PlanStep(diagnostic.name, "diagnostic", reads, diagnostic.yields, status, reason)
        )
    return (*loads, *diagnostics)
