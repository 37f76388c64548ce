"""Run a command as a measured child: wall time and peak RSS of that process alone.

Linux seeds a process's ru_maxrss with the RSS of the process it was forked from (the page
tables a fork copies count until exec; a vfork child even inherits the parent's peak). A
benchmark parent that holds a generated data set would inflate every child's peak by its
own size. So the command is forked from a small launcher (`python -S`, ~9 MB), which sets
the address-space limit, execs the command, waits for it with os.wait4 and reports.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = r"""
import os, resource, sys, time
out, limit, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as handle:
    cpu = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    handle.write("%r %r %d %d" % (wall, cpu, usage.ru_maxrss * 1024, code))
"""


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds: less sensitive than wall to other load on the machine
    rss: int
    returncode: int
    stdout: bytes
    stderr: str


def run_measured(command: list[str], mem_limit: int, cwd: Path | None = None) -> Run:
    """Run `command` under RLIMIT_AS `mem_limit` bytes; its wall and CPU time, peak RSS and
    output."""
    with (
        tempfile.NamedTemporaryFile(mode="r") as report,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        launcher = [sys.executable, "-S", "-c", LAUNCHER, report.name, str(mem_limit)]
        subprocess.run(launcher + command, stdout=out, stderr=err, cwd=cwd, check=True)
        wall, cpu, rss, returncode = report.read().split()
        out.seek(0)
        err.seek(0)
        return Run(
            float(wall), float(cpu), int(rss), int(returncode), out.read(), err.read().decode()
        )
