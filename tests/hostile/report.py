"""Run the whole hostile corpus and print what fails, grouped by cause (not run in CI).

    python tests/hostile/report.py [--jobs 2] [--only SUBSTRING] [--debug-exit3]

With --debug-exit3 every case that exits 3 is run again with `accard --debug` and the
last line of its traceback is shown (the raising frame and exception).
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hostile.build import Folder  # noqa: E402
from hostile.corpus import CASES  # noqa: E402
from hostile.harness import child_env, execute, run_command  # noqa: E402


def _run(index: int, debug: bool) -> tuple[int, str, float, float, list[str], str]:
    case = CASES[index]
    with tempfile.TemporaryDirectory(prefix="hostile-report-") as tmp:
        try:
            outcome, failures = execute(case, Path(tmp) / "root")
        except Exception as error:  # noqa: BLE001 - a broken case is reported, not fatal
            return index, "build error", 0.0, 0.0, [f"build error: {error!r}"], ""
        trace = ""
        if debug and outcome.returncode == 3:
            folder = Folder(Path(tmp) / "again")
            folder.case.mkdir(parents=True)
            folder.outside.mkdir(parents=True)
            case.build(folder)
            again = run_command(["--debug", *case.command], folder.case, env=child_env(case.env))
            frames = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', again.stderr)
            own = [f for f in frames if "accompiler" in f[0]]
            where = own[-1] if own else (frames[-1] if frames else ("?", "?", "?"))
            error = next(
                (
                    ln
                    for ln in reversed(again.stderr.splitlines())
                    if re.match(r"^[A-Za-z_][\w.]*(: |$)", ln)
                ),
                "",
            )
            trace = f"{Path(where[0]).name}:{where[1]} in {where[2]}: {error}"
    return index, outcome.summary, outcome.seconds, outcome.rss_mib, failures, trace


def cause(failures: list[str], trace: str) -> str:
    first = failures[0]
    if first.startswith("exit 3"):
        return "exit 3: " + (trace or first.removeprefix("exit 3: "))[:160]
    first = re.sub(r"\d+(\.\d+)? (s|MiB)", "N \\2", first)
    return first.split(";")[0][:160]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="")
    parser.add_argument("--debug-exit3", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    chosen = [i for i, c in enumerate(CASES) if args.only in c.name]
    start = time.monotonic()
    results = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for result in pool.map(_run, chosen, [args.debug_exit3] * len(chosen)):
            results.append(result)
            index, summary, seconds, rss, failures, _ = result
            mark = "FAIL" if failures else "ok  "
            print(
                f"{mark} {CASES[index].name:70s} {summary:14s} {seconds:5.1f}s {rss:6.0f}MiB",
                flush=True,
            )
            if args.verbose:
                for failure in failures:
                    print(f"       - {failure[:400]}")
    groups: dict[str, list[tuple[str, list[str]]]] = collections.defaultdict(list)
    for index, _summary, _seconds, _rss, failures, trace in results:
        if failures:
            groups[cause(failures, trace)].append((CASES[index].name, failures))
    failed = sum(bool(r[4]) for r in results)
    print(f"\n{failed} of {len(results)} cases fail ({time.monotonic() - start:.0f} s)\n")
    for key, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"## {key}  [{len(members)}]")
        for name, failures in members:
            print(f"   {name}")
            for extra in failures[1:]:
                print(f"      also: {extra[:150]}")
        print()


if __name__ == "__main__":
    main()
