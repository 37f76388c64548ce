"""Fuzz: 2,000 seeded mutants of the example specs (.ac and .yaml) through accard in-process.

Mutations: bit flips, raw bytes (NUL, invalid UTF-8, BOM, CR, U+2028...), token swaps and
replacements (keywords, huge numbers, NaN, YAML tags and aliases, lone surrogate escapes),
NUL / surrogates / control characters / very long text inside strings, backslashed and
over-long paths, 5000-digit numbers, deep nesting, duplicated blocks, deleted spans. Every
mutant must end in exit 0, 1 or 2: an exit 3, an uncaught exception or a run over its
time limit fails and prints the mutant's bytes. `tests/hostile/fuzz_many.py` runs the same
mutants by the hundred thousand, outside CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hostile.mutate import mutate, run_mutant, workspace

CASES = 2000
CHUNKS = 8


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_specs_never_crash(chunk: int, tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    failures = []
    for number in range(chunk, CASES, CHUNKS):
        mutant = mutate(number)
        result = run_mutant(mutant, folder, timeout=10.0)
        if result.outcome in ("exit3", "crash", "timeout"):
            failures.append(f"{result.outcome}: {result.cause}\n  {mutant.reproducer()[:600]}")
    assert not failures, f"{len(failures)} of {CASES // CHUNKS} mutants failed:\n" + "\n".join(
        failures[:10]
    )


def test_mutants_are_reproducible() -> None:
    assert mutate(123) == mutate(123)
    assert {mutate(i).seed_name for i in range(16)} == {
        p.name
        for p in (Path(__file__).parent.parent / "specs" / "example").iterdir()
        if p.suffix in (".ac", ".yaml")
    }
