"""Audit file or claim specs -> the Audit (its cells), and one cell -> its checked Claim.

Both the coordinator (expanding the audit) and every worker (loading one cell) come here:
a worker reads its cell's spec by path, and a template cell's audit file only if its
sha256 is the one the coordinator expanded.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from ..claim import Claim, load_spec
from ..claim.checks import check_claim
from ..claim.decode import decode_claim
from ..claim.paths import confined_path
from ..problems import Problem, SpecError, raise_if_errors
from ..span import Span
from ..spec import parse_spec, read_spec_text
from ..spec.ast import Mapping
from .decode import AuditFile, decode_audit, template_tree
from .expand import expand_audit, specs_audit
from .model import Audit, Cell

_AUDIT_STATEMENT = re.compile(r"^(?:audit\s|audit:)", re.MULTILINE)


def is_audit_file(path: Path) -> bool:
    """Whether a spec file is an audit (its top level holds `audit`), not a claim."""
    if path.suffix.lower() not in (".ac", ".yaml", ".yml") or not path.is_file():
        return False
    try:
        text = read_spec_text(path, str(path))
    except SpecError:
        return False
    tree, _problems = parse_spec(text, str(path), path.suffix.lower())
    if tree is None:
        return bool(_AUDIT_STATEMENT.search(text))
    return any(key.name == "audit" for key, _ in tree.entries)


def load_audit(path: Path, display: str | None = None) -> tuple[Audit, dict[str, str]]:
    """Read, decode and expand an audit file.

    Returns:
        The audit and its source text keyed by its display name (for rendering problems).

    Raises:
        SpecError: the audit file is wrong (every problem, with file:line:col).
    """
    display = display or str(path)
    audit_file, text, sha256 = _read(path.resolve(), display)
    sources = {display: text}
    audit, problems = expand_audit(audit_file, path.resolve(), display, sha256)
    raise_if_errors(problems, sources)
    return audit, sources


def load_specs(patterns: list[str], base: Path, title: str | None = None) -> Audit:
    """An audit of claim specs and globs given on the command line.

    Raises:
        SpecError: a path does not exist, or a glob matches no claim file.
    """
    audits = [p for p in patterns if is_audit_file(base / p)]
    if audits:
        summary = f"`{audits[0]}` is an audit file: give it alone, not with claim specs"
        raise SpecError([Problem(summary, Span(audits[0], 0))])
    shown = title or f"Audit of {', '.join(patterns)}"
    audit, problems = specs_audit(patterns, base, shown)
    raise_if_errors(problems)
    return audit


def load_cell(cell: Cell, audit_sha256: str | None) -> tuple[Claim, Path, dict[str, str]]:
    """A cell's checked claim, the folder its paths are relative to, and its sources.

    Raises:
        SpecError: the claim (or the template filled in for the cell) is wrong.
    """
    if cell.matrix is None:
        path = Path(cell.spec)
        claim, sources = load_spec(path, cell.display)
        return claim, path.parent, sources
    audit_file, text = _template_source(cell.spec, cell.display, audit_sha256)
    sources = {cell.display: text}
    matrix = audit_file.matrices[cell.matrix]
    filled, problems = decode_claim(template_tree(audit_file, matrix, cell.values))
    base = Path(cell.spec).parent
    named, why = confined_path(base, cell.folder or ".")
    if named is not None and not named.is_dir:
        named, why = None, "is not a folder"
    folder = None if named is None else base / named.real
    if folder is None:
        summary = f"the folder `{cell.folder}` of cell `{cell.name}` {why}"
        problems.append(Problem(summary, matrix.span, field="audit.matrix.folder"))
    elif filled is not None:
        problems += check_claim(filled, folder)
    if filled is None or folder is None or any(p.is_error for p in problems):
        raise SpecError(problems, sources)
    return filled, folder, sources


def template_digest(cell: Cell, audit_sha256: str | None) -> str:
    """The sha256 of a template cell's own spec: its matrix's text and its values."""
    audit_file, text = _template_source(cell.spec, cell.display, audit_sha256)
    span = audit_file.matrices[cell.matrix or 0].span
    lines = text.splitlines()[span.line - 1 : span.end_line or span.line]
    material = "\n".join(lines) + "\n" + repr(sorted(cell.values.items()))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _template_source(path: str, display: str, sha256: str | None) -> tuple[AuditFile, str]:
    text = read_spec_text(Path(path), display)
    if sha256 is not None and _digest(text) != sha256:
        problem = Problem(
            "the audit file changed while the audit ran",
            Span(display, 0),
            "rerun `accard audit`; every cell must be read from the same audit file",
        )
        raise SpecError([problem])
    return _decoded(Path(path).suffix.lower(), display, text), text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path, display: str) -> tuple[AuditFile, str, str]:
    text = read_spec_text(path, display)
    return _decoded(path.suffix.lower(), display, text), text, _digest(text)


@lru_cache(maxsize=8)
def _decoded(suffix: str, display: str, text: str) -> AuditFile:
    """Decoded once per process and audit text (a worker runs many cells of one audit)."""
    tree, problems = parse_spec(text, display, suffix)
    audit_file = None
    if isinstance(tree, Mapping) and not any(p.is_error for p in problems):
        audit_file, decode_problems = decode_audit(tree)
        problems += decode_problems
    if audit_file is None or any(p.is_error for p in problems):
        raise SpecError(problems, {display: text})
    return audit_file
