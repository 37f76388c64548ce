"""Semantic checks of a Claim against its folder: confined, existing, readable paths."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..files import Found, InputError, find
from ..problems import Problem
from ..records.formats import FORMATS
from ..span import Span
from .model import WEIGHT_ROLES, Claim, DataSet, RecordFile
from .paths import Resolved, confined_path, path_fault, path_help, resolve_records, shown


def check_claim(claim: Claim, spec_dir: Path) -> list[Problem]:
    """Every problem with the files a claim names: confinement, existence, kind."""
    problems: list[Problem] = []
    for field, data, keyword, record in record_entries(claim):
        resolved = resolve_record_entry(spec_dir, data, keyword, record)
        if resolved.why:
            summary = f"path `{shown(record.path)}` {resolved.why}"
            detail = resolved.detail or _help(resolved.why)
            problems.append(Problem(summary, claim.spans.get(field), detail, field))
    for adapter in claim.adapters:
        field = f"claim.adapters.{adapter.role}" + ("" if adapter.role in WEIGHT_ROLES else ".path")
        span = claim.spans.get(field)
        found, why = confined_path(spec_dir, adapter.path)
        if found is None:
            summary = f"path `{shown(adapter.path)}` {why}"
            problems.append(Problem(summary, span, _help(why, adapter.path), field))
            continue
        problems += _kind_problems(claim, spec_dir, found, adapter.path, span, field)
    if claim.defense.relabel and claim.defense.relabel.to == claim.defense.mechanism:
        problems.append(
            Problem(
                "the relabel names the class already claimed",
                claim.spans.get("claim.defense.relabel"),
                "a permissive relabel recodes the claim to the other class",
                severity="warning",
            )
        )
    return problems


def resolve_record_entry(
    spec_dir: Path, data: DataSet, keyword: str, record: RecordFile
) -> Resolved:
    """The exact files one `file`/`undefended`/`defended` entry of a data set names."""
    return resolve_records(
        spec_dir,
        record.path,
        FORMATS[data.records.format],
        arm=keyword != "file",
        condition=record.condition is not None,
    )


def _help(why: str, path: str = "") -> str:
    if path_fault(path):
        return path_help(why)
    if "exist" in why:
        return "check the spelling; paths are relative to the folder that holds the spec"
    return "keep every input inside the folder that holds the spec"


def record_entries(claim: Claim) -> list[tuple[str, DataSet, str, RecordFile]]:
    """(field path, data set, keyword, entry) of every record entry, in spec order."""
    entries = []
    for prefix, data in zip(_dataset_fields(claim), claim.datasets, strict=True):
        for keyword, values in data.file_groups():
            entries += [
                (f"{prefix}.{keyword}[{i}]", data, keyword, v) for i, v in enumerate(values)
            ]
    return entries


def _dataset_fields(claim: Claim) -> list[str]:
    """Where each of `claim.datasets` sits in the spec, as a field path."""
    fresh = ["claim.fresh"] if claim.fresh else []
    return ["claim.heldout", *fresh, *(f"claim.transfer[{i}]" for i in range(len(claim.transfer)))]


def _kind_problems(
    claim: Claim, spec_dir: Path, found: Found, relative: str, span: Span | None, field: str
) -> list[Problem]:
    """Is the file what its keyword says: full weights, or an adapter?"""
    role = field.split(".")[2]
    adapter = claim.adapter(role)
    scale = adapter.scale if adapter is not None else None
    why, detail = (
        _weights_fault(found, relative, role)
        if role in WEIGHT_ROLES
        else _adapter_fault(spec_dir, found, relative, role, scale)
    )
    return [Problem(f"`{relative}` {why}", span, detail, field)] if why else []


def _weights_fault(found: Found, relative: str, role: str) -> tuple[str, str]:
    if found.is_file and PurePosixPath(relative).suffix == ".safetensors":
        return "", ""
    return (
        "is not a .safetensors weights file",
        f"`{role}` names the {role} model's weights (one .safetensors file)",
    )


def _inside_file(spec_dir: Path, folder: Found, name: str) -> bool:
    """Is `name` in the (resolved) adapter folder a regular file inside the spec's folder?
    A symlink that leaves it, or loops, is reported when the file is read."""
    try:
        return find(spec_dir, f"{folder.real}/{name}").is_file
    except InputError as error:
        return "exist" not in error.summary


def _adapter_fault(
    spec_dir: Path, found: Found, relative: str, role: str, scale: float | None
) -> tuple[str, str]:
    if found.is_dir:
        names = ("adapter_model.safetensors", "adapter_model.bin")
        has_weights = any(_inside_file(spec_dir, found, n) for n in names)
        if not _inside_file(spec_dir, found, "adapter_config.json") or not has_weights:
            return (
                "is not a PEFT adapter directory",
                "it needs adapter_config.json and adapter_model.safetensors (or .bin)",
            )
        if scale is not None:
            return (
                "is a PEFT directory: `scale` does not apply",
                "a PEFT directory's scale comes from adapter_config.json",
            )
        return "", ""
    if not found.is_file or PurePosixPath(relative).suffix != ".safetensors":
        return "is neither a PEFT directory nor a .safetensors file", ""
    if scale is None:
        return (
            "is a plain adapter file and needs a `scale`",
            f'write `{role} "{relative}" {{ scale 2.0 }}` (lora_alpha / r)',
        )
    return "", ""
