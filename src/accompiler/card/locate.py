"""JSON text + JSON paths -> the line and column of each value, so a problem in a card (or
a manifest) points at its line like a problem in a spec."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator

JsonPath = tuple[str | int, ...]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def locate(text: str, paths: Iterable[JsonPath]) -> dict[JsonPath, tuple[int, int]]:
    """(line, column), 1-based, of each path's value (of its key, for an object member)
    in valid JSON `text`; a path not found is left out (its parent is used instead)."""
    wanted = set(paths)
    prefixes = {p[:n] for p in wanted for n in range(len(p) + 1)}
    starts = [m.start() for m in re.finditer("\n", text)]
    found: dict[JsonPath, tuple[int, int]] = {}
    for path, offset in _walk(_TOKEN.finditer(text), prefixes):
        line = bisect.bisect_left(starts, offset) + 1
        column = offset - (starts[line - 2] + 1 if line > 1 else 0) + 1
        found[path] = (line, column)
    return {p: found[_deepest(p, found)] for p in wanted if _deepest(p, found) in found}


def _deepest(path: JsonPath, found: dict[JsonPath, tuple[int, int]]) -> JsonPath:
    while path and path not in found:
        path = path[:-1]
    return path


def _walk(
    tokens: Iterator[re.Match[str]], prefixes: set[JsonPath]
) -> Iterator[tuple[JsonPath, int]]:
    """(path, offset) of every value on a wanted path, scanning the token stream once."""
    stack: list[tuple[JsonPath, str, int]] = []  # (container path, kind, next index)
    path: JsonPath = ()
    key_offset: int | None = None
    expect_key = False
    for match in tokens:
        token = match.group()
        if token in ",:":
            if token == "," and stack and stack[-1][1] == "{":
                expect_key = True
            continue
        if token in "]}":
            stack.pop()
            expect_key = False
            continue
        if expect_key:
            parent = stack[-1][0]
            path, key_offset, expect_key = (*parent, _unquote(token)), match.start(), False
            continue
        if stack and stack[-1][1] == "[":
            parent, kind, index = stack[-1]
            path, key_offset = (*parent, index), None
            stack[-1] = (parent, kind, index + 1)
        elif not stack:
            path, key_offset = (), None
        if path in prefixes:
            yield path, match.start() if key_offset is None else key_offset
        if token in "{[":
            stack.append((path, token, 0))
            expect_key = token == "{"


def _unquote(token: str) -> str:
    value = json.loads(token)
    return value if isinstance(value, str) else token
