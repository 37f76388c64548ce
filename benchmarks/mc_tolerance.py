"""How far do a card's interval bounds move, in Monte-Carlo errors, when the card is
recomputed with another seed or another B? This is the measurement behind the default of
`accard reproduce --tolerance mc` (a bound may move 4 MC errors).

For every example claim (specs/example and examples/installed_gap/example) it recomputes
the card at seeds 1, 2, 3, 7, 11, at B = 10,000, and at seed 5 with B = 20,000, and for
every interval bound prints the distribution of |moved| / MC error, the error being the
one `reproduce` uses: sqrt(e_card^2 + e_recomputed^2), at least the interval's largest MC
error in either card (a bound on a lattice point of discrete data reports 0).

    python benchmarks/mc_tolerance.py
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accompiler import check
from accompiler.card.comparison import _lattice, _mc

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs" / "example").glob("*.ac")) + sorted(
    (ROOT / "examples" / "installed_gap" / "example").glob("*/claim.ac")
)
RECOMPUTATIONS: list[dict[str, Any]] = [
    {"seed": 1},
    {"seed": 2},
    {"seed": 3},
    {"seed": 7},
    {"seed": 11},
    {"resamples": 10000},
    {"seed": 5, "resamples": 20000},
]


def intervals(value: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if "mc_error" in value and "ci_low" in value:
            yield path, value
            return
        for key, child in value.items():
            yield from intervals(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from intervals(child, f"{path}[{index}]")


def multiples(spec: Path) -> list[float]:
    base = dict(intervals(check(spec).document))
    found = []
    for overrides in RECOMPUTATIONS:
        other = dict(intervals(check(spec, overrides=overrides).document))
        for path, mine in base.items():
            theirs = other[path]
            for key in ("ci_low", "ci_high"):
                moved = abs(mine[key] - theirs[key])
                error = max(math.hypot(_mc(mine, key), _mc(theirs, key)), _lattice(mine, theirs))
                found.append(0.0 if moved <= 1e-12 else moved / error if error else math.inf)
    return found


def main() -> None:
    found = sorted(m for spec in SPECS for m in multiples(spec))
    count = len(found)
    print(f"{len(SPECS)} claims x {len(RECOMPUTATIONS)} recomputations: {count} bounds")
    print(f"moved at all: {sum(m > 0 for m in found)}")
    for q in (0.5, 0.9, 0.99, 0.999):
        print(
            f"  {q:>5} quantile of |moved| / MC error: {found[min(count - 1, int(q * count))]:.2f}"
        )
    beyond = {k: sum(m > k for m in found) for k in (3, 4)}
    print(f"  max {found[-1]:.2f}; beyond 3: {beyond[3]}; beyond 4: {beyond[4]}")


if __name__ == "__main__":
    main()
