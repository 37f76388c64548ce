"""Syntax trees: the .ac statement AST and the config tree both front-ends build."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..span import Span

ScalarValue = str | int | float | bool | None


@dataclass(frozen=True)
class Value:
    """One value of an .ac statement: a string, a number or a bare word."""

    value: str | int | float
    kind: str
    raw: str
    span: Span


@dataclass(frozen=True)
class Statement:
    """`keyword value* { statement* }?`; `body` is None when there is no block."""

    keyword: str
    keyword_span: Span
    values: tuple[Value, ...]
    body: tuple[Statement, ...] | None
    span: Span


@dataclass(frozen=True)
class Comment:
    line: int
    text: str
    own_line: bool


@dataclass(frozen=True)
class Document:
    """A parsed .ac file: its top-level statements and its comments (for `accard fmt`)."""

    file: str
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class Scalar:
    """A leaf of the config tree. `kind` is string, number, word, bool or null."""

    value: ScalarValue
    kind: str
    span: Span


@dataclass(frozen=True)
class Key:
    name: str
    span: Span


@dataclass(frozen=True)
class Mapping:
    """Keyed entries in source order; a key may repeat (repeated .ac statements)."""

    entries: tuple[tuple[Key, Node], ...]
    span: Span


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]
    span: Span = field(compare=False)


Node = Scalar | Mapping | Sequence
