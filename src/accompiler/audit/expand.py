"""Declarations -> cells: globs found on disk, matrices multiplied out, every cell named.

Paths an audit file names stay inside its folder (as a claim's do); claim specs given on
the command line are the user's own and may be anywhere.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path, PurePosixPath

from ..claim.paths import confined_path
from ..problems import Problem
from ..span import Span
from ..spec import SPEC_SUFFIXES
from . import template
from .decode import AuditFile, FileCells, Matrix
from .model import Audit, Cell, Param

_GLOB = re.compile(r"[*?\[]|\{[A-Za-z_]")


def expand_audit(
    audit: AuditFile, path: Path, display: str, sha256: str
) -> tuple[Audit, list[Problem]]:
    """The cells an audit file declares, in its order; problems name the declaration."""
    problems: list[Problem] = []
    cells: list[Cell] = []
    for declaration in audit.declarations:
        if isinstance(declaration, Matrix):
            cells += _matrix_cells(declaration, path, display, problems)
        else:
            found = _find(path.parent, declaration, True, problems)
            cells += _file_cells(declaration, found, path.parent, display)
    named = _unique(_named(cells), problems)
    return Audit(audit.title, named, audit.overrides, str(path), sha256), problems


def specs_audit(patterns: list[str], base: Path, title: str) -> tuple[Audit, list[Problem]]:
    """An audit of claim specs given directly: paths and globs (with `{name}` captures)."""
    problems: list[Problem] = []
    cells: list[Cell] = []
    for pattern in patterns:
        declaration = FileCells(
            pattern, bool(_GLOB.search(pattern)), None, None, (), Span(pattern, 0)
        )
        found = _find(base, declaration, False, problems)
        cells += _file_cells(declaration, found, base, "")
    named = _unique(_named(cells), problems)
    return Audit(title, named), problems


Found = list[tuple[Path, str, dict[str, Param]]]


def _find(base: Path, cells: FileCells, confine: bool, problems: list[Problem]) -> Found:
    """(absolute path, path as written, captures) of every claim file a declaration names."""
    pattern = cells.pattern.replace("\\", "/")
    pure = PurePosixPath(pattern)
    if confine and (pure.is_absolute() or ".." in pure.parts):
        why = "is absolute" if pure.is_absolute() else "leaves the audit's folder (`..`)"
        problems.append(Problem(f"`{cells.pattern}` {why}", cells.span, _CONFINED))
        return []
    if not cells.glob:
        return _one(base, pattern, cells, confine, problems)
    root, relative = (
        (Path(pure.anchor), str(pure.relative_to(pure.anchor)))
        if (pure.is_absolute())
        else (base, pattern)
    )
    glob, regex = template.glob_pattern(relative)
    found: Found = []
    for match in root.glob(glob):
        written = match.relative_to(root).as_posix()
        captures = regex.fullmatch(written)
        if captures is None or match.suffix.lower() not in SPEC_SUFFIXES:
            continue
        if confine and confined_path(base, written)[0] is None:
            continue
        shown = written if root == base else str(root / written)
        values = {k: template.captured(v) for k, v in captures.groupdict().items()}
        found.append((match.resolve(), shown, values))
    if not found:
        problems.append(
            Problem(
                f"`{cells.pattern}` matches no claim file",
                cells.span,
                "the pattern is relative to "
                + ("the audit file's folder" if confine else "the current folder")
                + "; claim files end in .ac, .yaml or .yml",
            )
        )
    found.sort(key=lambda item: (_order(item[2]), item[1]))
    return found


def _one(
    base: Path, pattern: str, cells: FileCells, confine: bool, problems: list[Problem]
) -> Found:
    if confine:
        named, why = confined_path(base, pattern)
        target = None if named is None else base / named.real
        exists, is_file = named is not None, named is not None and named.is_file
    else:
        target, why = base / pattern, ""
        exists, is_file = target.exists(), target.is_file()
    if target is None or not is_file:
        why = why or ("is not a file" if exists else "does not exist")
        problems.append(Problem(f"`{cells.pattern}` {why}", cells.span, _help(confine)))
        return []
    return [(target.resolve(), pattern, {})]


_CONFINED = "paths in an audit file are relative to its folder and stay inside it"
_COMMAND_LINE = "a claim named on the command line is relative to the current folder"


def _help(confine: bool) -> str:
    return _CONFINED if confine else _COMMAND_LINE


def _order(captures: dict[str, Param]) -> tuple[tuple[int, float, str], ...]:
    return tuple(
        (0, v, "") if isinstance(v, (int, float)) else (1, 0.0, v) for v in captures.values()
    )


def _file_cells(cells: FileCells, found: Found, base: Path, display_dir: str) -> list[Cell]:
    out = []
    for path, written, captures in found:
        values = captures or dict(cells.params)
        display = str(PurePosixPath(display_dir).parent / written) if display_dir else written
        out.append(
            Cell(
                template.fill(cells.name, values) if cells.name else "",
                template.fill(cells.group, values) if cells.group else None,
                tuple(captures.items()) or cells.params,
                str(path),
                display.removeprefix("./"),
                span=cells.span,
            )
        )
    return out


def _matrix_cells(matrix: Matrix, path: Path, display: str, problems: list[Problem]) -> list[Cell]:
    cells = []
    for params, links in matrix.combinations():
        values = links | dict(params)
        folder = template.fill(matrix.folder, values)
        pure = PurePosixPath(folder)
        if pure.is_absolute() or ".." in pure.parts:
            problems.append(Problem(f"folder `{folder}` leaves the audit's folder", matrix.span))
            return []
        cells.append(
            Cell(
                template.fill(matrix.name, values),
                template.fill(matrix.group, values) if matrix.group else None,
                params,
                str(path),
                display,
                matrix.index,
                folder,
                tuple(links.items()),
                matrix.span,
            )
        )
    return cells


def _named(cells: list[Cell]) -> list[Cell]:
    """Cells without a name are named by the part of their path that differs from the other
    claim files' of the audit."""
    files = [c for c in cells if c.matrix is None]
    names = derive_names([PurePosixPath(c.display) for c in files])
    derived = dict(zip((id(c) for c in files), names, strict=True))
    return [c if c.name else replace(c, name=derived[id(c)]) for c in cells]


def derive_names(paths: list[PurePosixPath]) -> list[str]:
    """`cells/a/claim.ac`, `cells/b/claim.yaml` -> `a`, `b`: the folders and file names that
    differ (a file name every path shares is dropped); a single path keeps its last part."""
    parts = [list(p.with_suffix("").parts) for p in paths]
    if len(parts) > 1 and len({p[-1] for p in parts}) == 1 and all(len(p) > 1 for p in parts):
        parts = [p[:-1] for p in parts]
    while all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    if len(parts) == 1:
        parts = [parts[0][-1:]]
    return ["/".join(p) for p in parts]


def _unique(cells: list[Cell], problems: list[Problem]) -> tuple[Cell, ...]:
    seen: dict[str, Cell] = {}
    for cell in cells:
        if cell.name in seen:
            problems.append(
                Problem(
                    f"two cells are named `{cell.name}`",
                    cell.span,
                    "give each cell its own name (a matrix's name uses its axes' placeholders)",
                )
            )
        seen.setdefault(cell.name, cell)
    return tuple(seen.values())
