"""Time accard's clustered paired bootstrap against the obvious alternatives, in one run.

On the example's held-out records (48 questions x 20 templates x 2 conditions x 2 arms),
B = 5,000, it times:
  accard   the vectorised question-clustered paired bootstrap (all four contrasts);
  loop     a Python loop over resamples with numpy inside, and the pure-Python loop
           (lists of rows per question) most people write first;
  scipy    scipy.stats.bootstrap over items, unclustered, paired, vectorised, percentile.
and prints the ratios and the three 95% intervals of delta_gap. The scipy interval ignores
the question clusters, so it is narrower than it should be.

    python benchmarks/bootstrap.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from accompiler.records import FORMATS, SourceFile, build_table
from accompiler.stats.bootstrap import CONTRASTS, bootstrap_contrasts

DATA = Path(__file__).resolve().parent.parent / "specs/example/data/safelora/heldout.jsonl"
FIELDS = {f: f for f in ("question_id", "template_id", "subject", "condition", "arm", "correct")}
CELLS = {
    ("undefended", "deploy"): 0,
    ("undefended", "eval"): 1,
    ("defended", "deploy"): 2,
    ("defended", "eval"): 3,
}
DELTA = np.array(CONTRASTS["delta_gap"], dtype=float)


def load() -> tuple[object, np.ndarray, np.ndarray, list[dict]]:
    data = DATA.read_bytes()
    table, problems = build_table(
        [SourceFile(str(DATA), data, ".jsonl", None)], FIELDS, FORMATS["canonical"]
    )
    assert table is not None, problems
    rows = [json.loads(line) for line in data.decode().splitlines()]
    questions = {q: i for i, q in enumerate(table.question_ids)}
    items: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        items.setdefault((row["question_id"], row["template_id"]), [0.0] * 4)[
            CELLS[(row["arm"], row["condition"])]
        ] = row["correct"]
    keys = sorted(items)
    paired = np.array([items[k] for k in keys])  # (items, 4): the four cells of one item
    cluster_of = np.array([questions[q] for q, _ in keys])
    return table, paired, cluster_of, rows


def loop_bootstrap(
    paired: np.ndarray, cluster_of: np.ndarray, resamples: int, seed: int
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clusters = cluster_of.max() + 1
    members = [np.flatnonzero(cluster_of == c) for c in range(clusters)]
    values = np.empty(resamples)
    for b in range(resamples):
        drawn = rng.integers(0, clusters, size=clusters)
        rows = paired[np.concatenate([members[c] for c in drawn])]
        values[b] = rows.mean(axis=0) @ DELTA
    return np.quantile(values, [0.025, 0.975])


def python_loop_bootstrap(rows: list[dict], resamples: int, seed: int) -> np.ndarray:
    """The version most people write first: lists of rows per question, a loop per draw."""
    by_question: dict[str, list[dict]] = {}
    for row in rows:
        by_question.setdefault(row["question_id"], []).append(row)
    questions = sorted(by_question)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        totals, counts = [0.0] * 4, [0] * 4
        for index in rng.integers(0, len(questions), size=len(questions)):
            for row in by_question[questions[index]]:
                cell = CELLS[(row["arm"], row["condition"])]
                totals[cell] += row["correct"]
                counts[cell] += 1
        acc = [t / c for t, c in zip(totals, counts, strict=True)]
        values.append(-acc[0] + acc[1] + acc[2] - acc[3])
    return np.quantile(values, [0.025, 0.975])


def scipy_bootstrap(
    paired: np.ndarray, resamples: int, seed: int, contrast: str = "delta_gap"
) -> tuple[float, float]:
    from scipy import stats

    weights = CONTRASTS[contrast]

    def statistic(a, b, c, d, axis=-1):
        return sum(w * x.mean(axis) for w, x in zip(weights, (a, b, c, d), strict=True))

    result = stats.bootstrap(
        tuple(paired.T),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        method="percentile",
        random_state=seed,
    )
    return result.confidence_interval.low, result.confidence_interval.high


def best_of(function, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    args = parser.parse_args()
    repeats = 3 if args.quick else 20
    resamples = 5000
    table, paired, cluster_of, rows = load()
    import scipy.stats  # noqa: F401 - import cost is not part of the timing

    t_accard, result = best_of(
        lambda: bootstrap_contrasts(table.sums, table.counts, resamples=resamples, seed=0), repeats
    )
    t_loop, loop_ci = best_of(
        lambda: loop_bootstrap(paired, cluster_of, resamples, 0), 1 if args.quick else 3
    )
    t_python, python_ci = best_of(lambda: python_loop_bootstrap(rows, resamples, 0), 1)
    t_scipy, scipy_ci = best_of(
        lambda: scipy_bootstrap(paired, resamples, 0), 1 if args.quick else 5
    )
    delta = result.intervals["delta_gap"]
    print(
        f"data: {len(table.question_ids)} question clusters, {int(table.counts.sum())} items, "
        f"B = {resamples}"
    )
    print(f"accard (clustered, paired, 4 contrasts) {t_accard * 1e3:8.2f} ms")
    print(
        f"loop, numpy per resample (clustered, 1) {t_loop * 1e3:8.2f} ms   "
        f"accard is {t_loop / t_accard:6.0f}x faster"
    )
    print(
        f"loop, pure Python (clustered, 1)        {t_python * 1e3:8.2f} ms   "
        f"accard is {t_python / t_accard:6.0f}x faster"
    )
    print(
        f"scipy.stats.bootstrap (unclustered, 1)  {t_scipy * 1e3:8.2f} ms   "
        f"accard is {t_scipy / t_accard:6.1f}x faster"
    )
    print("95% interval of delta_gap:")
    delta_width = delta.ci_high - delta.ci_low
    print(f"  accard  [{delta.ci_low:+.4f}, {delta.ci_high:+.4f}]  width {delta_width:.4f}")
    print(
        f"  loop    [{loop_ci[0]:+.4f}, {loop_ci[1]:+.4f}]  width {loop_ci[1] - loop_ci[0]:.4f}"
        "  (same draws: identical to accard)"
    )
    print(f"  python  [{python_ci[0]:+.4f}, {python_ci[1]:+.4f}]")
    width = scipy_ci[1] - scipy_ci[0]
    print(
        f"  scipy   [{scipy_ci[0]:+.4f}, {scipy_ci[1]:+.4f}]  width {width:.4f}"
        f"  ({width / (delta.ci_high - delta.ci_low):.0%} of the clustered width)"
    )
    gap = result.intervals["installed_gap"]
    gap_ci = scipy_bootstrap(paired, resamples, 0, "installed_gap")
    gap_width = gap_ci[1] - gap_ci[0]
    print("95% interval of the installed gap (templates of a question move together):")
    print(
        f"  accard  [{gap.ci_low:+.4f}, {gap.ci_high:+.4f}]  width {gap.ci_high - gap.ci_low:.4f}"
    )
    print(
        f"  scipy   [{gap_ci[0]:+.4f}, {gap_ci[1]:+.4f}]  width {gap_width:.4f}"
        f"  ({gap_width / (gap.ci_high - gap.ci_low):.0%} of the clustered width)"
    )


if __name__ == "__main__":
    main()
