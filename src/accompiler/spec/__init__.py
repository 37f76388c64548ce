"""Stage 1, spec text -> config tree: the two front-ends (.ac through lark, YAML through
SafeLoader) build the same tree of Mappings, Sequences and Scalars, each with its Span.
PyYAML is imported only for a YAML spec."""

from __future__ import annotations

from pathlib import Path

from ..files import CAPS, InputError, read_confined
from ..problems import Problem, SpecError
from ..span import Span
from . import _lark, dsl  # noqa: F401  (_lark first: it imports lark)
from .ast import Mapping

MAX_SPEC_BYTES = CAPS["spec"]
SPEC_SUFFIXES = (".ac", ".yaml", ".yml")


def read_spec_text(path: Path, display: str) -> str:
    """The spec's text, read through files.py as any input (a regular file inside its own
    folder, at most 1 MiB); not UTF-8 is a problem (a BOM is not part of the spec)."""
    try:
        data = read_confined(path.parent, path.name, MAX_SPEC_BYTES, "spec").data
    except InputError as error:
        summary = f"the spec `{path.name}` {error.summary}".replace(
            "the spec's folder", "its folder"
        )
        raise SpecError([Problem(summary, Span(display, 0), error.detail)]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problem = Problem(f"the spec is not UTF-8 text ({error.reason})", Span(display, 1))
        raise SpecError([problem]) from None


def parse_spec(text: str, display: str, suffix: str) -> tuple[Mapping | None, list[Problem]]:
    """Parse spec text with the front-end its suffix names."""
    if suffix in (".yaml", ".yml"):
        from . import yaml as yaml_front_end

        return yaml_front_end.parse_tree(text, display)
    if suffix == ".ac":
        tree, _document, problems = dsl.parse_tree(text, display)
        return tree, problems
    return None, [
        Problem(f"unknown spec type `{suffix}`", Span(display, 1), "a spec is a .ac or .yaml file")
    ]
