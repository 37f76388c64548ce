"""Run many mutated specs through accard in parallel worker processes (not run in CI).

    python tests/hostile/fuzz_many.py --count 200000 --jobs 2
    python tests/hostile/fuzz_many.py --show 4711        # the bytes of mutant 4711

Each worker is a process of its own (RLIMIT_AS 2 GiB, its own copy of specs/example) that
runs mutants in-process (tests/hostile/mutate.py) with a soft per-mutant timeout. The parent
hands out one mutant at a time, so a worker that dies on a signal or hangs past the hard
timeout is killed and replaced and its mutant counted as `signal`/`timeout`. Printed at the
end: counts by outcome (exit 0/1/2/3, crash = an exception escaping the CLI, timeout,
signal) and every distinct cause of exit 3 and crash, with a count and an example mutant.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import tempfile
import time
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hostile.mutate import mutate, run_mutant, workspace  # noqa: E402

MEMORY = 2 << 30


def _worker(connection: Connection, soft_timeout: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="fuzz-many-") as tmp:
        folder = workspace(Path(tmp))
        while True:
            number = connection.recv()
            if number is None:
                return
            try:
                result = run_mutant(mutate(number), folder, soft_timeout)
                connection.send((number, result.outcome, result.cause))
            except MemoryError:
                connection.send((number, "crash", "MemoryError (outside accard's guard)"))


class Pool:
    def __init__(self, jobs: int, soft: float, hard: float) -> None:
        self.soft, self.hard = soft, hard
        self.workers: list[tuple[Process, Connection]] = [self._spawn() for _ in range(jobs)]
        self.busy: dict[int, tuple[int, float]] = {}

    def _spawn(self) -> tuple[Process, Connection]:
        parent, child = Pipe()
        process = Process(target=_worker, args=(child, self.soft), daemon=True)
        process.start()
        return process, parent

    def _replace(self, index: int) -> None:
        process, connection = self.workers[index]
        if process.is_alive():
            process.kill()
        process.join()
        connection.close()
        self.workers[index] = self._spawn()

    def run(self, numbers: range, record) -> None:
        todo = iter(numbers)
        exhausted = False
        while True:
            for index, (_process, connection) in enumerate(self.workers):
                if index not in self.busy and not exhausted:
                    number = next(todo, None)
                    if number is None:
                        exhausted = True
                        break
                    connection.send(number)
                    self.busy[index] = (number, time.monotonic())
            if not self.busy:
                break
            ready = wait(
                [c for i, (_p, c) in enumerate(self.workers) if i in self.busy], timeout=1.0
            )
            for index, (process, connection) in enumerate(self.workers):
                if index not in self.busy:
                    continue
                number, started = self.busy[index]
                if connection in ready:
                    try:
                        record(*connection.recv())
                        del self.busy[index]
                        continue
                    except EOFError:
                        pass
                if not process.is_alive() or connection in ready:
                    process.join()
                    code = process.exitcode
                    record(number, "signal", f"worker died ({code})")
                    del self.busy[index]
                    self._replace(index)
                elif time.monotonic() - started > self.hard:
                    record(number, "timeout", f"no answer in {self.hard:.0f} s")
                    del self.busy[index]
                    self._replace(index)
        for _process, connection in self.workers:
            connection.send(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--soft-timeout", type=float, default=10.0)
    parser.add_argument("--hard-timeout", type=float, default=60.0)
    parser.add_argument("--show", type=int, help="print mutant N and exit")
    args = parser.parse_args()
    if args.show is not None:
        print(mutate(args.show).reproducer())
        return
    counts: collections.Counter[str] = collections.Counter()
    causes: dict[str, list[int]] = collections.defaultdict(list)
    start = time.monotonic()
    done = 0

    def record(number: int, outcome: str, cause: str) -> None:
        nonlocal done
        done += 1
        counts[outcome] += 1
        if outcome in ("exit3", "crash", "timeout", "signal"):
            causes[f"{outcome}: {cause}"].append(number)
        if done % 5000 == 0:
            rate = done / (time.monotonic() - start)
            print(f"{done} mutants, {rate:.0f}/s: {dict(counts)}", flush=True)

    Pool(args.jobs, args.soft_timeout, args.hard_timeout).run(
        range(args.start, args.start + args.count), record
    )
    elapsed = time.monotonic() - start
    print(f"\n{done} mutants in {elapsed:.0f} s ({done / elapsed:.0f}/s), {args.jobs} workers")
    for outcome in ("exit0", "exit1", "exit2", "exit3", "crash", "timeout", "signal"):
        print(f"  {outcome:8s} {counts[outcome]:8d}")
    print(f"\n{len(causes)} distinct causes of exit 3 / crash / timeout / signal:")
    for cause, numbers in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(numbers):7d}  {cause}   (e.g. --show {numbers[0]})")


if __name__ == "__main__":
    main()
