"""Jobs -> results, in this process, in a pool of worker processes, or on a dask cluster.

Whatever the executor, a job is JSON text and so is its result (`cell.run_job_text`); results
are reported by job index as they finish, and the caller orders them. A pool worker that
dies while running a cell (killed, out of memory, a crash in native code) is replaced and
the cell retried once; a second death is reported as `crashed`.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from ..problems import Problem, SpecError
from ..span import Span
from .cell import CRASHED, failed, run_job, run_job_text

Started = Callable[[int, int], None]
"""(job index, worker pid) when a worker starts a job."""
Done = Callable[[int, dict[str, Any]], None]
"""(job index, result) when a job finishes."""
ATTEMPTS = 2


def run_here(jobs: list[dict[str, Any]], started: Started, done: Done) -> None:
    """Every job in this process, in order (`--jobs 1`)."""
    for index, job in enumerate(jobs):
        started(index, os.getpid())
        done(index, run_job(job))


def run_pool(jobs: list[dict[str, Any]], size: int, started: Started, done: Done) -> None:
    """The jobs on `size` worker processes (forked from a server that preloaded accard)."""
    context = _context()
    pending = deque(range(len(jobs)))
    attempts = [0] * len(jobs)
    idle = [_Worker.start(context) for _ in range(min(size, len(jobs)))]
    busy: dict[_Worker, int] = {}
    try:
        while pending or busy:
            while idle and pending:
                worker, index = idle.pop(), pending.popleft()
                attempts[index] += 1
                worker.send(jobs[index])
                busy[worker] = index
                started(index, worker.pid)
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in [w for w in busy if {w.conn, w.process.sentinel} & ready]:
                index = busy.pop(worker)
                result = worker.receive()
                if result is not None:
                    done(index, result)
                    idle.append(worker)
                    continue
                worker.stop()
                if attempts[index] < ATTEMPTS:
                    pending.appendleft(index)
                else:
                    done(index, _crashed(jobs[index], worker.exitcode))
                if pending:
                    idle.append(_Worker.start(context))
    finally:
        for worker in [*idle, *busy]:
            worker.stop()


def _context() -> Any:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["accompiler.audit.cell"])
    return context


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection

    @classmethod
    def start(cls, context: Any) -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        return cls(process, ours)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    @property
    def exitcode(self) -> int | None:
        self.process.join(5)
        return self.process.exitcode  # type: ignore[no-any-return]

    def send(self, job: dict[str, Any]) -> None:
        self.conn.send_bytes(json.dumps(job).encode("utf-8"))

    def receive(self) -> dict[str, Any] | None:
        """The job's result, or None when the worker died running it."""
        try:
            return json.loads(self.conn.recv_bytes())  # type: ignore[no-any-return]
        except (EOFError, OSError):
            return None

    def stop(self) -> None:
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def serve(conn: Connection) -> None:
    """A pool worker: run each job it receives until the pipe closes."""
    while True:
        try:
            text = conn.recv_bytes().decode("utf-8")
        except EOFError:
            return
        conn.send_bytes(run_job_text(text).encode("utf-8"))


def _crashed(job: dict[str, Any], exitcode: int | None) -> dict[str, Any]:
    how = f"was killed by signal {-exitcode}" if exitcode and exitcode < 0 else "died"
    summary = f"the worker running this cell {how}, twice (exit code {exitcode})"
    problem = Problem(summary, None, "a crash in native code, or the memory ran out")
    return failed(job["cell"]["name"], [problem], summary + "\n", status=CRASHED)


def run_dask(jobs: list[dict[str, Any]], scheduler: str, started: Started, done: Done) -> None:
    """The jobs on a dask.distributed cluster; its workers need accard and the files' paths.

    A task whose worker dies is rescheduled by the scheduler (its `allowed-failures`), then
    reported as crashed.
    """
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise _problem(
            "the dask executor needs dask.distributed: pip install 'accard[dask]'"
        ) from None
    try:
        client = distributed.Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise _problem(f"cannot reach the dask scheduler at {scheduler}: {error}") from None
    token = secrets.token_hex(4)
    with client:
        futures = {
            client.submit(run_job_text, json.dumps(job), key=f"accard-{token}-{i}", pure=False): i
            for i, job in enumerate(jobs)
        }
        for future in distributed.as_completed(futures):
            index = futures[future]
            try:
                result = json.loads(future.result())
            except Exception as error:  # noqa: BLE001 - KilledWorker and its kin
                problem = Problem(f"the cell's task failed on the cluster: {error}")
                result = failed(
                    jobs[index]["cell"]["name"], [problem], f"{error}\n", status=CRASHED
                )
            done(index, result)


def _problem(summary: str) -> SpecError:
    return SpecError([Problem(summary, Span("--scheduler", 0))])
