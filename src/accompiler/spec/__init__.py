"""Stage 1, spec text -> config tree: the two front-ends (.ac through lark, YAML through
SafeLoader) build the same tree of Mappings, Sequences and Scalars, each with its Span.
PyYAML is imported only for a YAML spec."""

from __future__ import annotations

from pathlib import Path

from ..problems import Problem, SpecError
from ..span import Span
from . import dsl
from .ast import Mapping

MAX_SPEC_BYTES = 1 << 20
SPEC_SUFFIXES = (".ac", ".yaml", ".yml")


def read_spec_text(path: Path, display: str) -> str:
    """The spec's text; too large or not UTF-8 is a problem (a BOM is not part of the spec)."""
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise SpecError(
            [Problem(f"the spec is {size} bytes; the limit is 1 MiB", Span(display, 1))]
        )
    try:
        return path.read_bytes().decode("utf-8-sig")
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
