"""Cells or one card (JSON) -> the paper's audit figures as bytes (SVG or PNG), with matplotlib
(optional: `pip install 'accard[plots]'`, imported only when a figure is drawn).

- `bootstrap_plane`: Figure 2, each cell's held-out Δgap against its Δdeploy, both intervals.
- `signature_plane`: Figure 3, each cell's LoRA signature (α_A, α_T) and the wedge.
- `card_figure`: one card's intervals beside its signature.

Modules: `points` (card -> CellPoint), `planes` and `card` (the drawings), `sheet` (layout),
`labels` (label placement), `style` (the fixed look, figure -> bytes).
"""

from __future__ import annotations

from .card import card_figure
from .planes import audit_planes, bootstrap_plane, signature_plane
from .points import MEASURED, STATUSES, CellPoint, cell_point_from_card
from .style import STATUS_COLOURS

__all__ = [
    "MEASURED",
    "STATUSES",
    "STATUS_COLOURS",
    "CellPoint",
    "audit_planes",
    "bootstrap_plane",
    "card_figure",
    "cell_point_from_card",
    "signature_plane",
]
