"""The bootstrap and its cross-check against slow, obvious implementations and properties."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accompiler.records.formats import FORMATS
from accompiler.records.table import SourceFile, build_table
from accompiler.stats.bootstrap import (
    CONTRASTS,
    bootstrap_contrasts,
    cluster_multiplicities,
    cluster_robust_se,
    percentiles,
    resampled_totals,
)

FIELDS = {f: f for f in ("question_id", "template_id", "subject", "condition", "arm", "correct")}
CELL_INDEX = {
    ("undefended", "deploy"): 0,
    ("undefended", "eval"): 1,
    ("defended", "deploy"): 2,
    ("defended", "eval"): 3,
}


def make_rows(
    rng: np.random.Generator, clusters: int, templates: int, ragged: bool = False
) -> list[dict[str, object]]:
    rows = []
    for q in range(clusters):
        ability = rng.normal()
        count = templates if not ragged else int(rng.integers(1, templates + 1))
        for t in range(count):
            for arm, condition in CELL_INDEX:
                p = 1 / (
                    1 + np.exp(-(ability + (condition == "deploy") - 0.5 * (arm == "defended")))
                )
                rows.append(
                    {
                        "question_id": f"q{q:03d}",
                        "template_id": f"t{t}",
                        "subject": "s",
                        "condition": condition,
                        "arm": arm,
                        "correct": float(rng.random() < p) if not ragged else float(rng.random()),
                    }
                )
    return rows


def table_of(rows: list[dict[str, object]]):
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    source = SourceFile("mem.jsonl", data, ".jsonl", None)
    table, problems = build_table([source], FIELDS, FORMATS["canonical"])
    assert not problems, problems
    return table


def slow_bootstrap(rows, resamples: int, seed: int, confidence: float):
    """Resample question lists one by one and recompute every statistic from the items."""
    questions = sorted({r["question_id"] for r in rows})
    items = {q: [r for r in rows if r["question_id"] == q] for q in questions}
    rng = np.random.default_rng(seed)
    values = {name: [] for name in CONTRASTS}
    for _ in range(resamples):
        drawn = rng.integers(0, len(questions), size=len(questions))
        totals, counts = [0.0] * 4, [0] * 4
        for index in drawn:
            for row in items[questions[index]]:
                cell = CELL_INDEX[(row["arm"], row["condition"])]
                totals[cell] += row["correct"]
                counts[cell] += 1
        acc = [totals[c] / counts[c] for c in range(4)]
        for name, coef in CONTRASTS.items():
            values[name].append(sum(c * a for c, a in zip(coef, acc, strict=True)))
    alpha = 1 - confidence
    return {name: np.quantile(v, [alpha / 2, 1 - alpha / 2]) for name, v in values.items()}


def slow_estimates(rows):
    acc = []
    for cell in CELL_INDEX:
        scores = [r["correct"] for r in rows if (r["arm"], r["condition"]) == cell]
        acc.append(sum(scores) / len(scores))
    return {
        name: sum(c * a for c, a in zip(coef, acc, strict=True)) for name, coef in CONTRASTS.items()
    }


@pytest.mark.parametrize("ragged", [False, True], ids=["balanced", "ragged"])
def test_bootstrap_matches_slow_loop(ragged: bool) -> None:
    rows = make_rows(np.random.default_rng(1), clusters=12, templates=4, ragged=ragged)
    table = table_of(rows)
    result = bootstrap_contrasts(table.sums, table.counts, resamples=1000, seed=7)
    expected = slow_bootstrap(rows, 1000, 7, 0.95)
    estimates = slow_estimates(rows)
    for name in CONTRASTS:
        interval = result.intervals[name]
        assert interval.estimate == pytest.approx(estimates[name], abs=1e-12)
        assert interval.ci_low == pytest.approx(expected[name][0], abs=1e-12)
        assert interval.ci_high == pytest.approx(expected[name][1], abs=1e-12)


def test_multiplicities_do_not_depend_on_batching(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = cluster_multiplicities(7, 300, seed=3)
    monkeypatch.setattr("accompiler.stats.bootstrap._BATCH_ELEMENTS", 50)
    assert np.array_equal(whole, cluster_multiplicities(7, 300, seed=3))
    assert np.all(whole.sum(axis=1) == 7)


@pytest.mark.parametrize("threaded_from", [0, 1 << 62])
@pytest.mark.parametrize("batch", [1, 50, 1 << 17])
def test_draws_in_a_thread_are_the_same_draws(threaded_from, batch, monkeypatch) -> None:
    """Batches drawn ahead in a thread (large bootstraps) or inline (small ones): the same
    multiplicities, in the same order, whatever the batch size."""
    whole = cluster_multiplicities(11, 257, seed=5)
    monkeypatch.setattr("accompiler.stats.bootstrap._THREADED_DRAWS", threaded_from)
    monkeypatch.setattr("accompiler.stats.bootstrap._BATCH_ELEMENTS", batch)
    monkeypatch.setattr("accompiler.stats.bootstrap._MIN_BATCH_ROWS", 1)
    assert np.array_equal(cluster_multiplicities(11, 257, seed=5), whole)
    sums, counts = _sums("binary", 11, 6)
    numerators, denominators = resampled_totals(sums, counts, 257, 5)
    assert np.array_equal(numerators, whole @ sums)
    assert np.array_equal(denominators, whole @ counts)


def _sums(kind: str, clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    counts = np.repeat(rng.integers(1, 6, size=(clusters, 1)), 4, axis=1).astype(float)
    if kind == "binary":
        return rng.binomial(counts.astype(int), 0.6).astype(float), counts
    if kind == "halves":
        return np.round(counts * rng.random((clusters, 4)) * 2) / 2, counts
    sums = counts * rng.random((clusters, 4))  # fractional: partial credit, epoch means
    sums[0, 0], sums[1, 1] = 1e-300, 5e-324  # far apart in scale: many limbs
    return sums, counts


@pytest.mark.parametrize("kind", ["binary", "halves"])
@pytest.mark.parametrize("batch", [1, 50, 1 << 17])
def test_totals_in_batches_equal_the_whole_product(kind, batch, monkeypatch) -> None:
    """Integer and dyadic sums: exactly today's (B, clusters) product, whatever the batch."""
    sums, counts = _sums(kind, 37, 4)
    whole = cluster_multiplicities(37, 301, seed=9)
    monkeypatch.setattr("accompiler.stats.bootstrap._BATCH_ELEMENTS", batch)
    monkeypatch.setattr("accompiler.stats.bootstrap._MIN_BATCH_ROWS", 1)
    numerators, denominators = resampled_totals(sums, counts, 301, 9)
    assert np.array_equal(numerators, whole @ sums)
    assert np.array_equal(denominators, whole @ counts)


@pytest.mark.parametrize("batch", [1, 64, 1 << 17])
def test_fractional_totals_are_correctly_rounded(batch, monkeypatch) -> None:
    """Non-dyadic sums: each resampled total is the exact sum rounded once (so it does not
    depend on the batch size, the BLAS or its threads), checked with exact fractions."""
    from fractions import Fraction

    sums, counts = _sums("fraction", 23, 5)
    whole = cluster_multiplicities(23, 40, seed=2)
    monkeypatch.setattr("accompiler.stats.bootstrap._BATCH_ELEMENTS", batch)
    monkeypatch.setattr("accompiler.stats.bootstrap._MIN_BATCH_ROWS", 1)
    numerators, _ = resampled_totals(sums, counts, 40, 2)
    exact = [
        [
            float(sum(Fraction(int(w)) * Fraction(s) for w, s in zip(row, sums[:, k], strict=True)))
            for k in range(4)
        ]
        for row in whole
    ]
    assert numerators.tolist() == exact


def test_bootstrap_memory_does_not_grow_with_resamples_times_clusters() -> None:
    """20,000 clusters x 1,000 resamples: a (B, clusters) float64 matrix would be 160 MB."""
    import tracemalloc

    sums, counts = _sums("binary", 20_000, 1)
    tracemalloc.start()
    try:
        bootstrap_contrasts(sums, counts, resamples=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def slow_cluster_se(rows, coef):
    """Miller (2024): per-cluster sums of each item's contribution, CR1 factor G/(G-1)."""
    estimates = []
    counts = {
        cell: sum(1 for r in rows if (r["arm"], r["condition"]) == cell) for cell in CELL_INDEX
    }
    means = {
        cell: sum(r["correct"] for r in rows if (r["arm"], r["condition"]) == cell) / counts[cell]
        for cell in CELL_INDEX
    }
    questions = sorted({r["question_id"] for r in rows})
    for q in questions:
        z = 0.0
        for r in rows:
            if r["question_id"] == q:
                cell = (r["arm"], r["condition"])
                z += coef[CELL_INDEX[cell]] * (r["correct"] - means[cell]) / counts[cell]
        estimates.append(z)
    g = len(questions)
    return (g / (g - 1) * sum(z * z for z in estimates)) ** 0.5


def test_cluster_se_matches_slow_linearisation() -> None:
    rows = make_rows(np.random.default_rng(2), clusters=15, templates=3, ragged=True)
    table = table_of(rows)
    coefficients = np.array(list(CONTRASTS.values()), dtype=float)
    se = cluster_robust_se(table.sums, table.counts, coefficients)
    for k, coef in enumerate(CONTRASTS.values()):
        assert se[k] == pytest.approx(slow_cluster_se(rows, coef), rel=1e-12)


def test_balanced_design_se_is_the_paired_cluster_t_se() -> None:
    rows = make_rows(np.random.default_rng(3), clusters=20, templates=5)
    table = table_of(rows)
    result = bootstrap_contrasts(table.sums, table.counts, resamples=1000)
    per_cluster = (table.sums / table.counts) @ np.array(CONTRASTS["delta_gap"], dtype=float)
    expected = per_cluster.std(ddof=1) / np.sqrt(len(per_cluster))
    assert result.intervals["delta_gap"].se_cluster == pytest.approx(expected, rel=1e-12)
    from scipy import stats

    t = stats.t.ppf(0.975, 19)
    assert result.intervals["delta_gap"].t_high == pytest.approx(per_cluster.mean() + t * expected)


def test_mc_error_matches_the_spread_across_seeds() -> None:
    table = table_of(make_rows(np.random.default_rng(4), clusters=48, templates=5))
    highs = [
        bootstrap_contrasts(table.sums, table.counts, resamples=2000, seed=s)
        .intervals["delta_gap"]
        .ci_high
        for s in range(40)
    ]
    reported = bootstrap_contrasts(table.sums, table.counts, resamples=2000).intervals["delta_gap"]
    assert 0.5 < reported.mc_error_high / np.std(highs, ddof=1) < 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 1.0}, "`confidence` must be in"),
        ({"resamples": 0}, "`resamples` must be positive"),
    ],
)
def test_bootstrap_validates_arguments(kwargs, message) -> None:
    sums, counts = np.ones((3, 4)), np.ones((3, 4)) * 2
    with pytest.raises(ValueError, match=message):
        bootstrap_contrasts(sums, counts, **kwargs)


def test_bootstrap_validates_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        bootstrap_contrasts(np.ones((3, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="at least 2 clusters"):
        bootstrap_contrasts(np.ones((1, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="positive in every cell"):
        bootstrap_contrasts(np.ones((2, 4)), np.zeros((2, 4)))


# --- properties --------------------------------------------------------------------------

data_seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=25, deadline=None)
@given(data_seeds, st.integers(2, 12), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(seed: int, clusters: int, shuffler) -> None:
    rows = make_rows(np.random.default_rng(seed), clusters, 3, ragged=True)
    shuffled = list(rows)
    shuffler.shuffle(shuffled)
    a, b = table_of(rows), table_of(shuffled)
    ra = bootstrap_contrasts(a.sums, a.counts, resamples=1000)
    rb = bootstrap_contrasts(b.sums, b.counts, resamples=1000)
    assert ra == rb


@settings(max_examples=25, deadline=None)
@given(data_seeds, st.integers(2, 12))
def test_duplicating_every_cluster_keeps_point_estimates(seed: int, clusters: int) -> None:
    rows = make_rows(np.random.default_rng(seed), clusters, 3, ragged=True)
    doubled = rows + [dict(r, question_id=f"{r['question_id']}-copy") for r in rows]
    a, b = table_of(rows), table_of(doubled)
    ra = bootstrap_contrasts(a.sums, a.counts, resamples=1000)
    rb = bootstrap_contrasts(b.sums, b.counts, resamples=1000)
    for name in CONTRASTS:
        assert rb.intervals[name].estimate == pytest.approx(ra.intervals[name].estimate, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(data_seeds, st.integers(2, 12), st.integers(0, 2**31))
def test_identical_arms_give_zero_delta_with_ci_containing_zero(seed, clusters, boot_seed) -> None:
    rows = [
        r
        for r in make_rows(np.random.default_rng(seed), clusters, 3, ragged=True)
        if r["arm"] == "undefended"
    ]
    rows += [dict(r, arm="defended") for r in rows]
    table = table_of(rows)
    result = bootstrap_contrasts(table.sums, table.counts, resamples=1000, seed=boot_seed)
    for name in ("delta_gap", "delta_deploy"):
        interval = result.intervals[name]
        assert interval.estimate == 0
        assert interval.ci_low <= 0 <= interval.ci_high


@settings(max_examples=10, deadline=None)
@given(data_seeds, st.integers(0, 2**31))
def test_same_seed_same_result_and_shifting_contrasts(seed, boot_seed) -> None:
    table = table_of(make_rows(np.random.default_rng(seed), 6, 2))
    first = bootstrap_contrasts(table.sums, table.counts, resamples=1000, seed=boot_seed)
    again = bootstrap_contrasts(table.sums, table.counts, resamples=1000, seed=boot_seed)
    assert first == again
    gap = first.intervals["installed_gap"]
    assert gap.ci_low <= gap.ci_high


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 19, 47, 100, 1000, 100000])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995, 0.025])
def test_t_quantile_matches_scipy(df: int, p: float) -> None:
    from scipy import stats

    from accompiler.stats.tdist import t_quantile

    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_t_quantile_validates_arguments() -> None:
    from accompiler.stats.tdist import t_quantile

    with pytest.raises(ValueError, match="`p` must be in"):
        t_quantile(1.0, 3)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 80),
    st.integers(1, 4),
    st.integers(-12, 12),
    st.booleans(),
    st.booleans(),
    st.lists(st.floats(0, 1), min_size=1, max_size=4),
    st.integers(0, 2**31),
)
def test_percentiles_equal_numpy_quantile(
    rows: int, columns: int, exponent: int, ties: bool, nan: bool, levels, seed: int
) -> None:
    """stats.bootstrap.percentiles is numpy.quantile's default method bit for bit (zeros
    compared as equal: which zero sorts first is arbitrary), NaN columns included."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal((rows, columns)) * 10.0**exponent
    if ties:
        samples = np.round(samples / 10.0**exponent, 1)
    if nan:
        samples[rng.integers(0, rows), rng.integers(0, columns)] = np.nan
    levels = [*levels, 0.0, 1.0, 0.025, 0.975]
    ours = percentiles(np.sort(samples, axis=0), levels)
    assert np.array_equal(ours, np.quantile(samples, levels, axis=0), equal_nan=True)
    assert not np.signbit(ours[ours == 0]).any()
