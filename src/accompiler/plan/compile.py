"""Claim -> Plan: the inputs (typed, hashed), the settings and the steps a check will run.

Every input is read through files.py (confined to the spec's folder, a regular file, at
most its kind's cap), so a file that cannot be read is a problem at the spec's line that
names it, before anything runs."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..claim.checks import record_entries, resolve_record_entry
from ..claim.model import WEIGHT_ROLES, Adapter, Claim
from ..diagnostics import DIAGNOSTICS
from ..files import CAPS, InputError, find, read_unhashed, sha256_confined, sha256_hex
from ..problems import Problem
from .model import Plan, PlanInput, PlannedDataSet, PlanStep

_Hasher = Callable[[str, str], tuple[str, int]]
HASH_THREADS = 2
_KINDS = {
    "records": "record file",
    "config": "adapter config",
    "adapter": "adapter file",
    "weights": "weights file",
}


def compile_plan(
    claim: Claim, spec_dir: Path, keep: dict[str, bytes] | None = None
) -> tuple[Plan, list[Problem]]:
    """Hash every input and lay out the steps; diagnostics lacking data are not_evaluable.

    Args:
        claim: the checked claim.
        spec_dir: the folder its paths are relative to.
        keep: if given, the bytes that were hashed are stored here by path, so that a run
            right after reads exactly them (and does not read or hash them twice).

    Returns:
        The plan, and a problem for every input that cannot be read (the plan is then
        incomplete and must not run).
    """
    hashes: dict[str, tuple[str, int]] = {}
    pending: dict[str, tuple[Future[str], int]] = {}

    def hashed(relative: str, kind: str) -> tuple[str, int]:
        if relative not in hashes and relative not in pending:
            cap, what = CAPS[kind], _KINDS[kind]
            if keep is None:
                hashes[relative] = sha256_confined(spec_dir, relative, cap, what)
            else:
                data, _real = read_unhashed(spec_dir, relative, cap, what)
                keep[relative] = data
                pending[relative] = (pool.submit(sha256_hex, data), len(data))
        return hashes.get(relative, ("", 0))

    problems: list[Problem] = []
    # Each file is hashed in a thread while the next is read (hashlib releases the GIL).
    with ThreadPoolExecutor(HASH_THREADS) as pool:
        datasets = _record_inputs(claim, spec_dir, hashed, problems)
        adapters = tuple(_adapter_inputs(claim, spec_dir, hashed, problems))
        hashes.update({path: (f.result(), size) for path, (f, size) in pending.items()})
    datasets = tuple(
        PlannedDataSet(d.data, tuple(_hashed(i, hashes) for i in d.inputs)) for d in datasets
    )
    adapters = tuple(_hashed(i, hashes) for i in adapters)
    return Plan(claim, datasets, adapters, _steps(claim)), problems


def _hashed(item: PlanInput, hashes: dict[str, tuple[str, int]]) -> PlanInput:
    sha256, size = hashes[item.path]
    return replace(item, sha256=sha256, size=size)


def _unreadable(claim: Claim, field: str, path: str, error: InputError) -> Problem:
    return Problem(f"`{path}` {error.summary}", claim.spans.get(field), error.detail, field)


def _record_inputs(
    claim: Claim, spec_dir: Path, hashed: _Hasher, problems: list[Problem]
) -> tuple[PlannedDataSet, ...]:
    """Each data set's entries' exact files (a folder or pattern resolved), in spec order."""
    inputs: dict[str, list[PlanInput]] = {data.key: [] for data in claim.datasets}
    for field, data, keyword, record in record_entries(claim):
        arm = None if keyword == "file" else keyword
        for path in resolve_record_entry(spec_dir, data, keyword, record).paths:
            try:
                sha256, size = hashed(path, "records")
            except InputError as error:
                problems.append(_unreadable(claim, field, path, error))
                continue
            inputs[data.key].append(
                PlanInput("records", path, sha256, size, data.key, arm, record.condition)
            )
    return tuple(PlannedDataSet(data, tuple(inputs[data.key])) for data in claim.datasets)


def _adapter_parts(spec_dir: Path, adapter: Adapter) -> list[tuple[str, str, str]]:
    """(part, path, kind) of the files an adapter entry names."""
    if adapter.role in WEIGHT_ROLES:
        return [("", adapter.path, "weights")]
    try:
        is_dir = find(spec_dir, adapter.path).is_dir
    except InputError:
        is_dir = False
    if not is_dir:
        return [("weights", adapter.path, "adapter")]
    folder = adapter.path.rstrip("/")
    weights = "adapter_model.safetensors"
    try:
        find(spec_dir, f"{folder}/{weights}")
    except InputError as error:
        if "exist" in error.summary:
            weights = "adapter_model.bin"
    return [
        ("config", f"{folder}/adapter_config.json", "config"),
        ("weights", f"{folder}/{weights}", "adapter"),
    ]


def _adapter_inputs(
    claim: Claim, spec_dir: Path, hashed: _Hasher, problems: list[Problem]
) -> list[PlanInput]:
    inputs = []
    for adapter in claim.adapters:
        field = (
            f"claim.adapters.{adapter.role}"
            if adapter.role in WEIGHT_ROLES
            else f"claim.adapters.{adapter.role}.path"
        )
        for part, path, kind in _adapter_parts(spec_dir, adapter):
            try:
                sha256, size = hashed(path, kind)
            except InputError as error:
                problems.append(_unreadable(claim, field, path, error))
                continue
            role_kind = "weights" if adapter.role in WEIGHT_ROLES else "adapter"
            inputs.append(
                PlanInput(role_kind, path, sha256, size, adapter=adapter.role, part=part or None)
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
