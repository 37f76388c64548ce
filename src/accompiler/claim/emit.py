"""Claim IR -> .ac or YAML text (`accard convert`): non-default values, and every setting the
spec wrote out."""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..records.formats import FORMATS
from .model import LANGUAGE_VERSION, Claim, DataSet
from .settings import changed


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _number(value: float | int) -> str:
    return repr(value)


def _changed_fields(claim: Claim) -> dict[str, str]:
    default = FORMATS[claim.records.format].fields
    return {k: v for k, v in claim.records.fields if default[k] != v}


def _entry(key: str, path: str, attribute: tuple[str, str] | None) -> list[str]:
    """`key "path"`, with a one-attribute block when there is an attribute to state."""
    if attribute is None:
        return [f"  {key} {_q(path)}"]
    return [f"  {key} {_q(path)} {{", f"    {attribute[0]} {attribute[1]}", "  }"]


def _dataset_lines(data: DataSet) -> list[str]:
    return [
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
    fields = _changed_fields(claim)
    if claim.records.filter is not None:
        fields["filter"] = claim.records.filter
    if fields:
        body.append(f"records {claim.records.format} {{")
        body += [f"  {k} {_q(v)}" for k, v in fields.items()]
        body.append("}")
    else:
        body.append(f"records {claim.records.format}")
    body += [f"heldout {_q(claim.heldout.name)} {{", *_dataset_lines(claim.heldout), "}"]
    if claim.fresh:
        body += ["fresh {", *_dataset_lines(claim.fresh), "}"]
    for target in claim.transfer:
        body += [f"transfer {_q(target.name)} {{", *_dataset_lines(target), "}"]
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


def _dataset_yaml(data: DataSet, label: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {label: data.name} if label else {}
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
        "records": {
            "format": claim.records.format,
            **_changed_fields(claim),
            **({"filter": claim.records.filter} if claim.records.filter is not None else {}),
        },
        "heldout": _dataset_yaml(claim.heldout, "task"),
    }
    if claim.fresh:
        body["fresh"] = _dataset_yaml(claim.fresh, None)
    if claim.transfer:
        body["transfer"] = [_dataset_yaml(t, "name") for t in claim.transfer]
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
