"""Spec file -> checked Claim: parse (stage 1), decode, check the files it names."""

from __future__ import annotations

from pathlib import Path

from ..problems import SpecError
from ..spec import parse_spec, read_spec_text
from .checks import check_claim
from .decode import decode_claim
from .model import Claim


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
