"""The IR: a normalised claim, identical whichever front-end (.ac or YAML) built it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .span import Span

LANGUAGE_VERSION = 1
MECHANISM_CLASSES = ("attack_targeted", "shrinkage")
RECORD_FORMATS = ("canonical", "lm_eval", "inspect")
CONDITIONS = ("deploy", "eval")
RECORD_FIELDS = ("question_id", "template_id", "subject", "condition", "arm", "correct")
ADAPTER_ROLES = ("undefended", "defended", "reference")
# Optional full weights for SafeLoRA's own statistic (V = W_base - W_aligned per module).
WEIGHT_ROLES = ("base", "aligned")

# Where each canonical field lives in a row of each format (dotted paths into the row).
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    "canonical": {f: f for f in RECORD_FIELDS},
    "lm_eval": {
        "question_id": "doc.question_id",
        "template_id": "doc.template_id",
        "subject": "doc.subject",
        "condition": "doc.condition",
        "arm": "doc.arm",
        "correct": "acc",
    },
    "inspect": {
        "question_id": "metadata.question_id",
        "template_id": "metadata.template_id",
        "subject": "metadata.subject",
        "condition": "metadata.condition",
        "arm": "metadata.arm",
        "correct": "scores.match.value",
    },
}


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
class Settings:
    """Every knob of a run; the defaults are the paper's (PROTOCOL) or documented choices."""

    resamples: int = 5000
    confidence: float = 0.95
    seed: int = 0
    tau_fresh: float = 0.5
    rho_at: float = 0.6
    max_deploy_cost: float | None = None
    min_clusters: int = 20
    rank_rtol: float | None = None
    safelora_threshold: float = 0.5


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

    def adapter(self, role: str) -> Adapter | None:
        return next((a for a in self.adapters if a.role == role), None)


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
        "records": {
            "format": claim.records.format,
            "fields": claim.records.field_map(),
            "filter": claim.records.filter,
        },
        "heldout": _dataset_json(claim.heldout),
        "fresh": _dataset_json(claim.fresh) if claim.fresh else None,
        "transfer": [_dataset_json(t) for t in claim.transfer],
        "adapters": {a.role: {"path": a.path, "scale": a.scale} for a in claim.adapters},
        "settings": settings_json(claim.settings),
    }


def _dataset_json(data: DataSet) -> dict[str, Any]:
    return {
        "name": data.name,
        "files": [vars(f) for f in data.files],
        "undefended": [vars(f) for f in data.undefended],
        "defended": [vars(f) for f in data.defended],
    }


def settings_json(settings: Settings) -> dict[str, Any]:
    return {
        "resamples": settings.resamples,
        "confidence": settings.confidence,
        "seed": settings.seed,
        "tau_fresh": settings.tau_fresh,
        "rho_at": settings.rho_at,
        "max_deploy_cost": settings.max_deploy_cost,
        "min_clusters": settings.min_clusters,
        "rank_rtol": settings.rank_rtol,
        "safelora_threshold": settings.safelora_threshold,
    }
