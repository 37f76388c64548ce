"""The audit IR: an audit's cells (each a claim to check) and how the summary names them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..span import Span

Param = str | int | float
"""A hyper-parameter's value: an axis value, a glob capture or a `params` entry."""

SEED = "seed"
"""The parameter the summary shows in its own column (the run's seed)."""
DEFENSE = "defense"
"""An axis naming the defense is not a hyper-parameter: the summary's defense column (the
claim's defense) shows it."""


@dataclass(frozen=True)
class Cell:
    """One cell of an audit: a claim, where its spec comes from, and its summary labels.

    A file cell's spec is a claim file; a template cell's is a matrix of the audit file,
    whose claim template is filled in with the cell's `params` and whose paths are relative
    to `folder` (inside the audit's folder).
    """

    name: str
    group: str | None
    params: tuple[tuple[str, Param], ...]
    spec: str
    """The claim file (file cell) or the audit file (template cell), absolute."""
    display: str
    """How problems name that file (as the user gave it)."""
    matrix: int | None = None
    """Template cells: the index of their matrix among the audit's matrices."""
    folder: str = ""
    """Template cells: the folder the claim's paths are relative to, from the audit's."""
    links: tuple[tuple[str, Param], ...] = ()
    """Template cells: values the chosen axis values bind (placeholders, not parameters)."""
    span: Span | None = field(default=None, compare=False)
    """Where the audit declares the cell."""

    @property
    def seed(self) -> Param | None:
        return dict(self.params).get(SEED)

    @property
    def hyper_parameters(self) -> dict[str, Param]:
        return {k: v for k, v in self.params if k not in (SEED, DEFENSE)}

    @property
    def values(self) -> dict[str, Param]:
        """Every placeholder's value: the parameters and the values they bind."""
        return dict(self.links) | dict(self.params)

    def to_json(self) -> dict[str, Any]:
        """The cell as a job carries it to a worker (plain JSON: nothing is pickled)."""
        return {
            "name": self.name,
            "group": self.group,
            "params": [list(p) for p in self.params],
            "spec": self.spec,
            "display": self.display,
            "matrix": self.matrix,
            "folder": self.folder,
            "links": [list(p) for p in self.links],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cell:
        return cls(
            data["name"],
            data["group"],
            tuple((str(k), v) for k, v in data["params"]),
            data["spec"],
            data["display"],
            data["matrix"],
            data["folder"],
            tuple((str(k), v) for k, v in data["links"]),
        )


@dataclass(frozen=True)
class Audit:
    """Cells to check under shared setting overrides (the audit file's `settings`)."""

    title: str
    cells: tuple[Cell, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    """The audit file, absolute (None when claim specs were given directly)."""
    sha256: str | None = None
    """The audit file's sha256: a worker reading a template checks it read the same file."""
