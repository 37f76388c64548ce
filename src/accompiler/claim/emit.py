"""Claim IR -> .ac or YAML text (`accard convert`): non-default values, and every setting the
spec wrote out."""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..records.formats import FORMATS
from .model import LANGUAGE_VERSION, Claim, DataSet, Records
from .settings import changed


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _number(value: float | int) -> str:
    return repr(value)


def _changed_fields(records: Records) -> dict[str, str]:
    """The field paths that differ from the format's defaults, and the filter if any."""
    default = FORMATS[records.format].fields
    fields = {k: v for k, v in records.fields if default[k] != v}
    return fields | ({"filter": records.filter} if records.filter is not None else {})


def _records_lines(records: Records) -> list[str]:
    fields = _changed_fields(records)
    if not fields:
        return [f"records {records.format}"]
    return [f"records {records.format} {{", *[f"  {k} {_q(v)}" for k, v in fields.items()], "}"]


def _records_yaml(records: Records) -> dict[str, Any]:
    return {"format": records.format, **_changed_fields(records)}


def _entry(key: str, path: str, attribute: tuple[str, str] | None) -> list[str]:
    """`key "path"`, with a one-attribute block when there is an attribute to state."""
    if attribute is None:
        return [f"  {key} {_q(path)}"]
    return [f"  {key} {_q(path)} {{", f"    {attribute[0]} {attribute[1]}", "  }"]


def _dataset_lines(data: DataSet, claim: Claim) -> list[str]:
    own = ["  " + line for line in _records_lines(data.records)]
    return (own if data.records != claim.records else []) + [
        line
        for key, files in data.file_groups()
        for record in files
        for line in _entry(
            key, record.path, ("condition", record.condition) if record.condition else None
        )
    ]


def claim_to_ac(claim: Claim) -> str:
    body: list[str] = [
        f"defense {_q(claim.defense.name)} {{",
        f"  mechanism {claim.defense.mechanism}",
    ]
    if claim.defense.relabel:
        relabel = claim.defense.relabel
        body.append(f"  relabel {relabel.to} because {_q(relabel.because)}")
    body += ["}", f"model {_q(claim.model)}"]
    body += _records_lines(claim.records)
    body += [f"heldout {_q(claim.heldout.name)} {{", *_dataset_lines(claim.heldout, claim), "}"]
    if claim.fresh:
        body += ["fresh {", *_dataset_lines(claim.fresh, claim), "}"]
    for target in claim.transfer:
        body += [f"transfer {_q(target.name)} {{", *_dataset_lines(target, claim), "}"]
    if claim.adapters:
        body.append("adapters {")
        for adapter in claim.adapters:
            scale = None if adapter.scale is None else ("scale", _number(adapter.scale))
            body += _entry(adapter.role, adapter.path, scale)
        body.append("}")
    settings = changed(claim.settings, claim.written_settings)
    if settings:
        body += ["settings {", *[f"  {k} {_number(v)}" for k, v in settings.items()], "}"]
    lines = [f"accard {LANGUAGE_VERSION}", "", f"claim {_q(claim.title)} {{"]
    lines += [("  " + line) if line else line for line in body]
    return "\n".join(lines + ["}"]) + "\n"


def _dataset_yaml(data: DataSet, label: str | None, claim: Claim) -> dict[str, Any]:
    out: dict[str, Any] = {label: data.name} if label else {}
    if data.records != claim.records:
        out["records"] = _records_yaml(data.records)
    for key, values in data.file_groups():
        if values:
            out[key] = [r.path if r.condition is None else vars(r) for r in values]
    return out


def claim_to_yaml(claim: Claim) -> str:
    defense: dict[str, Any] = {"name": claim.defense.name, "mechanism": claim.defense.mechanism}
    if claim.defense.relabel:
        defense["relabel"] = {
            "to": claim.defense.relabel.to,
            "because": claim.defense.relabel.because,
        }
    body: dict[str, Any] = {
        "title": claim.title,
        "defense": defense,
        "model": claim.model,
        "records": _records_yaml(claim.records),
        "heldout": _dataset_yaml(claim.heldout, "task", claim),
    }
    if claim.fresh:
        body["fresh"] = _dataset_yaml(claim.fresh, None, claim)
    if claim.transfer:
        body["transfer"] = [_dataset_yaml(t, "name", claim) for t in claim.transfer]
    if claim.adapters:
        body["adapters"] = {
            a.role: a.path if a.scale is None else {"path": a.path, "scale": a.scale}
            for a in claim.adapters
        }
    settings = changed(claim.settings, claim.written_settings)
    if settings:
        body["settings"] = settings
    document = {"accard": LANGUAGE_VERSION, "claim": body}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(text) != document:
        # PyYAML writes some characters (NEL, line/paragraph separators) raw, and reading them
        # back folds them into spaces; escaping everything keeps the text exact.
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=100)
    return text
