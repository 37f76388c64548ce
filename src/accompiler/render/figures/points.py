"""A card (JSON) -> the point a cell is in the audit figures: plain, validated data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...card.document import card_version

Triple = tuple[float, float, float]
STATUSES = ("pass", "fail", "not_evaluable")
MEASURED = ("attack_targeted", "shrinkage", "none")


@dataclass(frozen=True)
class CellPoint:
    """One defended run ("cell") as the audit figures read it.

    Attributes:
        cell: The label shown for the cell, e.g. "SafeLoRA α=1 s0".
        group: The legend group (e.g. the defense); None puts the cell in no group.
        delta_gap: The held-out delta_gap as (estimate, ci_low, ci_high), or None.
        delta_deploy: The held-out delta_deploy as (estimate, ci_low, ci_high), or None.
        reliability_status: Diagnostic (a)'s status: pass, fail or not_evaluable.
        alpha_t: The norm fraction of the defended update kept inside the attack subspace.
        alpha_a: The fraction kept outside it.
        rho_at: alpha_t / alpha_a (None when undefined).
        mechanism_status: Diagnostic (c)'s status: pass, fail or not_evaluable.
        measured: The measured class: attack_targeted, shrinkage, none, or None.
    """

    cell: str
    group: str | None
    delta_gap: Triple | None
    delta_deploy: Triple | None
    reliability_status: str
    alpha_t: float | None
    alpha_a: float | None
    rho_at: float | None
    mechanism_status: str
    measured: str | None

    def __post_init__(self) -> None:
        _cell_point_iv(self)


def _cell_point_iv(point: CellPoint) -> None:
    for name in ("reliability_status", "mechanism_status"):
        if getattr(point, name) not in STATUSES:
            raise ValueError(f"`{name}` must be one of {STATUSES}, not {getattr(point, name)!r}")
    if point.measured is not None and point.measured not in MEASURED:
        raise ValueError(f"`measured` must be one of {MEASURED} or None, not {point.measured!r}")
    for name in ("delta_gap", "delta_deploy"):
        value = getattr(point, name)
        if value is not None and (len(value) != 3 or not all(map(math.isfinite, value))):
            raise ValueError(f"`{name}` must be (estimate, ci_low, ci_high), finite: {value!r}")
    for name in ("alpha_t", "alpha_a", "rho_at"):
        value = getattr(point, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"`{name}` must be a finite number >= 0 or None, not {value!r}")


def cell_point_from_card(card: Mapping[str, Any], cell: str, group: str | None = None) -> CellPoint:
    """Read a cell's point from a card (a JSON dict of card version 1.x).

    Args:
        card: The card, as `json.load` returns it.
        cell: The label to show for the cell.
        group: The legend group, or None.

    Returns:
        The held-out intervals with the status of (a), and the signature with that of (c).

    Raises:
        ValueError: The card is not of version 1.x.
    """
    version = card_version(card)
    if version is None or version[0] != 1:
        raise ValueError(f"card version {card.get('card_version')!r} is not supported (only 1.x)")
    reliability = card["diagnostics"]["reliability"]
    mechanism = card["diagnostics"]["mechanism"]
    return CellPoint(
        cell=cell,
        group=group,
        delta_gap=_triple(reliability["delta_gap"]),
        delta_deploy=_triple(reliability["delta_deploy"]),
        reliability_status=reliability["status"],
        alpha_t=mechanism["alpha_t"],
        alpha_a=mechanism["alpha_a"],
        rho_at=mechanism["rho_at"],
        mechanism_status=mechanism["status"],
        measured=mechanism["measured"],
    )


def _triple(interval: Mapping[str, float] | None) -> Triple | None:
    if interval is None:
        return None
    return (interval["estimate"], interval["ci_low"], interval["ci_high"])
