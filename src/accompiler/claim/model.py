"""The claim IR: a normalised claim, identical whichever front-end (.ac or YAML) built it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records.formats import FORMATS
from ..span import Span
from .settings import Settings, settings_json

LANGUAGE_VERSION = 1
ADAPTER_ROLES = ("undefended", "defended", "reference")
# Optional full weights for SafeLoRA's own statistic (V = W_base - W_aligned per module).
WEIGHT_ROLES = ("base", "aligned")


@dataclass(frozen=True)
class Relabel:
    """An auditor's permissive relabel of the claimed mechanism class, with its reason."""

    to: str
    because: str


@dataclass(frozen=True)
class Defense:
    name: str
    mechanism: str
    relabel: Relabel | None = None


@dataclass(frozen=True)
class Records:
    """The record format and, for every canonical field, where it is read from."""

    format: str
    fields: tuple[tuple[str, str], ...]
    filter: str | None = None
    """lm-eval writes one sample per (doc, filter); the claim names the filter it scores."""

    def field_map(self) -> dict[str, str]:
        return dict(self.fields)

    @classmethod
    def default(cls, record_format: str = "canonical") -> Records:
        return cls(record_format, tuple(FORMATS[record_format].fields.items()))


@dataclass(frozen=True)
class RecordFile:
    """A record file; `condition` is set when every row of it is that condition (e.g. one
    lm-eval task per condition), otherwise the condition is read from the row."""

    path: str
    condition: str | None = None


@dataclass(frozen=True)
class DataSet:
    """Record files of one installed-gap task; arms come from a field or from the file."""

    role: str
    name: str
    files: tuple[RecordFile, ...] = ()
    undefended: tuple[RecordFile, ...] = ()
    defended: tuple[RecordFile, ...] = ()
    records: Records = field(default_factory=Records.default)
    """How this data set's files are read: its own `records` statement, else the claim's."""

    @property
    def key(self) -> str:
        """How plans and cards name the data set: heldout, fresh or transfer:<name>."""
        return self.role if self.role != "transfer" else f"transfer:{self.name}"

    @property
    def arm_from_file(self) -> bool:
        return not self.files

    def file_groups(self) -> tuple[tuple[str, tuple[RecordFile, ...]], ...]:
        """(keyword, files) in spec order: `file` (arm in a field), then each arm's files."""
        return (("file", self.files), ("undefended", self.undefended), ("defended", self.defended))


@dataclass(frozen=True)
class Adapter:
    """A LoRA adapter: a PEFT directory, or a plain .safetensors file with its scale."""

    role: str
    path: str
    scale: float | None = None


@dataclass(frozen=True)
class Claim:
    """A normalised claim spec. `spans` maps field paths to source spans (not compared)."""

    title: str
    defense: Defense
    model: str
    records: Records
    heldout: DataSet
    fresh: DataSet | None = None
    transfer: tuple[DataSet, ...] = ()
    adapters: tuple[Adapter, ...] = ()
    settings: Settings = Settings()
    version: int = LANGUAGE_VERSION
    spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False, hash=False)
    written_settings: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """The settings the spec wrote out (`accard convert` keeps them, defaults or not)."""

    def adapter(self, role: str) -> Adapter | None:
        return next((a for a in self.adapters if a.role == role), None)

    @property
    def datasets(self) -> tuple[DataSet, ...]:
        """Held-out, fresh (if any), then the transfer targets: the order of every document."""
        return (self.heldout, *((self.fresh,) if self.fresh else ()), *self.transfer)


def claim_to_json(claim: Claim) -> dict[str, Any]:
    """The claim's JSON form (schemas/claim.v1.schema.json), every default explicit."""
    defense: dict[str, Any] = {"name": claim.defense.name, "mechanism": claim.defense.mechanism}
    if claim.defense.relabel is not None:
        defense["relabel"] = {
            "to": claim.defense.relabel.to,
            "because": claim.defense.relabel.because,
        }
    return {
        "version": claim.version,
        "title": claim.title,
        "defense": defense,
        "model": claim.model,
        "records": records_json(claim.records),
        "heldout": _dataset_json(claim.heldout),
        "fresh": _dataset_json(claim.fresh) if claim.fresh else None,
        "transfer": [_dataset_json(t) for t in claim.transfer],
        "adapters": {a.role: {"path": a.path, "scale": a.scale} for a in claim.adapters},
        "settings": settings_json(claim.settings),
    }


def records_json(records: Records) -> dict[str, Any]:
    return {"format": records.format, "fields": records.field_map(), "filter": records.filter}


def _dataset_json(data: DataSet) -> dict[str, Any]:
    return {
        "name": data.name,
        "records": records_json(data.records),
        "files": [vars(f) for f in data.files],
        "undefended": [vars(f) for f in data.undefended],
        "defended": [vars(f) for f in data.defended],
    }
