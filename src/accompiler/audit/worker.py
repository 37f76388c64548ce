"""A job -> its result, in any process; and the loop of a pool worker (pool_worker.py).

A job is JSON: a cell to check (`kind` "cell") or a figure to draw ("figure"). A pool
worker reads jobs from stdin and writes results to its original stdout, each message an
8-byte big-endian length and that many bytes of UTF-8 JSON; whatever else the process
prints goes to stderr. Nothing is pickled, in either direction.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

HEADER = 8


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job of either kind."""
    if job["kind"] == "figure":
        from .plots import run_figure

        return run_figure(job)
    from .cell import run_cell

    return run_cell(job)


def run_text(text: str) -> str:
    """JSON in, JSON out: the entry point of pool and dask workers."""
    return json.dumps(run(json.loads(text)), ensure_ascii=False)


def write_message(stream: IO[bytes], text: str) -> None:
    data = text.encode("utf-8")
    stream.write(len(data).to_bytes(HEADER, "big") + data)
    stream.flush()


def read_message(stream: IO[bytes]) -> str | None:
    """The next message, or None at the end of the stream (the other side is gone)."""
    header = _read_exactly(stream, HEADER)
    if header is None:
        return None
    data = _read_exactly(stream, int.from_bytes(header, "big"))
    return None if data is None else data.decode("utf-8")


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main() -> None:
    """Serve jobs until stdin closes."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    while (text := read_message(sys.stdin.buffer)) is not None:
        write_message(results, run_text(text))
