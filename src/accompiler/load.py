"""Spec file -> Claim: pick the front-end by suffix, enforce limits, check the paths."""

from __future__ import annotations

from pathlib import Path

from .checks import check_claim
from .decode import decode_claim
from .ir import Claim
from .problems import Problem, SpecError
from .span import Span
from .syntax import dsl
from .syntax import yaml as yaml_syntax
from .syntax.ast import Mapping

MAX_SPEC_BYTES = 1 << 20
SPEC_SUFFIXES = (".ac", ".yaml", ".yml")


def read_spec_text(path: Path, display: str) -> str:
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise SpecError(
            [Problem(f"the spec is {size} bytes; the limit is 1 MiB", Span(display, 1))]
        )
    try:
        return path.read_bytes().decode("utf-8-sig")  # a BOM is not part of the spec
    except UnicodeDecodeError as error:
        problem = Problem(f"the spec is not UTF-8 text ({error.reason})", Span(display, 1))
        raise SpecError([problem]) from None


def parse_spec(text: str, display: str, suffix: str) -> tuple[Mapping | None, list[Problem]]:
    """Parse spec text with the front-end its suffix names."""
    if suffix in (".yaml", ".yml"):
        return yaml_syntax.parse_tree(text, display)
    if suffix == ".ac":
        tree, _document, problems = dsl.parse_tree(text, display)
        return tree, problems
    return None, [
        Problem(f"unknown spec type `{suffix}`", Span(display, 1), "a spec is a .ac or .yaml file")
    ]


def load_spec(path: Path, display: str | None = None) -> tuple[Claim, dict[str, str]]:
    """Load, decode and check a spec. Raises SpecError listing every problem found.

    Args:
        path: the spec file (.ac, .yaml or .yml).
        display: how problems name the file (defaults to `path` as given).

    Returns:
        The claim and the spec's source text keyed by its display name (for rendering).
    """
    display = display or str(path)
    text = read_spec_text(path, display)
    sources = {display: text}
    tree, problems = parse_spec(text, display, path.suffix.lower())
    claim = None
    if tree is not None and not any(p.is_error for p in problems):
        claim, decode_problems = decode_claim(tree)
        problems += decode_problems
    if claim is not None:
        problems += check_claim(claim, path.parent)
    if claim is None or any(p.is_error for p in problems):
        raise SpecError(problems, sources)
    return claim, sources
