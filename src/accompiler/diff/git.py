"""The enclosing git repository, read without touching the working tree: `REV:PATH`
resolved, a revision's files exported to a folder, and the commits that touched paths."""

from __future__ import annotations

import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path


class GitError(Exception):
    """git refused or the revision or path is not there; the message says which."""


@dataclass(frozen=True)
class Commit:
    sha: str
    short: str
    date: str
    subject: str


@dataclass(frozen=True)
class Located:
    """A path of the repository at `root`, relative to it (POSIX separators)."""

    root: Path
    path: str

    @property
    def folder(self) -> str:
        parent = os.path.dirname(self.path)
        return parent or "."


def git(root: Path, *args: str) -> bytes:
    """Run git in `root`; its stdout, or GitError with git's own message."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror or error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


def locate(path: str, cwd: Path) -> Located:
    """A path (relative to `cwd`, or absolute) in the repository that encloses it; the path
    need not exist in the working tree."""
    absolute = Path(os.path.normpath(cwd.resolve() / path))
    start = absolute.parent
    while not start.is_dir() and start != start.parent:
        start = start.parent
    try:
        top = git(start, "rev-parse", "--show-toplevel").decode().strip()
    except GitError:
        raise GitError(f"{path} is not inside a git repository") from None
    root = Path(top).resolve()
    relative = os.path.relpath(absolute, root)
    if relative == ".." or relative.startswith(f"..{os.sep}"):
        raise GitError(f"{path} is outside the repository {root}")
    return Located(root, Path(relative).as_posix())


def resolve(root: Path, revision: str) -> str:
    """The commit a revision names (a branch, tag, HEAD~2, a sha…)."""
    try:
        out = git(root, "rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
    except GitError:
        raise GitError(f"`{revision}` is not a revision of {root}") from None
    return out.decode().strip()


def object_type(root: Path, commit: str, path: str) -> str | None:
    """'blob' (a file), 'tree' (a folder), or None when `path` is not there at `commit`."""
    try:
        return git(root, "cat-file", "-t", f"{commit}:{path}").decode().strip()
    except GitError:
        return None


def export(root: Path, commit: str, path: str, destination: Path) -> None:
    """Write `path` (a file or a folder) as it is at `commit` under `destination`, keeping
    its place in the repository; nothing outside `destination` is written."""
    command = ["git", "archive", "--format=tar", commit, "--", path]
    failure = ""
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        assert run.stdout is not None and run.stderr is not None
        try:
            with tarfile.open(fileobj=run.stdout, mode="r|") as archive:
                archive.extractall(destination, filter="data")
        except tarfile.TarError as error:
            failure = f"cannot export {path}: {error}"
        while run.stdout.read(1 << 16):  # the record padding after the archive's end
            pass
        run.stdout.close()
        errors = run.stderr.read().decode("utf-8", "replace").strip()
    if run.returncode != 0:
        raise GitError(errors.splitlines()[-1] if errors else "git archive failed")
    if failure:
        raise GitError(failure)


def commits(root: Path, *paths: str) -> list[Commit]:
    """The commits that touched any of `paths`, oldest first."""
    record = "%H%x1f%h%x1f%ad%x1f%s"
    out = git(root, "log", "--reverse", "--date=short", f"--format={record}", "--", *paths)
    found = []
    for line in out.decode("utf-8", "replace").splitlines():
        sha, short, date, subject = line.split("\x1f", 3)
        found.append(Commit(sha, short, date, subject))
    return found
