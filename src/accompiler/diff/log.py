"""A spec in a git repository -> its history: one entry per commit that changed the spec or
the files it reads, with the classified changes against the previous revision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..problems import SpecError
from . import git
from .compare import compare
from .rules import Change
from .sides import load_at
from .view import Revision


@dataclass(frozen=True)
class Entry:
    """One commit of the claim's history."""

    commit: git.Commit
    state: str
    """first (the spec appears), changed, unchanged (only its text changed), invalid (it does
    not load: `problem`), removed (the spec is gone)."""
    changes: tuple[Change, ...] = ()
    problem: str = ""

    def to_json(self) -> dict[str, Any]:
        """The entry as `schemas/log.v1.schema.json` describes it."""
        return {
            "commit": self.commit.sha,
            "date": self.commit.date,
            "subject": self.commit.subject,
            "state": self.state,
            "problem": self.problem,
            "changes": [c.to_json() for c in self.changes],
        }


def spec_history(spec: str, cwd: Path | None = None) -> list[Entry]:
    """The history of `spec` in the repository that encloses it, newest first.

    Every commit that touched the spec's folder is read (a spec's files never leave its
    folder); those that changed neither the spec's text nor anything the spec reads are left
    out.

    Raises:
        git.GitError: the spec is not in a git repository, or git fails.
    """
    where = git.locate(spec, cwd or Path.cwd())
    touched = {c.sha for c in git.commits(where.root, where.path)}
    walk = _Walk(where)
    for commit in git.commits(where.root, where.folder):
        walk.step(commit, commit.sha in touched)
    return walk.entries[::-1]


class _Walk:
    """The walk through a spec's history: the last revision that loaded, and whether the
    spec was broken at the last commit (a broken spec is reported when it breaks, and again
    only when a commit touches it)."""

    def __init__(self, where: git.Located) -> None:
        self.where = where
        self.previous: Revision | None = None
        self.broken = ""
        self.present = False
        self.entries: list[Entry] = []

    def step(self, commit: git.Commit, touched: bool) -> None:
        where = self.where
        if git.object_type(where.root, commit.sha, where.path) != "blob":
            if self.present:
                self.entries.append(Entry(commit, "removed"))
            self.previous, self.broken, self.present = None, "", False
            return
        self.present = True
        try:
            current = load_at(where, commit.sha, f"{commit.short}:{where.path}")
        except SpecError as error:
            problem = error.problems[0].summary if error.problems else "the spec does not load"
            if touched or problem != self.broken:
                self.entries.append(Entry(commit, "invalid", problem=problem))
            self.broken = problem
            return
        repaired, self.broken = bool(self.broken), ""
        entry = self._compared(commit, current, touched or repaired)
        if entry is not None:
            self.entries.append(entry)
        self.previous = current

    def _compared(self, commit: git.Commit, current: Revision, touched: bool) -> Entry | None:
        if self.previous is None:
            return Entry(commit, "first")
        changes = tuple(compare(self.previous, current))
        if changes:
            return Entry(commit, "changed", changes)
        return Entry(commit, "unchanged") if touched else None
