"""A spec's plan or a card document -> one Revision: what either side says about the claim,
its settings and its inputs, named by the card's JSON paths, plus a card's results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..claim.settings import SETTINGS, Setting
from ..plan import Plan


@dataclass(frozen=True)
class Input:
    """A file read in one role: where from and what it holds."""

    path: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256}


@dataclass(frozen=True)
class Revision:
    """One side of a comparison. A spec has no results; a card has no spec-only parts."""

    label: str
    kind: str
    """spec | card"""
    claim: dict[str, Any]
    """The claim's parts by card path ($.claim.title, …)."""
    heldout: str
    """The held-out task's name."""
    datasets: dict[str, tuple[str, ...]]
    """Data set key (heldout, fresh, transfer:<name>) -> the keys of its record inputs."""
    formats: dict[str, str]
    """Data set key -> the format its records are read in."""
    settings: dict[str, Any]
    """Every setting by name (a setting the card does not record is absent)."""
    inputs: dict[str, Input]
    """Input key (its role; a role's later files `role#2`, …) -> the file."""
    spec_only: dict[str, Any] = field(default_factory=dict)
    """What only a spec holds (each data set's record field map and filter, adapter scales),
    by `claim:` path."""
    card: dict[str, Any] | None = None
    """The card document (cards only)."""

    def files(self, key: str) -> list[str]:
        """The record files a data set reads, in order."""
        return [self.inputs[k].path for k in self.datasets[key]]

    def contents(self, key: str) -> tuple[str, ...]:
        """The sha256 of a data set's record files, in order."""
        return tuple(self.inputs[k].sha256 for k in self.datasets[key])


def setting_path(setting: Setting) -> str:
    """Where the card records a setting: `$.settings.<group>.<name>` (or its top level)."""
    group = f"{setting.rule.card}." if setting.rule.card else ""
    return f"$.settings.{group}{setting.name}"


def _keyed(entries: Iterable[tuple[str, str, str]]) -> list[tuple[str, Input]]:
    """(role, path, sha256) in order -> (key, input): a role's later files are `role#2`, …"""
    keyed = []
    seen: dict[str, int] = {}
    for role, path, sha256 in entries:
        seen[role] = seen.get(role, 0) + 1
        keyed.append((role if seen[role] == 1 else f"{role}#{seen[role]}", Input(path, sha256)))
    return keyed


def _of_dataset(key: str, dataset: str) -> bool:
    """Whether an input key (records/<dataset>[/<arm>][@<condition>][#n]) reads `dataset`."""
    role = key.partition("#")[0]
    prefix = f"records/{dataset}"
    return role == prefix or role.startswith((f"{prefix}/", f"{prefix}@"))


def _claim_parts(*values: Any) -> dict[str, Any]:
    names = ("title", "defense", "model", "mechanism_claimed", "relabel")
    return {f"$.claim.{name}": value for name, value in zip(names, values, strict=True)}


def spec_revision(plan: Plan, label: str) -> Revision:
    """A spec's side: its claim and every input its plan reads (hashed)."""
    claim = plan.claim
    relabel = claim.defense.relabel
    parts = _claim_parts(
        claim.title,
        claim.defense.name,
        claim.model,
        claim.defense.mechanism,
        {"to": relabel.to, "because": relabel.because} if relabel else None,
    )
    keyed = _keyed((i.role, i.path, i.sha256) for i in plan.inputs)
    return Revision(
        label,
        "spec",
        parts,
        claim.heldout.name,
        {d.key: tuple(k for k, _ in keyed if _of_dataset(k, d.key)) for d in claim.datasets},
        {d.key: d.records.format for d in claim.datasets},
        {s.name: getattr(claim.settings, s.name) for s in SETTINGS},
        dict(keyed),
        _spec_only(plan),
    )


def _spec_only(plan: Plan) -> dict[str, Any]:
    """Each data set's record field map and filter, each adapter's scale, by `claim:` path
    (data sets named as the card names them)."""
    parts: dict[str, Any] = {}
    for data in plan.claim.datasets:
        prefix = f"claim:$.datasets[{data.key!r}].records"
        parts.update({f"{prefix}.fields.{name}": path for name, path in data.records.fields})
        parts[f"{prefix}.filter"] = data.records.filter
    for adapter in plan.claim.adapters:
        parts[f"claim:$.adapters.{adapter.role}.scale"] = adapter.scale
    return parts


def card_revision(card: dict[str, Any], label: str) -> Revision:
    """A card's side: its claim, settings and inputs as recorded, and the whole document."""
    head = card["claim"]
    parts = _claim_parts(
        head["title"],
        head["defense"],
        head["model"],
        head["mechanism_claimed"],
        head["relabel"],
    )
    keyed = _keyed((i["role"], i["path"], i["sha256"]) for i in card["inputs"])
    datasets = card["datasets"]
    heldout = next((d["name"] for d in datasets if d["key"] == "heldout"), "")
    formats = {d["key"]: d.get("records_format", head["records_format"]) for d in datasets}
    return Revision(
        label,
        "card",
        parts,
        heldout,
        {d["key"]: tuple(k for k, _ in keyed if _of_dataset(k, d["key"])) for d in datasets},
        formats,
        _card_settings(card["settings"]),
        dict(keyed),
        card=card,
    )


def _card_settings(recorded: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for setting in SETTINGS:
        group = recorded.get(setting.rule.card, {}) if setting.rule.card else recorded
        if isinstance(group, dict) and setting.name in group:
            values[setting.name] = group[setting.name]
    return values
