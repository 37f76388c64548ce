"""The plan's parts: typed inputs (grouped per data set), steps, and the Plan itself."""

from __future__ import annotations

from dataclasses import dataclass

from ..claim.model import Claim, DataSet


@dataclass(frozen=True)
class PlanInput:
    """One file a run reads, with what it holds as fields (no code parses `role`)."""

    kind: str
    """records | adapter | weights"""
    path: str
    """Relative to the spec's folder."""
    sha256: str
    size: int
    dataset: str | None = None
    """records: the data set's key (heldout, fresh, transfer:<name>)."""
    arm: str | None = None
    """records: the arm every row has, when the claim gives it by file."""
    condition: str | None = None
    """records: the condition every row has, when the claim gives it by file."""
    adapter: str | None = None
    """adapter: undefended | defended | reference; weights: base | aligned."""
    part: str | None = None
    """adapter: config | weights."""

    @property
    def role(self) -> str:
        """The input's name in plan and card JSON, e.g. records/heldout/undefended@deploy."""
        if self.kind == "records":
            arm = f"/{self.arm}" if self.arm else ""
            condition = f"@{self.condition}" if self.condition else ""
            return f"records/{self.dataset}{arm}{condition}"
        if self.kind == "weights":
            return f"weights/{self.adapter}"
        return f"adapter/{self.adapter}/{self.part}"

    def to_json(self) -> dict[str, object]:
        return {"role": self.role, "path": self.path, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class PlannedDataSet:
    """A data set of the claim with the record files the run reads for it."""

    data: DataSet
    inputs: tuple[PlanInput, ...]

    @property
    def key(self) -> str:
        return self.data.key


@dataclass(frozen=True)
class PlanStep:
    name: str
    kind: str
    reads: tuple[str, ...]
    yields: tuple[str, ...]
    status: str = "planned"
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    claim: Claim
    datasets: tuple[PlannedDataSet, ...]
    adapter_inputs: tuple[PlanInput, ...]
    steps: tuple[PlanStep, ...]

    @property
    def inputs(self) -> tuple[PlanInput, ...]:
        """Every file the run reads: the data sets' records, then the adapters and weights."""
        return tuple(i for d in self.datasets for i in d.inputs) + self.adapter_inputs

    def adapter_input(self, adapter: str, part: str = "weights") -> PlanInput | None:
        """The adapter's (or, for base/aligned, the weights') file of `part`, if planned."""
        return next(
            (
                i
                for i in self.adapter_inputs
                if i.adapter == adapter and (i.part == part or i.kind == "weights")
            ),
            None,
        )
