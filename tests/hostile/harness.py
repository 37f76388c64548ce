"""Run one hostile case through the command line, under limits, and judge the outcome.

Each case runs in its own `python -m accompiler` process (so a crash cannot mask another
case) with RLIMIT_AS, no core files, a wall-clock timeout and its own process group; its
peak resident memory comes from wait4. The judgment is a list of failures, empty when the
case behaved: the expected exit code, a located problem on exit 2 (message, file,
line/row/member, field, all in one problem), nothing written on exit 2 (no card, no
temporary file, nothing changed), no file outside the spec's folder read, and no
forbidden text (an outside secret or its sha256) in the output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .build import SECRET, Folder

MEMORY_LIMIT = 2 << 30
"""RLIMIT_AS of every case (address space, so it also bounds what mmap can map)."""
TIMEOUT = 20.0
"""Seconds a case may run: a legitimate case here finishes in about 0.5-2 s."""
RSS_BUDGET_MIB = 1024
"""Peak resident memory a case may reach unless it declares a budget of its own."""
OUTPUT_CAP = 1 << 20

COMMANDS = ("check", "plan", "validate", "show", "diff", "convert", "fmt", "reproduce")
READERS = (
    "spec",
    "jsonl",
    "csv",
    "parquet",
    "lm_eval",
    "inspect_eval",
    "inspect_json",
    "adapter_config",
    "safetensors",
    "bin",
    "weights",
    "card",
    "output",
)


@dataclass(frozen=True)
class Where:
    """Where the problem must point. `file` is as accard displays it (relative to the spec's
    folder, or the spec/card path as given); a trailing `/` accepts any file below it.
    `line` is a spec/JSONL/CSV line or a Parquet row; `member` an .eval member, an inspect
    .json sample (`samples[3]`) or a card's JSON path; `field` a spec field, record field,
    config key or tensor name."""

    file: str
    line: int | None = None
    member: str | None = None
    field: str | None = None

    def describe(self) -> str:
        spot = f":{self.line}" if self.line else f"#{self.member}" if self.member else ""
        return f"{self.file}{spot}" + (f" [{self.field}]" if self.field else "")


@dataclass(frozen=True)
class Case:
    """One hostile input and what a careful reviewer expects accard to do with it."""

    name: str
    category: str
    reader: str
    command: tuple[str, ...]
    build: Callable[[Folder], None]
    exit: tuple[int, ...] = (2,)
    message: str | None = None
    """A regex the problem must match (case-insensitive); None accepts any problem text."""
    where: Where | None = None
    forbid: tuple[str, ...] = ()
    """Text that must not appear on stdout or stderr (outside secrets, their sha256)."""
    rss_mib: int = RSS_BUDGET_MIB
    creates: tuple[str, ...] = ()
    """Files an accepted run (exit 0/1) must write (create or rewrite), e.g. the card;
    nothing else may appear or change."""
    note: str = ""
    """Why this is the expectation, where it is a judgment call."""
    env: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        assert self.command[0] in COMMANDS, self.command
        assert self.reader in READERS, self.reader
        assert self.exit == (2,) or set(self.exit) <= {0, 1}, self.exit
        if self.exit == (2,):
            assert self.where is not None, f"{self.name}: a problem must be located"


@dataclass
class Outcome:
    returncode: int | None
    """The exit code, -N for a signal, None on timeout."""
    stdout: str
    stderr: str
    seconds: float
    rss_mib: float

    @property
    def summary(self) -> str:
        if self.returncode is None:
            return "timeout"
        if self.returncode < 0:
            return f"signal {signal.Signals(-self.returncode).name}"
        return f"exit {self.returncode}"


LAUNCHER = (
    "import os, resource, sys\n"
    "limits = eval(sys.argv[1])\n"
    "os.setsid()\n"
    "for name, value in limits.items():\n"
    "    resource.setrlimit(getattr(resource, name), (value, value))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'accompiler', *sys.argv[2:]])\n"
)
"""Applies the limits in a fresh interpreter that then execs accard: a child forked with a
preexec_fn would carry the (large) test process's resident pages until exec, and wait4's
peak RSS would count them."""


def child_env(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HOSTILE_ENV_SECRET": SECRET,
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra)
    return env


def spawn(
    args: list[str],
    cwd: Path,
    stdout: int | object = subprocess.DEVNULL,
    stderr: int | object = subprocess.DEVNULL,
    memory: int = MEMORY_LIMIT,
    env: dict[str, str] | None = None,
    limits: dict[str, int] | None = None,
) -> subprocess.Popen:
    """Start `python -m accompiler *args` in its own session, with RLIMIT_AS = `memory`, no
    core files, and any further `limits` ({"RLIMIT_FSIZE": 4096})."""
    chosen = {"RLIMIT_AS": memory, "RLIMIT_CORE": 0} | (limits or {})
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, repr(chosen), *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=env or child_env(),
    )


def run_command(
    args: list[str],
    cwd: Path,
    timeout: float = TIMEOUT,
    memory: int = MEMORY_LIMIT,
    env: dict[str, str] | None = None,
    limits: dict[str, int] | None = None,
) -> Outcome:
    """`python -m accompiler *args` in `cwd`, limited; output goes through files (a pipe
    could fill and stall the child), read back at most OUTPUT_CAP bytes each."""
    with tempfile.TemporaryDirectory(prefix="hostile-out-") as spool:
        out_path, err_path = Path(spool, "stdout"), Path(spool, "stderr")
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = spawn(args, cwd, out, err, memory, env, limits)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        try:  # anything the case left running in its group
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        seconds = time.monotonic() - start
        code = None if timed_out.is_set() else process.returncode
        return Outcome(
            code,
            _read_capped(out_path),
            _read_capped(err_path),
            seconds,
            usage.ru_maxrss / 1024,
        )


def _read_capped(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(OUTPUT_CAP).decode("utf-8", "backslashreplace")


# --- a fork server: one interpreter imports accard, every case runs in a fork of it --------

ZYGOTE = r"""
import json, os, resource, select, signal, sys, time

import accompiler.cli, accompiler.claim, accompiler.plan, accompiler.run, accompiler.card
import accompiler.render, accompiler.diff, accompiler.claim.emit, accompiler.records
import accompiler.adapters, accompiler.stats.bootstrap, accompiler.diagnostics

requests = os.fdopen(int(sys.argv[1]), "r")
replies = os.fdopen(int(sys.argv[2]), "w")


def wait(pid, timeout):
    start = time.monotonic()
    timed_out = False
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    while True:
        if fd is not None:
            left = max(0.0, timeout - (time.monotonic() - start))
            select.select([fd], [], [], left)
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > timeout and not timed_out:
            timed_out = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if fd is None:
            time.sleep(0.002)
    if fd is not None:
        os.close(fd)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return {
        "code": os.waitstatus_to_exitcode(status),
        "timed_out": timed_out,
        "seconds": time.monotonic() - start,
        "rss_kib": usage.ru_maxrss,
    }


def serve():
    for line in requests:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return job
        replies.write(json.dumps(wait(pid, job["timeout"])) + "\n")
        replies.flush()
    sys.exit(0)


job = serve()
requests.close()
replies.close()
os.setsid()
for name, value in job["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.chdir(job["cwd"])
os.environ.clear()
os.environ.update(job["env"])
for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                        (1, job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                        (2, job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
    opened = os.open(path, flags, 0o600)
    os.dup2(opened, fd)
    os.close(opened)
sys.argv = ["accard", *job["args"]]
import runpy

runpy.run_module("accompiler", run_name="__main__", alter_sys=True)
"""
"""The case runs in a child forked from an interpreter that has imported accard (0.4 s of
imports saved per case), leaves the serving loop and runs `python -m accompiler` at top
level, so it exits like a fresh interpreter (atexit, finalisation, exit code). It gets its
own session, limits, folder, environment and standard streams; the server only waits."""


class ForkServer:
    """One server per test process; restarted if it dies."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def _start(self) -> None:
        request_read, self.request = os.pipe()
        self.reply, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, str(request_read), str(reply_write)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=child_env(),
            pass_fds=(request_read, reply_write),
        )
        os.close(request_read)
        os.close(reply_write)
        self.requests = os.fdopen(self.request, "w")
        self.replies = os.fdopen(self.reply, "r")

    def run(
        self,
        args: list[str],
        cwd: Path,
        timeout: float = TIMEOUT,
        memory: int = MEMORY_LIMIT,
        env: dict[str, str] | None = None,
        limits: dict[str, int] | None = None,
    ) -> Outcome:
        if self.process is None or self.process.poll() is not None:
            self._start()
        with tempfile.TemporaryDirectory(prefix="hostile-out-") as spool:
            out_path, err_path = Path(spool, "stdout"), Path(spool, "stderr")
            job = {
                "args": args,
                "cwd": str(cwd),
                "env": env or child_env(),
                "limits": {"RLIMIT_AS": memory, "RLIMIT_CORE": 0} | (limits or {}),
                "stdout": str(out_path),
                "stderr": str(err_path),
                "timeout": timeout,
            }
            self.requests.write(json.dumps(job) + "\n")
            self.requests.flush()
            line = self.replies.readline()
            if not line:
                self.process = None
                raise RuntimeError("the fork server died")
            reply = json.loads(line)
            return Outcome(
                None if reply["timed_out"] else reply["code"],
                _read_capped(out_path) if out_path.exists() else "",
                _read_capped(err_path) if err_path.exists() else "",
                reply["seconds"],
                reply["rss_kib"] / 1024,
            )


_SERVER = ForkServer()


# --- the folder before and after ---------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root, without following symlinks: kind, size, mtime, mode, link
    target. Directory timestamps are left out (a temporary file created and removed again
    is not something left behind)."""
    entries: dict[str, tuple] = {}
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            relative = os.path.relpath(path, root)
            kind = stat.S_IFMT(info.st_mode)
            if stat.S_ISDIR(info.st_mode):
                entries[relative] = (kind,)
            elif stat.S_ISLNK(info.st_mode):
                entries[relative] = (kind, os.readlink(path))
            else:
                entries[relative] = (kind, info.st_size, info.st_mtime_ns, info.st_mode)
    return entries


def arm_outside_reads(outside: Path) -> dict[str, int]:
    """Set each outside file's access time an hour before its modification time; under
    relatime (and strictatime) any read then moves it. Returns the armed access times."""
    armed = {}
    if not outside.exists():
        return armed
    for directory, _dirnames, filenames in os.walk(outside, followlinks=False):
        for name in filenames:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue
            atime = info.st_mtime_ns - 3600 * 10**9
            os.utime(path, ns=(atime, info.st_mtime_ns), follow_symlinks=False)
            armed[path] = atime
    return armed


def outside_reads(armed: dict[str, int]) -> list[str]:
    return [
        os.path.basename(path)
        for path, atime in armed.items()
        if os.lstat(path).st_atime_ns != atime
    ]


# --- judging -----------------------------------------------------------------------------------


def _problems(stderr: str) -> list[tuple[str, str, str]]:
    """(where, what, field) of each problem accard printed.

    A rendered problem is a paragraph: `error: summary`, `--> file:line:col`, the quoted
    source, `= field: ...`, `= help: ...`. Its location may be in the summary or the `-->`
    line (never in the help, which may cite another place, e.g. "first seen at ...");
    what it says is the summary and the help. `validate` prints one `file: $.path: message`
    a line; such a line is a problem of its own.
    """
    problems = []
    blocks = re.split(r"\n\s*\n|\n(?=(?:error|warning|note): )", stderr)
    for block in blocks:
        lines = [ln for ln in block.splitlines() if ln.strip() and not re.match(r"\s*\d*\s*\|", ln)]
        if not lines:
            continue
        summary = lines[0]
        arrows = [ln for ln in lines[1:] if ln.lstrip().startswith("-->")]
        fields = [ln for ln in lines[1:] if ln.lstrip().startswith("= field:")]
        helps = [ln for ln in lines[1:] if ln not in arrows and ln not in fields]
        problems.append(
            (
                "\n".join([summary] + arrows),
                "\n".join([summary] + helps),
                "\n".join([summary] + fields),
            )
        )
        if len(lines) > 1 and not arrows and not fields:
            problems += [(ln, ln, ln) for ln in lines]
    return problems


def _location_pattern(where: Where) -> re.Pattern[str]:
    if where.file.endswith("/"):  # a folder: itself or anything below it
        file = re.escape(where.file[:-1]) + r"(?:/|(?![\w.\\-]))"
    else:
        file = re.escape(where.file) + r"(?![\w./\\-])"
    if where.line is not None:
        file = re.escape(where.file) + rf":{where.line}(?!\d)"
    elif where.member is not None:
        file = re.escape(where.file) + r"\s*#\s*" + re.escape(where.member) + r"(?![\w.\[\]])"
    return re.compile(file)


def located(stderr: str, message: str | None, where: Where) -> bool:
    """Is there one problem that says `message` (a regex, matched without the file's own
    name, so `csv` in `h.csv` proves nothing), at `where`'s file and line/row/member, naming
    its field?"""
    location = _location_pattern(where)
    field_pattern = (
        re.compile(r"(?<![\w$])" + re.escape(where.field) + r"(?![\w])") if where.field else None
    )
    text_pattern = re.compile(message, re.IGNORECASE) if message else None
    for place, what, field in _problems(stderr):
        if not location.search(place):
            continue
        if field_pattern and not field_pattern.search(field):
            continue
        if text_pattern and not text_pattern.search(what.replace(where.file.rstrip("/"), "")):
            continue
        return True
    return False


def judge(
    case: Case, folder: Folder, outcome: Outcome, before: dict, after: dict, read_outside: list[str]
) -> list[str]:
    failures: list[str] = []
    code = outcome.returncode
    internal = next((ln for ln in outcome.stderr.splitlines() if "internal error" in ln), "")
    if code is None:
        failures.append(f"timeout after {outcome.seconds:.0f} s")
    elif code < 0:
        failures.append(f"killed by {outcome.summary}")
    elif code == 3:
        failures.append(f"exit 3: {internal or outcome.stderr.strip()[-300:]}")
    elif code not in case.exit:
        first = next((ln for ln in outcome.stderr.splitlines() if ln.strip()), "")
        failures.append(f"exit {code}, expected {case.exit}: {first[:300]}")
    if "MemoryError" in outcome.stderr and code != 3:
        failures.append("a MemoryError was reported")
    if outcome.rss_mib > case.rss_mib:
        failures.append(f"peak RSS {outcome.rss_mib:.0f} MiB > budget {case.rss_mib} MiB")
    if code == 2 and case.exit == (2,):
        assert case.where is not None
        if not located(outcome.stderr, case.message, case.where):
            first = next((ln for ln in outcome.stderr.splitlines() if ln.startswith("error")), "")
            first = first or outcome.stderr.strip()[:300]
            wanted = f"/{case.message}/ at {case.where.describe()}"
            failures.append(f"no located problem {wanted}; got: {first[:300]}")
        if outcome.stdout and case.command[0] in ("check", "plan", "convert"):
            failures.append(f"stdout not empty on exit 2: {outcome.stdout[:120]!r}")
    failures += _written(case, code, before, after, folder)
    if read_outside:
        failures.append("read a file outside the spec's folder: " + ", ".join(read_outside))
    for text in case.forbid:
        if text in outcome.stdout or text in outcome.stderr:
            failures.append(f"output shows outside content {text[:24]!r}")
    return failures


def _written(case: Case, code: int | None, before: dict, after: dict, folder: Folder) -> list[str]:
    failures = []
    allowed = set(case.creates) if code in (0, 1) else set()
    created = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    prefix = "case/"
    changed = sorted(
        k
        for k in set(before) & set(after)
        if before[k] != after[k] and k.removeprefix(prefix) not in allowed
    )
    unexpected = [c for c in created if c.removeprefix(prefix) not in allowed]
    if unexpected:
        failures.append("left files behind: " + ", ".join(unexpected[:5]))
    if removed:
        failures.append("removed: " + ", ".join(removed[:5]))
    if changed:
        failures.append("changed: " + ", ".join(changed[:5]))
    if code in (0, 1):
        for name in case.creates:
            if f"{prefix}{name}" not in after:
                failures.append(f"did not write {name}")
    return failures


def execute(
    case: Case, root: Path, timeout: float = TIMEOUT, fresh: bool | None = None
) -> tuple[Outcome, list[str]]:
    """Build the case under `root`, run it, and return the outcome and its failures.

    The case runs in a fork of the fork server, or in a fresh interpreter when `fresh` (or
    the environment variable HOSTILE_FRESH=1) asks for one."""
    folder = Folder(root)
    folder.case.mkdir(parents=True)
    folder.outside.mkdir(parents=True)
    case.build(folder)
    armed = arm_outside_reads(folder.outside)
    before = snapshot(root)
    if fresh is None:
        fresh = os.environ.get("HOSTILE_FRESH") == "1"
    runner = run_command if fresh else _SERVER.run
    outcome = runner(list(case.command), folder.case, timeout, env=child_env(case.env))
    after = snapshot(root)
    return outcome, judge(case, folder, outcome, before, after, outside_reads(armed))


def describe_failure(case: Case, outcome: Outcome, failures: list[str]) -> str:
    lines = [
        f"{case.name}: accard {' '.join(case.command)} -> {outcome.summary} "
        f"in {outcome.seconds:.1f} s, peak {outcome.rss_mib:.0f} MiB"
    ]
    lines += [f"  - {f}" for f in failures]
    if case.note:
        lines.append(f"  expectation: {case.note}")
    tail = outcome.stderr.strip().splitlines()[-12:]
    lines += ["  stderr:"] + [f"    {ln[:200]}" for ln in tail]
    return "\n".join(lines)


__all__ = [
    "Case",
    "Where",
    "Outcome",
    "execute",
    "run_command",
    "spawn",
    "located",
    "snapshot",
    "child_env",
    "describe_failure",
]


class Inotify:
    """Names created in (or renamed into) one folder, as they happen (Linux inotify)."""

    IN_MOVED_TO = 0x080
    IN_CREATE = 0x100

    def __init__(self, folder: Path) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if (
            self.fd < 0
            or libc.inotify_add_watch(
                self.fd, os.fsencode(folder), self.IN_CREATE | self.IN_MOVED_TO
            )
            < 0
        ):
            raise OSError(ctypes.get_errno(), "inotify")

    def names(self, timeout: float) -> list[str]:
        import select
        import struct

        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 1 << 16)
        names, offset = [], 0
        while offset + 16 <= len(data):
            _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
            names.append(os.fsdecode(data[offset + 16 : offset + 16 + length].rstrip(b"\0")))
            offset += 16 + length
        return names

    def close(self) -> None:
        os.close(self.fd)
