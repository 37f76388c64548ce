"""The YAML front-end: text -> config tree, with SafeLoader node marks as spans."""

from __future__ import annotations

from typing import Any

import yaml

from ..problems import Problem
from ..span import Span
from .ast import Key, Mapping, Node, Scalar, Sequence, bounded, integer

MAX_DEPTH = 16
MAX_NODES = 20_000


class _Limits:
    def __init__(self) -> None:
        self.seen: set[int] = set()


def _too_many_nodes(text: str, file: str) -> Problem | None:
    """A spec of more than MAX_NODES nodes, found by counting parser events (libyaml's when
    it is installed) before anything is composed: composing 1 MiB of tiny nodes in pure
    Python takes longer than any spec deserves."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    nodes = 0
    node_events = (
        yaml.ScalarEvent,
        yaml.AliasEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
    )
    try:
        for event in yaml.parse(text, Loader=loader):
            nodes += isinstance(event, node_events)
            if nodes > MAX_NODES:
                line = event.start_mark.line + 1 if event.start_mark else 1
                span = Span(file, line)  # no column: the line may be 1 MiB long
                return Problem(f"the spec has more than {MAX_NODES:,} YAML nodes", span)
    except yaml.YAMLError:
        return None  # composing reports it, located
    return None


def parse_tree(text: str, file: str) -> tuple[Mapping | None, list[Problem]]:
    """Compose YAML safely (no tags, no aliases) into the config tree."""
    too_many = _too_many_nodes(text, file)
    if too_many is not None:
        return None, [too_many]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        return None, [_yaml_problem(error, file)]
    except yaml.YAMLError as error:
        return None, [Problem(f"invalid YAML: {error}", Span(file, 1))]
    except RecursionError:
        return None, [Problem(f"the spec is nested deeper than {MAX_DEPTH}", Span(file, 1))]
    if root is None:
        return Mapping((), Span(file, 1, 1)), []
    problems: list[Problem] = []
    node = _convert(root, file, 1, _Limits(), problems)
    if problems:
        return None, problems
    if not isinstance(node, Mapping):
        return None, [Problem("the top level of a YAML spec must be a mapping", node.span)]
    return node, []


def _yaml_problem(error: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(f"invalid YAML: {error.problem or error.context}", Span(file, line, column))


def _span(node: yaml.Node, file: str) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _convert(
    node: yaml.Node, file: str, depth: int, limits: _Limits, problems: list[Problem]
) -> Node:
    span = _span(node, file)
    if id(node) in limits.seen:
        problems.append(Problem("YAML anchors and aliases are not allowed in a spec", span))
        return Scalar(None, "null", span)
    limits.seen.add(id(node))
    if depth > MAX_DEPTH or len(limits.seen) > MAX_NODES:
        problems.append(Problem(f"the spec is nested deeper than {MAX_DEPTH} or too large", span))
        return Scalar(None, "null", span)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTIONS:
        problems.append(Problem(f"unsupported YAML tag `{node.tag}`", span, "use plain values"))
        return Scalar(None, "null", span)
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, file, depth, limits, problems)
    if isinstance(node, yaml.SequenceNode):
        items = tuple(_convert(item, file, depth + 1, limits, problems) for item in node.value)
        return Sequence(items, span)
    return _scalar(node, span, problems)


def _mapping(
    node: yaml.MappingNode, file: str, depth: int, limits: _Limits, problems: list[Problem]
) -> Mapping:
    entries = []
    for key_node, value_node in node.value:
        key_span = _span(key_node, file)
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            problems.append(Problem("mapping keys must be plain words", key_span))
            continue
        value = _convert(value_node, file, depth + 1, limits, problems)
        entries.append((Key(str(key_node.value), key_span), value))
    return Mapping(tuple(entries), _span(node, file))


_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_KINDS = {
    "tag:yaml.org,2002:str": "string",
    "tag:yaml.org,2002:int": "number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
}


def _scalar(node: yaml.Node, span: Span, problems: list[Problem]) -> Scalar:
    kind = _KINDS.get(node.tag)
    if kind is None:
        problems.append(Problem(f"unsupported YAML tag `{node.tag}`", span, "use plain values"))
        return Scalar(None, "null", span)
    if kind == "string":
        return Scalar(node.value, kind, span)
    try:
        value: Any = yaml.SafeLoader(" ").construct_object(node)
    except ValueError:  # a decimal integer of more than 4,300 digits
        value = integer(str(node.value).replace("_", ""))
    if isinstance(value, int) and not isinstance(value, bool):
        value = bounded(value)
    return Scalar(value, kind, span)
