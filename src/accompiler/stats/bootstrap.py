"""Per-cluster sums -> question-clustered paired bootstrap intervals (and the analytic check).

Cells are ordered as protocol.CELLS: (undefended, deploy), (undefended, eval), (defended,
deploy), (defended, eval). Every statistic here is a linear contrast of the four cell
accuracies, each an item-weighted mean, so the resampled cell totals W @ sums and W @ counts
(W: the (B, clusters) cluster multiplicities) give all of them. W is never held whole: it is
drawn in batches of resamples and only the (B, 4) totals are kept, so memory does not grow
with B x clusters. The totals are exact (see `_fixed_point`), hence the same whatever the
batch size, the BLAS or its thread count.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from functools import lru_cache
from itertools import islice

import numpy as np
from numpy.typing import NDArray

from .intervals import CELL_NAMES, CONTRASTS, BootstrapResult, Interval
from .tdist import t_quantile

_BATCH_ELEMENTS = 1 << 17
"""Draws per batch (1 MiB of int64), at least _MIN_BATCH_ROWS resamples: measured faster
than larger batches (they stay in cache) and than single resamples of a large table (each
batch reads the whole table once)."""
_MIN_BATCH_ROWS = 4
_THREADED_DRAWS = 1 << 22
"""From this many draws (resamples x clusters) on, the next batch is drawn in a thread."""
_LIMB_BITS = 26
"""A limb times a multiplicity, summed over fewer than 2^27 clusters, stays below 2^53."""
MAX_CLUSTERS = 1 << 27


def _bootstrap_iv(
    sums: NDArray[np.float64], counts: NDArray[np.float64], resamples: int, confidence: float
) -> None:
    if sums.ndim != 2 or sums.shape[1] != 4 or sums.shape != counts.shape:
        raise ValueError("`sums` and `counts` must both have shape (clusters, 4)")
    if sums.shape[0] < 2:
        raise ValueError("`sums` must hold at least 2 clusters")
    if sums.shape[0] >= MAX_CLUSTERS:
        raise ValueError(f"`sums` must hold fewer than {MAX_CLUSTERS} clusters")
    if not (np.all(np.isfinite(sums)) and np.all(sums >= 0) and np.all(counts >= 0)):
        raise ValueError("`sums` and `counts` must be finite and non-negative")
    if np.any(counts.sum(axis=0) <= 0):
        raise ValueError("`counts` must be positive in every cell")
    if not 0 < confidence < 1:
        raise ValueError("`confidence` must be in (0, 1)")
    if resamples < 1:
        raise ValueError("`resamples` must be positive")


def _multiplicity_batches(
    n_clusters: int, resamples: int, seed: int
) -> Iterator[tuple[int, NDArray[np.float64]]]:
    """(first row, rows x n_clusters counts) of how often each cluster is drawn in each
    resample. The draws are `default_rng(seed).integers(0, n_clusters, (resamples,
    n_clusters))` row by row: numpy's stream does not depend on how the rows are split
    into calls, so neither does anything computed from it.

    A large bootstrap draws and counts the next batch in a second thread while the caller
    uses this one (numpy's generator and bincount release the GIL); the one thread draws
    the batches in order, so the stream is the same."""
    rng = np.random.default_rng(seed)
    batch = max(_MIN_BATCH_ROWS, _BATCH_ELEMENTS // max(n_clusters, 1))
    offsets = np.arange(0, batch * n_clusters, n_clusters)[:, None]

    def counted(start: int) -> tuple[int, NDArray[np.intp]]:
        rows = min(resamples, start + batch) - start
        draws = rng.integers(0, n_clusters, size=(rows, n_clusters))
        draws += offsets[:rows]  # in place: row offsets
        return start, np.bincount(draws.ravel(), minlength=rows * n_clusters)

    starts = iter(range(0, resamples, batch))
    if resamples * n_clusters < _THREADED_DRAWS:
        for start in starts:
            first, counts = counted(start)
            yield first, counts.reshape(-1, n_clusters).astype(np.float64)
        return
    with ThreadPoolExecutor(1) as drawer:
        ahead = deque(drawer.submit(counted, start) for start in islice(starts, 2))
        while ahead:
            first, counts = ahead.popleft().result()
            ahead.extend(drawer.submit(counted, start) for start in islice(starts, 1))
            yield first, counts.reshape(-1, n_clusters).astype(np.float64)


def cluster_multiplicities(n_clusters: int, resamples: int, seed: int) -> NDArray[np.float64]:
    """(resamples, n_clusters) counts: how often each cluster is drawn in each resample (the
    whole matrix; the bootstrap itself only ever holds one batch of it)."""
    weights = np.empty((resamples, n_clusters), dtype=np.float64)
    for start, block in _multiplicity_batches(n_clusters, resamples, seed):
        weights[start : start + len(block)] = block
    return weights


def _fixed_point(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], int, int]:
    """`values` (non-negative, finite) as integer limbs of a common fixed point: (limbs side
    by side, columns x L, as float64 integers below 2^26), the binary shift and L.

    A product of multiplicities with integers below 2^26, summed over fewer than 2^27
    clusters, is an exact float64 integer in any order; the limb totals, combined in Python
    integers and rounded once, give the correctly rounded W @ values. For integer values
    (0/1 scores, item counts) that is one limb and exactly today's BLAS product."""
    nonzero = np.abs(values[values != 0])
    if nonzero.size == 0:
        return values.copy(), 0, 1
    top = int(np.frexp(nonzero.max())[1])  # every value is below 2^top
    mantissa, exponent = np.frexp(nonzero)
    del mantissa
    # the lowest set bit of each value: 53 significant bits at most below its exponent
    scaled = np.ldexp(nonzero, 53 - exponent)  # integers below 2^53
    low_bits = _trailing_zeros(scaled.astype(np.int64))
    shift = max(0, int(np.max(53 - exponent - low_bits)))
    limbs = max(1, math.ceil((top + shift) / _LIMB_BITS))
    if limbs == 1:
        return np.ldexp(values, shift), shift, 1
    parts = []
    rest = values
    for k in range(limbs - 1, -1, -1):
        high = np.floor(np.ldexp(rest, shift - k * _LIMB_BITS))
        parts.append(high)
        rest = rest - np.ldexp(high, k * _LIMB_BITS - shift)  # exact: removes top bits only
    return np.hstack(parts[::-1]), shift, limbs


def _trailing_zeros(integers: NDArray[np.int64]) -> NDArray[np.int64]:
    lowest = integers & -integers
    return np.frexp(lowest.astype(np.float64))[1].astype(np.int64) - 1


def _combine(products: NDArray[np.float64], shift: int, limbs: int) -> NDArray[np.float64]:
    """Exact limb totals (rows x columns*L) -> each total correctly rounded to a float."""
    if limbs == 1:
        return np.ldexp(products, -shift)  # exact integers, rescaled exactly
    width = products.shape[1] // limbs
    out = np.empty((products.shape[0], width))
    parts = [products[:, k * width : (k + 1) * width].astype(object) for k in range(limbs)]
    for index in np.ndindex(out.shape):
        total = sum(int(part[index]) << (k * _LIMB_BITS) for k, part in enumerate(parts))
        out[index] = _rounded(total, shift)
    return out


def _rounded(total: int, shift: int) -> float:
    """total / 2^shift, correctly rounded."""
    if total == 0:
        return 0.0
    if total.bit_length() < 1000 and shift < 1000:
        return math.ldexp(float(total), -shift)  # one rounding (float), then exact scaling
    return float(Fraction(total, 1 << shift))


def resampled_totals(
    sums: NDArray[np.float64], counts: NDArray[np.float64], resamples: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(B, 4) W @ sums and W @ counts, each correctly rounded, one batch of W at a time."""
    sum_limbs, sum_shift, sum_l = _fixed_point(sums)
    count_limbs, count_shift, count_l = _fixed_point(counts)
    columns = np.hstack([sum_limbs, count_limbs])
    products = np.empty((resamples, columns.shape[1]))
    for start, block in _multiplicity_batches(sums.shape[0], resamples, seed):
        products[start : start + len(block)] = block @ columns
    split = sum_limbs.shape[1]
    return (
        _combine(products[:, :split], sum_shift, sum_l),
        _combine(products[:, split:], count_shift, count_l),
    )


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
    numerators, denominators = resampled_totals(sums, counts, resamples, seed)
    resampled_cells = numerators / denominators
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
    ordered = np.sort(resampled, axis=0)
    bounds = percentiles(ordered, [alpha / 2, 1 - alpha / 2])
    mc_errors = quantile_mc_error(ordered, [alpha / 2, 1 - alpha / 2], presorted=True)
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


def percentiles(ordered: NDArray[np.float64], levels: list[float]) -> NDArray[np.float64]:
    """Each column's sample quantiles at `levels`, from the columns sorted (NaN last):
    numpy.quantile's default ("linear", Hyndman & Fan's type 7), the same arithmetic step
    for step (tested equal to it bit for bit), without the import of numpy.ma that
    numpy.quantile costs every command. A column holding NaN has NaN quantiles; a zero is
    +0.0 (which of -0.0 and +0.0 a sort puts first is arbitrary)."""
    count = ordered.shape[0]
    rows = []
    for level in levels:
        virtual = (count - 1) * level
        if virtual >= count - 1:
            value = ordered[-1]
        elif virtual < 0:
            value = ordered[0]
        else:
            lower = math.floor(virtual)
            gamma = virtual - lower
            below, above = ordered[lower], ordered[lower + 1]
            step = above - below
            # numpy's lerp: from the nearer end, so gamma = 1 gives `above` exactly
            value = above - step * (1 - gamma) if gamma >= 0.5 else below + step * gamma
        rows.append(np.where(np.isnan(ordered[-1]), np.nan, value + 0.0))
    return np.array(rows)


def quantile_mc_error(
    samples: NDArray[np.float64], levels: list[float], *, presorted: bool = False
) -> NDArray[np.float64]:
    """Monte-Carlo SE of sample quantiles: half the spread of the order statistics at ranks
    B*p -/+ sqrt(B*p*(1-p)) (the binomial interval of the quantile's rank)."""
    ordered = samples if presorted else np.sort(samples, axis=0)
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
