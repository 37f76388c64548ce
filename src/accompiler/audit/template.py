"""Placeholders: `{name}` in a matrix's claim template, names, groups, folders and glob
patterns, filled with a cell's values (`{{` and `}}` are literal braces)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from ..span import Span
from ..spec.ast import Mapping as Block
from ..spec.ast import Node, Scalar, Sequence
from .model import Param

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def names(text: str) -> list[str]:
    """The placeholders of `text`, in order."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1)]


def show(value: Param) -> str:
    """A value as it fills a placeholder: numbers in their shortest exact form (0.5, 1, 10)."""
    return repr(value) if isinstance(value, float) else str(value)


def fill(text: str, values: Mapping[str, Param]) -> str:
    """`text` with every known placeholder replaced (unknown ones are left as written)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group()[0]
        return show(values[name]) if name in values else match.group()

    return _PLACEHOLDER.sub(replace, text)


def fill_node(node: Node, values: Mapping[str, Param]) -> Node:
    """A config tree with its strings filled; a string that is one placeholder of a number
    becomes that number (`seed "{seed}"` is a number setting)."""
    if isinstance(node, Scalar):
        if node.kind != "string" or not isinstance(node.value, str):
            return node
        whole = _PLACEHOLDER.fullmatch(node.value)
        value = values.get(whole.group(1) or "") if whole else None
        if isinstance(value, (int, float)):
            return Scalar(value, "number", node.span)
        return Scalar(fill(node.value, values), "string", node.span)
    if isinstance(node, Sequence):
        return Sequence(tuple(fill_node(item, values) for item in node.items), node.span)
    return Block(tuple((k, fill_node(v, values)) for k, v in node.entries), node.span)


def strings(node: Node) -> Iterator[tuple[str, Span]]:
    """Every string of a config tree with its span (where placeholders may stand)."""
    if isinstance(node, Scalar):
        if node.kind == "string" and isinstance(node.value, str):
            yield node.value, node.span
    elif isinstance(node, Sequence):
        for item in node.items:
            yield from strings(item)
    else:
        for _key, value in node.entries:
            yield from strings(value)


def glob_pattern(pattern: str) -> tuple[str, re.Pattern[str]]:
    """A pattern with placeholders -> (the glob that finds its files, the regex whose named
    groups capture each placeholder's text from a found path)."""
    glob, regex, seen = [], [], set()
    position = 0
    for match in re.finditer(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\*\*/|\*|\?", pattern):
        literal = pattern[position : match.start()]
        glob.append(literal)
        regex.append(re.escape(literal))
        position = match.end()
        token, name = match.group(), match.group(1)
        if name:
            glob.append("*")
            regex.append(f"(?P={name})" if name in seen else f"(?P<{name}>[^/]+?)")
            seen.add(name)
        elif token in ("{{", "}}"):
            glob.append(token[0])
            regex.append(re.escape(token[0]))
        else:
            glob.append(token)
            regex.append({"**/": "(?:[^/]+/)*", "*": "[^/]*", "?": "[^/]"}[token])
    glob.append(pattern[position:])
    regex.append(re.escape(pattern[position:]))
    return "".join(glob), re.compile("".join(regex))


def captured(text: str) -> Param:
    """A captured path part: a number when it reads as one (`0.1`, `10`), else the text."""
    if not _NUMBER.fullmatch(text):
        return text
    is_int = text.lstrip("+-").isdigit()
    return int(text) if is_int else float(text)
