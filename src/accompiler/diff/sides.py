"""A side of `accard diff` -> Revision: one loader per kind of side (spec, card), chosen by
the path; `REV:PATH` exports the revision's files to a temporary folder first."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..problems import Problem, SpecError
from ..span import Span
from . import git
from .view import Revision, card_revision, spec_revision

Notes = Callable[[Problem], None]


@dataclass(frozen=True)
class Loader:
    """How one kind of side is recognised, what a revision must export for it, and read."""

    kind: str
    suffixes: tuple[str, ...]
    """The file names it takes ('' = any file no other loader takes)."""
    folder: bool
    """Read from git, it needs its whole folder (a spec's files resolve beside it)."""
    load: Callable[[Path, str, Notes], Revision]
    directory: bool = False
    """It also takes a folder (a submission bundle may be one)."""


def _spec(path: Path, label: str, notes: Notes) -> Revision:
    from ..claim import load_spec
    from ..plan import compile_plan

    claim, sources = load_spec(path, label)
    try:
        plan, _ = compile_plan(claim, path.parent)
    except OSError as error:
        summary = f"cannot read an input of the spec: {error.strerror or error}"
        raise SpecError([Problem(summary, Span(label, 0))], sources) from None
    return spec_revision(plan, label)


def _card(path: Path, label: str, notes: Notes) -> Revision:
    from ..card import read_card

    card, problems = read_card(path, label)
    if card is None:
        raise SpecError(problems)
    for note in problems:
        notes(note)
    return card_revision(card.document, label)


def _bundle(path: Path, label: str, notes: Notes) -> Revision:
    """A submission bundle compares as its card (claim, settings, inputs and results),
    unpacked with the bundle reader's checks into a temporary folder."""
    from ..bundle.manifest import MANIFEST
    from ..bundle.reader import open_bundle

    if path.is_dir() and not (path / MANIFEST).is_file():
        raise _problem(label, f"{label}: {_NOT_A_SIDE}", _WHAT_A_SIDE_IS)
    with tempfile.TemporaryDirectory(prefix="accard-diff-bundle-") as folder:
        bundle = open_bundle(path, Path(folder) / "bundle", display=label)
        return _card(
            bundle.card, bundle.display(bundle.card.relative_to(bundle.root).as_posix()), notes
        )


LOADERS: tuple[Loader, ...] = (
    Loader("spec", (".ac", ".yaml", ".yml"), True, _spec),
    Loader("bundle", (".zip",), False, _bundle, directory=True),
    Loader("card", ("",), False, _card),
)
"""The first loader that takes a path reads it; a folder is a submission bundle."""


def loader_for(name: str, directory: bool = False) -> Loader | None:
    """The loader of a file name (by suffix; a card when no other takes it), or of a folder
    (None when no loader takes folders)."""
    if directory:
        return next((loader for loader in LOADERS if loader.directory), None)
    suffix = Path(name).suffix.lower()
    return next(
        (loader for loader in LOADERS if suffix in loader.suffixes),
        next(loader for loader in LOADERS if "" in loader.suffixes),
    )


def open_side(text: str, cwd: Path | None = None, notes: Notes | None = None) -> Revision:
    """A side named on the command line: a file, or `REV:PATH` read from the git repository
    enclosing `cwd` (PATH relative to `cwd`, the working tree untouched).

    Raises:
        SpecError: the side does not exist, is not a valid spec or card, or git cannot
            give it; every problem found.
    """
    notes = notes or (lambda _problem: None)
    path = Path(text)
    if path.exists():
        loader = loader_for(path.name, path.is_dir())
        if loader is None:
            raise _problem(text, f"{text}: {_NOT_A_SIDE}", _WHAT_A_SIDE_IS)
        return loader.load(path, text, notes)
    revision, colon, inside = text.partition(":")
    if colon and revision and inside:
        return _from_git(revision, inside, text, cwd or Path.cwd(), notes)
    raise _problem(text, f"{text}: no such file", _WHAT_A_SIDE_IS)


def _from_git(revision: str, inside: str, label: str, cwd: Path, notes: Notes) -> Revision:
    try:
        where = git.locate(inside, cwd)
        commit = git.resolve(where.root, revision)
    except git.GitError as error:
        raise _problem(label, str(error)) from None
    return load_at(where, commit, label, notes)


def load_at(where: git.Located, commit: str, label: str, notes: Notes | None = None) -> Revision:
    """The side at `where` as it is at `commit` (a spec with its folder, so its files
    resolve at the same commit), exported to a temporary folder."""
    kind = git.object_type(where.root, commit, where.path)
    if kind not in ("blob", "tree"):
        raise _problem(label, f"{label}: {where.path} is not there at that revision")
    loader = loader_for(where.path, kind == "tree")
    if loader is None:
        raise _problem(label, f"{label}: {_NOT_A_SIDE}", _WHAT_A_SIDE_IS)
    with tempfile.TemporaryDirectory(prefix="accard-diff-") as folder:
        try:
            scope = where.folder if loader.folder else where.path
            git.export(where.root, commit, scope, Path(folder))
        except git.GitError as error:
            raise _problem(label, f"{label}: {error}") from None
        return loader.load(Path(folder) / where.path, label, notes or (lambda _problem: None))


_NOT_A_SIDE = "a folder without manifest.json, not a submission bundle, a spec or a card"
_WHAT_A_SIDE_IS = "name a spec (.ac, .yaml, .yml), a card, a submission bundle or REV:PATH"


def _problem(label: str, summary: str, detail: str = "") -> SpecError:
    return SpecError([Problem(summary, Span(label, 0), detail)])
