"""Span: where a piece of a spec or a record came from, and how to show it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end_column exclusive.

    Record rows carry `line` = the row's line number and `column` = 0 (no column).
    """

    file: str
    line: int
    column: int = 0
    end_line: int = 0
    end_column: int = 0

    def location(self) -> str:
        if not self.line:
            return self.file
        if self.column:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}"


def snippet(span: Span, source: str) -> list[str]:
    """Return the gutter-numbered source line of `span` with carets under it."""
    lines = source.split("\n")  # the parsers count lines at "\n" only (not U+2028, \f...)
    if not span.column or not 1 <= span.line <= len(lines):
        return []
    text = lines[span.line - 1].rstrip("\r").expandtabs(1)
    last = span.end_column if span.end_line == span.line and span.end_column > span.column else 0
    width = max(1, (last or len(text) + 1) - span.column)
    gutter = str(span.line)
    pad = " " * len(gutter)
    return [
        f"{pad} |",
        f"{gutter} | {text}",
        f"{pad} | {' ' * (span.column - 1)}{'^' * width}",
    ]
