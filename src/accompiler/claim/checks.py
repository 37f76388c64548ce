"""Semantic checks of a Claim against its folder: confined, existing, readable paths."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..problems import Problem
from ..records.formats import FORMATS
from ..span import Span
from .model import WEIGHT_ROLES, Claim


def confined_path(spec_dir: Path, relative: str) -> tuple[Path | None, str]:
    """Resolve `relative` inside `spec_dir`; return (path, '') or (None, why it is refused)."""
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (len(relative) > 1 and relative[1] == ":"):
        return None, "is absolute; paths are relative to the spec's folder"
    if ".." in pure.parts:
        return None, "leaves the spec's folder (`..`)"
    root = spec_dir.resolve()
    target = (root / pure).resolve()
    if target != root and root not in target.parents:
        return None, "points outside the spec's folder (through a symlink)"
    if not target.exists():
        return None, "does not exist"
    return target, ""


def check_claim(claim: Claim, spec_dir: Path) -> list[Problem]:
    """Every problem with the files a claim names: confinement, existence, kind."""
    problems: list[Problem] = []
    for field, relative, kind in _named_paths(claim):
        span = claim.spans.get(field)
        path, why = confined_path(spec_dir, relative)
        if path is None:
            problems.append(Problem(f"path `{relative}` {why}", span, _help(why), field))
            continue
        problems += _kind_problems(claim, path, relative, kind, span, field)
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


def _help(why: str) -> str:
    if "exist" in why:
        return "check the spelling; paths are relative to the folder that holds the spec"
    return "keep every input inside the folder that holds the spec"


def _named_paths(claim: Claim) -> list[tuple[str, str, str]]:
    named: list[tuple[str, str, str]] = []
    for prefix, data in zip(_dataset_fields(claim), claim.datasets, strict=True):
        for key, values in data.file_groups():
            named += [(f"{prefix}.{key}[{i}]", v.path, "records") for i, v in enumerate(values)]
    named += [(f"claim.adapters.{a.role}.path", a.path, "adapter") for a in claim.adapters]
    return named


def _dataset_fields(claim: Claim) -> list[str]:
    """Where each of `claim.datasets` sits in the spec, as a field path."""
    fresh = ["claim.fresh"] if claim.fresh else []
    return ["claim.heldout", *fresh, *(f"claim.transfer[{i}]" for i in range(len(claim.transfer)))]


def _kind_problems(
    claim: Claim, path: Path, relative: str, kind: str, span: Span | None, field: str
) -> list[Problem]:
    """Is the file what its keyword says: a record file, full weights, or an adapter?"""
    if kind == "records":
        why, detail = _record_fault(claim, path)
    else:
        role = field.split(".")[2]
        adapter = claim.adapter(role)
        scale = adapter.scale if adapter is not None else None
        why, detail = (
            _weights_fault(path, role)
            if role in WEIGHT_ROLES
            else _adapter_fault(path, relative, role, scale)
        )
    return [Problem(f"`{relative}` {why}", span, detail, field)] if why else []


def _record_fault(claim: Claim, path: Path) -> tuple[str, str]:
    suffixes = FORMATS[claim.records.format].suffixes
    if not path.is_file():
        return "is not a file", ""
    if path.suffix.lower() not in suffixes:
        return (f"is not a {claim.records.format} record file", "expected " + " or ".join(suffixes))
    return "", ""


def _weights_fault(path: Path, role: str) -> tuple[str, str]:
    if path.is_file() and path.suffix == ".safetensors":
        return "", ""
    return (
        "is not a .safetensors weights file",
        f"`{role}` names the {role} model's weights (one .safetensors file)",
    )


def _adapter_fault(path: Path, relative: str, role: str, scale: float | None) -> tuple[str, str]:
    if path.is_dir():
        names = ("adapter_model.safetensors", "adapter_model.bin")
        has_weights = any((path / n).is_file() for n in names)
        if not (path / "adapter_config.json").is_file() or not has_weights:
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
    if not path.is_file() or path.suffix != ".safetensors":
        return "is neither a PEFT directory nor a .safetensors file", ""
    if scale is None:
        return (
            "is a plain adapter file and needs a `scale`",
            f'write `{role} "{relative}" {{ scale 2.0 }}` (lora_alpha / r)',
        )
    return "", ""
