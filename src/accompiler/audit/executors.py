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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


Executor = Callable[[list[dict[str, Any]], Started, Done], None]


@contextmanager
def open_executor(kind: str, jobs: int, scheduler: str | None) -> Iterator[Executor]:
    """The executor an audit runs its cells and then its figures on (one pool, one client).

    Raises:
        SpecError: the executor cannot be used (dask missing, no scheduler, unreachable).
    """
    if kind == "dask":
        if not scheduler:
            raise _problem("the dask executor needs --scheduler ADDRESS")
        with _dask_client(scheduler) as client:
            yield lambda work, started, done: run_dask(client, work, started, done)
    elif kind != "local":
        raise _problem(f"unknown executor `{kind}` (local or dask)")
    elif jobs > 1:
        with Pool(jobs) as pool:
            yield pool.run
    else:
        yield run_here


def run_here(jobs: list[dict[str, Any]], started: Started, done: Done) -> None:
    """Every job in this process, in order (`--jobs 1`)."""
    for index, job in enumerate(jobs):
        started(index, os.getpid())
        done(index, run(job))


class Pool:
    """Up to `size` worker processes, started as needed and kept for the next run."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[_Worker] = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *_exc: object) -> None:
        for worker in self.idle:
            worker.stop()
        self.idle = []

    def run(self, jobs: list[dict[str, Any]], started: Started, done: Done) -> None:
        """The jobs on the workers, each given the next job as it finishes one."""
        pending = deque(range(len(jobs)))
        attempts = [0] * len(jobs)
        while len(self.idle) < min(self.size, len(jobs)):
            self.idle.append(_Worker.start())
        busy: dict[int, tuple[_Worker, int]] = {}
        selector = selectors.DefaultSelector()
        try:
            while pending or busy:
                while self.idle and pending:
                    worker, index = self.idle.pop(), pending.popleft()
                    attempts[index] += 1
                    busy[worker.fd] = (worker, index)
                    selector.register(worker.fd, selectors.EVENT_READ)
                    worker.send(jobs[index])
                    started(index, worker.pid)
                for key, _events in selector.select():
                    selector.unregister(key.fd)
                    worker, index = busy.pop(key.fd)
                    self._finish(worker, index, jobs, attempts, pending, done)
        finally:
            selector.close()
            for worker, _index in busy.values():
                worker.stop()

    def _finish(
        self,
        worker: _Worker,
        index: int,
        jobs: list[dict[str, Any]],
        attempts: list[int],
        pending: deque[int],
        done: Done,
    ) -> None:
        """A worker's job is over: its result, or (it died) a retry or a crashed result."""
        result = worker.receive()
        if result is not None:
            self.idle.append(worker)
            done(index, result)
            return
        code = worker.stop()
        if attempts[index] < ATTEMPTS:
            pending.appendleft(index)
        else:
            done(index, _crashed(jobs[index], code))
        if pending:
            self.idle.append(_Worker.start())


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


@contextmanager
def _dask_client(scheduler: str) -> Iterator[Any]:
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
    with client:
        yield client


def run_dask(client: Any, jobs: list[dict[str, Any]], started: Started, done: Done) -> None:
    """The jobs on a dask.distributed cluster; its workers need accard and the files' paths.

    A task whose worker dies is rescheduled by the scheduler (its `allowed-failures`), then
    reported as crashed.
    """
    distributed: Any = importlib.import_module("distributed")
    token = secrets.token_hex(4)
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
