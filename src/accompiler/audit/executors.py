"""Jobs -> results, in this process, on a pool of worker processes, or on a dask cluster.

Whatever the executor, a job is JSON text and so is its result (worker.run_text); results
are reported by job index as they finish, and the caller puts them in order. A pool worker
is `python -m accompiler.audit.pool_worker` (a fresh interpreter: nothing of the caller's
process, its threads or its `__main__`, is inherited or re-run). One that dies while
running a job (killed, out of memory, a crash in native code) is replaced and the job
retried once; a second death is reported as `crashed`.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import selectors
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..problems import Problem, SpecError
from ..span import Span
from .cell import CRASHED, failed
from .worker import read_message, run, run_text, write_message

Started = Callable[[int, int], None]
"""(job index, worker pid) when a worker starts a job."""
Done = Callable[[int, dict[str, Any]], None]
"""(job index, result) when a job finishes."""
ATTEMPTS = 2


def run_here(jobs: list[dict[str, Any]], started: Started, done: Done) -> None:
    """Every job in this process, in order (`--jobs 1`)."""
    for index, job in enumerate(jobs):
        started(index, os.getpid())
        done(index, run(job))


def run_pool(jobs: list[dict[str, Any]], size: int, started: Started, done: Done) -> None:
    """The jobs on `size` worker processes, each given the next job as it finishes one."""
    pending = deque(range(len(jobs)))
    attempts = [0] * len(jobs)
    idle = [_Worker.start() for _ in range(min(size, len(jobs)))]
    busy: dict[int, tuple[_Worker, int]] = {}
    selector = selectors.DefaultSelector()
    try:
        while pending or busy:
            while idle and pending:
                worker, index = idle.pop(), pending.popleft()
                attempts[index] += 1
                busy[worker.fd] = (worker, index)
                selector.register(worker.fd, selectors.EVENT_READ)
                worker.send(jobs[index])
                started(index, worker.pid)
            for key, _events in selector.select():
                selector.unregister(key.fd)
                worker, index = busy.pop(key.fd)
                result = worker.receive()
                if result is not None:
                    done(index, result)
                    idle.append(worker)
                    continue
                code = worker.stop()
                if attempts[index] < ATTEMPTS:
                    pending.appendleft(index)
                else:
                    done(index, _crashed(jobs[index], code))
                if pending:
                    idle.append(_Worker.start())
    finally:
        selector.close()
        for worker in [*idle, *(w for w, _ in busy.values())]:
            worker.stop()


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls) -> _Worker:
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        process = subprocess.Popen(
            [sys.executable, "-m", "accompiler.audit.pool_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def fd(self) -> int:
        assert self.process.stdout is not None
        return self.process.stdout.fileno()

    def send(self, job: dict[str, Any]) -> None:
        """Hand over a job; a worker already dead shows as end of stream when read."""
        assert self.process.stdin is not None
        try:
            write_message(self.process.stdin, json.dumps(job))
        except (BrokenPipeError, OSError):
            pass

    def receive(self) -> dict[str, Any] | None:
        """The job's result, or None when the worker died running it."""
        assert self.process.stdout is not None
        text = read_message(self.process.stdout)
        return None if text is None else dict(json.loads(text))

    def stop(self) -> int | None:
        """End the worker (closing its stdin ends its loop); its exit code."""
        assert self.process.stdin is not None and self.process.stdout is not None
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _crashed(job: dict[str, Any], code: int | None) -> dict[str, Any]:
    how = f"was killed by signal {-code}" if code is not None and code < 0 else "died"
    summary = f"the worker running this cell {how}, twice (exit code {code})"
    problem = Problem(summary, None, "a crash in native code, or the memory ran out")
    return failed(_name(job), [problem], summary + "\n", status=CRASHED)


def _name(job: dict[str, Any]) -> str:
    return str(job["cell"]["name"]) if job["kind"] == "cell" else f"figure {job['figure']}"


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
            client.submit(run_text, json.dumps(job), key=f"accard-{token}-{i}", pure=False): i
            for i, job in enumerate(jobs)
        }
        for future in distributed.as_completed(futures, loop=client.loop):
            index = futures[future]
            try:
                result = json.loads(future.result())
            except Exception as error:  # noqa: BLE001 - KilledWorker and its kin
                problem = Problem(f"the task failed on the cluster: {error}")
                result = failed(_name(jobs[index]), [problem], f"{error}\n", status=CRASHED)
            done(index, result)


def _problem(summary: str) -> SpecError:
    return SpecError([Problem(summary, Span("--scheduler", 0))])
