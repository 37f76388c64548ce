"""Syntax trees: the .ac statement AST and the config tree both front-ends build."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..span import Span

ScalarValue = str | int | float | bool | None
MAX_DIGITS = 30
"""Integers of more digits than this are never a valid setting: they stay `Huge`, which
compares as their magnitude but prints as its digit count (Python refuses to convert
integers of more than 4,300 digits to and from text)."""


class Huge(int):
    """An integer written with more than MAX_DIGITS digits: 10^(digits-1), signed."""

    digits: int

    def __new__(cls, digits: int, negative: bool = False) -> Huge:
        value = super().__new__(cls, (-1 if negative else 1) * 10 ** (digits - 1))
        value.digits = digits
        return value

    def __str__(self) -> str:
        return f"a number of {self.digits} digits"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return str(self)


def integer(text: str) -> int:
    """A decimal integer literal (sign allowed), `Huge` past MAX_DIGITS digits."""
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        return Huge(len(digits), text.startswith("-"))
    return int(text)


def bounded(value: int) -> int:
    """An integer from elsewhere (YAML hex, say), `Huge` past MAX_DIGITS digits."""
    if value.bit_length() <= 99:  # 2^99 < 10^30
        return value
    return Huge(int(value.bit_length() * 0.30103) + 1, value < 0)


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
