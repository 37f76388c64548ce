"""Stage 2, config tree -> Claim: decode both front-ends' tree into the normalised claim,
check the files it names, and emit it back as .ac or YAML (`accard convert`)."""

from __future__ import annotations

from .load import load_spec
from .model import Adapter, Claim, DataSet, Defense, RecordFile, Records, Relabel
from .settings import SETTINGS, Settings

__all__ = [
    "SETTINGS",
    "Adapter",
    "Claim",
    "DataSet",
    "Defense",
    "RecordFile",
    "Records",
    "Relabel",
    "Settings",
    "load_spec",
]
