"""The bootstrap's results as plain values (no numpy), for the diagnostics and the card."""

from __future__ import annotations

from dataclasses import dataclass


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
