"""Per-cluster sums -> question-clustered paired bootstrap intervals (and the analytic check).

Cells are ordered as protocol.CELLS: (undefended, deploy), (undefended, eval), (defended,
deploy), (defended, eval). Every statistic here is a linear contrast of the four cell
accuracies, each an item-weighted mean, so one (B, clusters) matrix of cluster
multiplicities gives all of them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from .intervals import CELL_NAMES, CONTRASTS, BootstrapResult, Interval
from .tdist import t_quantile

_BATCH_ELEMENTS = 1 << 22


def _bootstrap_iv(
    sums: NDArray[np.float64], counts: NDArray[np.float64], resamples: int, confidence: float
) -> None:
    if sums.ndim != 2 or sums.shape[1] != 4 or sums.shape != counts.shape:
        raise ValueError("`sums` and `counts` must both have shape (clusters, 4)")
    if sums.shape[0] < 2:
        raise ValueError("`sums` must hold at least 2 clusters")
    if np.any(counts.sum(axis=0) <= 0):
        raise ValueError("`counts` must be positive in every cell")
    if not 0 < confidence < 1:
        raise ValueError("`confidence` must be in (0, 1)")
    if resamples < 1:
        raise ValueError("`resamples` must be positive")


def cluster_multiplicities(n_clusters: int, resamples: int, seed: int) -> NDArray[np.float64]:
    """(resamples, n_clusters) counts: how often each cluster is drawn in each resample.

    The draws are `default_rng(seed).integers(0, n_clusters, (resamples, n_clusters))`,
    row by row, so the result does not depend on the batching below.
    """
    rng = np.random.default_rng(seed)
    weights = np.empty((resamples, n_clusters), dtype=np.float64)
    batch = max(1, _BATCH_ELEMENTS // max(n_clusters, 1))
    for start in range(0, resamples, batch):
        rows = min(resamples, start + batch) - start
        draws = rng.integers(0, n_clusters, size=(rows, n_clusters))
        draws += np.arange(0, rows * n_clusters, n_clusters)[:, None]  # in place: row offsets
        counts = np.bincount(draws.ravel(), minlength=rows * n_clusters)
        weights[start : start + rows] = counts.reshape(rows, n_clusters)
    return weights


def bootstrap_contrasts(
    sums: NDArray[np.float64],
    counts: NDArray[np.float64],
    *,
    resamples: int = 5000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """Bootstrap every contrast in CONTRASTS from per-cluster cell sums and item counts.

    Args:
        sums: (clusters, 4) sum of `correct` per cluster and cell, clusters in sorted id order.
        counts: (clusters, 4) number of items per cluster and cell.
        resamples: B, the number of cluster resamples.
        confidence: two-sided level of the percentile intervals.
        seed: seed of `numpy.random.default_rng`.
    """
    sums = np.asarray(sums, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    _bootstrap_iv(sums, counts, resamples, confidence)
    n_clusters = sums.shape[0]
    coefficients = np.array(list(CONTRASTS.values()), dtype=np.float64)
    accuracies = sums.sum(axis=0) / counts.sum(axis=0)
    weights = cluster_multiplicities(n_clusters, resamples, seed)
    resampled_cells = (weights @ sums) / (weights @ counts)
    intervals = _intervals(
        list(CONTRASTS),
        coefficients @ accuracies,
        resampled_cells @ coefficients.T,
        cluster_robust_se(sums, counts, coefficients),
        confidence,
        n_clusters,
    )
    cells = np.eye(len(CELL_NAMES))
    intervals |= _intervals(
        list(CELL_NAMES),
        accuracies,
        resampled_cells,
        cluster_robust_se(sums, counts, cells),
        confidence,
        n_clusters,
    )
    a, b, c, d = (float(x) for x in accuracies)
    return BootstrapResult(
        intervals,
        (a, b, c, d),
        n_clusters,
        int(counts.sum()),
        resamples,
        confidence,
        seed,
    )


def _intervals(
    names: list[str],
    estimates: NDArray[np.float64],
    resampled: NDArray[np.float64],
    se: NDArray[np.float64],
    confidence: float,
    n_clusters: int,
) -> dict[str, Interval]:
    """Percentile intervals of each resampled column, with their Monte-Carlo errors and the
    analytic t interval beside them."""
    alpha = 1 - confidence
    bounds = np.quantile(resampled, [alpha / 2, 1 - alpha / 2], axis=0)
    mc_errors = quantile_mc_error(resampled, [alpha / 2, 1 - alpha / 2])
    t_quantile = _t_quantile(1 - alpha / 2, n_clusters - 1)
    intervals = {}
    for k, name in enumerate(names):
        t_low, t_high = estimates[k] - t_quantile * se[k], estimates[k] + t_quantile * se[k]
        intervals[name] = Interval(
            float(estimates[k]),
            float(bounds[0, k]),
            float(bounds[1, k]),
            float(mc_errors[0, k]),
            float(mc_errors[1, k]),
            float(se[k]),
            float(t_low),
            float(t_high),
            bool((bounds[1, k] < 0) != (t_high < 0)),
        )
    return intervals


def cluster_robust_se(
    sums: NDArray[np.float64], counts: NDArray[np.float64], coefficients: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Analytic cluster-robust SE of each contrast (linearisation, CR1 factor G/(G-1)).

    Cluster g contributes z_g = sum_c coef_c (S_gc - acc_c N_gc) / N_c: the per-cluster sum
    of each item's contribution to the statistic (Miller 2024, "Adding Error Bars to Evals").
    """
    totals = counts.sum(axis=0)
    accuracies = sums.sum(axis=0) / totals
    contributions = (sums - counts * accuracies) / totals
    z = contributions @ coefficients.T
    n_clusters = sums.shape[0]
    se: NDArray[np.float64] = np.sqrt(n_clusters / (n_clusters - 1) * (z**2).sum(axis=0))
    return se


def quantile_mc_error(samples: NDArray[np.float64], levels: list[float]) -> NDArray[np.float64]:
    """Monte-Carlo SE of sample quantiles: half the spread of the order statistics at ranks
    B*p -/+ sqrt(B*p*(1-p)) (the binomial interval of the quantile's rank)."""
    ordered = np.sort(samples, axis=0)
    count = ordered.shape[0]
    errors = []
    for p in levels:
        spread = np.sqrt(count * p * (1 - p))
        low = int(np.clip(np.floor(count * p - spread), 0, count - 1))
        high = int(np.clip(np.ceil(count * p + spread), 0, count - 1))
        errors.append((ordered[high] - ordered[low]) / 2)
    return np.array(errors)


@lru_cache(maxsize=64)
def _t_quantile(p: float, df: int) -> float:
    return t_quantile(p, df)
