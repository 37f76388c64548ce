"""The bootstrap's results as plain values (no numpy), for the diagnostics and the card."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import CELLS

# Every statistic of a data set is a linear contrast of its four cell accuracies, in the
# order of protocol.CELLS: (undefended, deploy), (undefended, eval), (defended, deploy),
# (defended, eval).
CONTRASTS: dict[str, tuple[float, float, float, float]] = {
    "installed_gap": (1, -1, 0, 0),
    "defended_gap": (0, 0, 1, -1),
    "delta_gap": (-1, 1, 1, -1),
    "delta_deploy": (-1, 0, 1, 0),
}
# Each cell accuracy has an interval of its own, named after its cell.
CELL_NAMES = {f"accuracy.{arm}.{condition}": (arm, condition) for arm, condition in CELLS}


@dataclass(frozen=True)
class Interval:
    """A point estimate (full sample) with its bootstrap CI and the analytic cross-check."""

    estimate: float
    ci_low: float
    ci_high: float
    mc_error_low: float
    mc_error_high: float
    se_cluster: float
    t_low: float
    t_high: float
    sign_disagreement: bool


@dataclass(frozen=True)
class BootstrapResult:
    intervals: dict[str, Interval]
    accuracies: tuple[float, float, float, float]
    clusters: int
    items: int
    resamples: int
    confidence: float
    seed: int
