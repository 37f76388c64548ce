"""`accard fmt`: a parsed .ac Document -> its canonical text, comments kept."""

from __future__ import annotations

from .ast import Comment, Document, Statement

INDENT = "  "


class _Printer:
    def __init__(self, document: Document, source: str) -> None:
        self.out: list[str] = []
        self.comments = list(document.comments)
        self.blank = {i for i, line in enumerate(source.splitlines(), 1) if not line.strip()}
        self.last_line = 0

    def gap(self, line: int, at_block_start: bool) -> None:
        if not at_block_start and any(self.last_line < b < line for b in self.blank):
            self.out.append("")

    def own_line_comments(self, before: int, depth: int, at_block_start: bool) -> bool:
        while self.comments and self.comments[0].line < before:
            comment = self.comments.pop(0)
            self.gap(comment.line, at_block_start)
            self.out.append(INDENT * depth + comment.text)
            self.last_line = comment.line
            at_block_start = False
        return at_block_start

    def trailing(self, line: int) -> str:
        if self.comments and self.comments[0].line == line and not self.comments[0].own_line:
            comment: Comment = self.comments.pop(0)
            return "  " + comment.text
        return ""

    def statements(self, statements: tuple[Statement, ...], depth: int) -> None:
        at_start = True
        for statement in statements:
            at_start = self.own_line_comments(statement.span.line, depth, at_start)
            self.gap(statement.span.line, at_start)
            self.statement(statement, depth)
            at_start = False

    def statement(self, statement: Statement, depth: int) -> None:
        head = " ".join([statement.keyword] + [v.raw for v in statement.values])
        if statement.body is None:
            self.out.append(INDENT * depth + head + self.trailing(statement.span.line))
            self.last_line = statement.span.end_line or statement.span.line
            return
        self.out.append(INDENT * depth + head + " {" + self.trailing(statement.span.line))
        self.last_line = statement.span.line
        self.statements(statement.body, depth + 1)
        end = statement.span.end_line
        self.own_line_comments(end, depth + 1, not statement.body)
        self.out.append(INDENT * depth + "}" + self.trailing(end))
        self.last_line = end


def format_document(document: Document, source: str) -> str:
    """Canonical layout: two-space indent, one statement a line, single blank lines kept."""
    printer = _Printer(document, source)
    printer.statements(document.statements, 0)
    printer.own_line_comments(10**9, 0, False)
    return "\n".join(printer.out).strip("\n") + "\n"
