"""The .ac front-end: text -> statement AST (lark LALR) -> config tree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, VisitError

from .._resources import grammar_path
from ..problems import Problem, did_you_mean
from ..span import Span
from . import tables
from .ast import Comment, Document, Key, Mapping, Node, Scalar, Statement, Value, integer

MAX_DEPTH = 16


@lru_cache(maxsize=2)
def _parser(strict: bool = False) -> Lark:
    """The LALR parser: from the shipped tables (see tables.py); strict=True (the tests)
    builds it from the grammar, failing on any conflict or terminal collision."""
    if strict:
        return tables.build(grammar_path().read_text(encoding="utf-8"), strict=True)
    return tables.parser()


def parse_document(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse .ac source into a `Document`; a syntax error gives one problem and no document."""
    too_deep = _nesting_problem(text, file)
    if too_deep is not None:
        return None, [too_deep]
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        return None, [_syntax_problem(error, text, file)]
    transformer = _ToAst(file)
    try:
        statements = transformer.transform(tree)
    except VisitError as error:
        raise error.orig_exc from None
    problems = transformer.problems
    return Document(file, statements, _comments(text)), problems


def _comments(text: str) -> tuple[Comment, ...]:
    comments = []
    for number, line in enumerate(text.splitlines(), start=1):
        column = _comment_column(line)
        if column is not None:
            comments.append(Comment(number, line[column:].rstrip(), not line[:column].strip()))
    return tuple(comments)


def _comment_column(line: str) -> int | None:
    in_string = escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return index
    return None


def _span(file: str, item: Any) -> Span:
    return Span(file, item.line, item.column, item.end_line, item.end_column)


class _ToAst(Transformer[Token, tuple[Statement, ...]]):
    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.problems: list[Problem] = []

    def start(self, children: list[Statement]) -> tuple[Statement, ...]:
        return tuple(children)

    def block(self, children: list[Statement]) -> tuple[Statement, ...]:
        return tuple(children)

    @v_args(meta=True)
    def statement(self, meta: Any, children: list[Any]) -> Statement:
        keyword: Token = children[0]
        values = tuple(c for c in children[1:] if isinstance(c, Value))
        blocks = [c for c in children[1:] if isinstance(c, tuple)]
        return Statement(
            str(keyword),
            _span(self.file, keyword),
            values,
            blocks[0] if blocks else None,
            _span(self.file, meta),
        )

    def string(self, children: list[Token]) -> Value:
        token = children[0]
        try:
            value = json.loads(token)
        except json.JSONDecodeError:
            self.problems.append(
                Problem(
                    "invalid escape in string",
                    _span(self.file, token),
                    'strings use JSON escapes: \\" \\\\ \\n \\t \\uXXXX',
                )
            )
            value = str(token)[1:-1]
        return Value(value, "string", str(token), _span(self.file, token))

    def number(self, children: list[Token]) -> Value:
        token = children[0]
        text = str(token)
        is_int = text.lstrip("+-").isdigit()
        number: int | float = integer(text) if is_int else float(text)
        return Value(number, "number", text, _span(self.file, token))

    def word(self, children: list[Token]) -> Value:
        token = children[0]
        return Value(str(token), "word", str(token), _span(self.file, token))


# --- syntax errors -------------------------------------------------------------------------

_CHARACTER_HINTS = {
    ":": ("unexpected `:`", 'write `keyword value`, without a colon: `model "gemma"`'),
    "=": ("unexpected `=`", "write `keyword value`, without `=`: `seed 0`"),
    ",": ("unexpected `,`", "statements end at the end of the line; repeat a keyword for a list"),
    ";": ("unexpected `;`", "statements end at the end of the line, not with `;`"),
    "[": (
        "unexpected `[`",
        'there are no lists: repeat the statement (`file "a"` then `file "b"`)',
    ),
    "]": (
        "unexpected `]`",
        'there are no lists: repeat the statement (`file "a"` then `file "b"`)',
    ),
    "'": ("unexpected `'`", 'strings use double quotes: "like this"'),
    '"': ("unterminated string", 'close the string with `"` on the same line'),
}

# Known mistakes, labelled by the LALR state they leave the parser in (lark match_examples).
_TOKEN_EXAMPLES: dict[str, list[str]] = {
    "unclosed block": [
        'accard 1\nclaim "t" {\n  model "m"\n',
        'accard 1\nclaim "t" {\n  a {\n    b 1\n  }\n  model "m"\n',
        'accard 1\nclaim "t" {\n  a {\n    b 1\n',
        'accard 1\nclaim "t" {\n',
        'claim "t" {\n',
    ],
    "unexpected `}`": ['accard 1\nclaim "t" {\n}\n}\n', "a 1\n}\n", "accard 1\n}\n"],
    "a block must open on the line of its keyword": [
        'accard 1\nclaim "t"\n{\n}\n',
        'accard 1\nclaim "t" {\n  a\n  {\n  }\n}\n',
    ],
    "statements must be on separate lines": [
        'accard 1\nclaim "t" {\n  a { b 1 } c 2\n}\n',
        'accard 1\nclaim "t" {\n  a { } "x"\n}\n',
        'accard 1\nclaim "t" {\n} a\n',
    ],
}

_TOKEN_HELP = {
    "unclosed block": "add the missing `}`; every `{` needs a `}`",
    "unexpected `}`": "remove it, or add the `{` it was meant to close",
    "a block must open on the line of its keyword": (
        'put `{` at the end of the line: `claim "..." {`'
    ),
    "statements must be on separate lines": "start a new line after `}`",
}


def _syntax_problem(error: UnexpectedInput, text: str, file: str) -> Problem:
    line, column = max(error.line, 1), max(error.column, 1)
    span = Span(file, line, column, line, column + 1)
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        summary, help_text = _CHARACTER_HINTS.get(
            char, (f"unexpected character `{char}`", "remove it")
        )
        return Problem(f"syntax error: {summary}", span, help_text)
    label = error.match_examples(_parser().parse, _TOKEN_EXAMPLES, use_accepts=True)
    token = getattr(error, "token", None)
    if label is None and token is not None:
        label = _label_by_token(token.type, text[: getattr(error, "pos_in_stream", 0) or 0])
    if label is None:
        found = "end of file" if token is None or token.type == "$END" else f"`{token}`"
        return Problem(f"syntax error: unexpected {found}", span, "see README, 'The spec language'")
    if label == "unclosed block":
        span = _unmatched_brace(text, file) or span
    return Problem(f"syntax error: {label}", span, _TOKEN_HELP[label])


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _label_by_token(token_type: str, before: str) -> str | None:
    """Fallback when no corpus example shares the parser state."""
    if token_type == "$END":
        return "unclosed block"
    if token_type == "RBRACE":
        return "unexpected `}`"
    if token_type == "LBRACE":
        return "a block must open on the line of its keyword"
    if before.rstrip(" \t").endswith("}"):
        return "statements must be on separate lines"
    return None


def _code_characters(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, character) outside strings and comments."""
    for number, line in enumerate(text.splitlines(), start=1):
        code = _STRING.sub(lambda m: " " * len(m.group()), line).split("#", 1)[0]
        for index, char in enumerate(code):
            yield number, index + 1, char


def _nesting_problem(text: str, file: str) -> Problem | None:
    """Blocks nested past MAX_DEPTH, found before parsing (a deep tree would exhaust the
    recursion of the tree transformer)."""
    depth = 0
    for line, column, char in _code_characters(text):
        depth += (char == "{") - (char == "}")
        if depth > MAX_DEPTH:
            span = Span(file, line, column, line, column + 1)
            return Problem(f"blocks nested deeper than {MAX_DEPTH}", span)
    return None


def _unmatched_brace(text: str, file: str) -> Span | None:
    opened: list[Span] = []
    for line, column, char in _code_characters(text):
        if char == "{":
            opened.append(Span(file, line, column, line, column + 1))
        elif char == "}" and opened:
            opened.pop()
    return opened[-1] if opened else None


# --- AST -> config tree --------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """Positional values of a statement; a label starting with `=` is a literal word."""

    labels: tuple[str, ...] = ("value",)
    block: str = "no"

    @property
    def is_scalar(self) -> bool:
        return self.labels == ("value",) and self.block == "no"


_BLOCK = Signature((), "yes")
DATA_SETS = ("heldout", "fresh", "transfer")
SIGNATURES: dict[tuple[str, str], Signature] = {
    ("", "claim"): Signature(("title",), "yes"),
    ("claim", "defense"): Signature(("name",), "yes"),
    ("claim", "records"): Signature(("format",), "optional"),
    ("claim", "heldout"): Signature(("task",), "yes"),
    ("claim", "fresh"): _BLOCK,
    ("claim", "transfer"): Signature(("name",), "yes"),
    ("claim", "adapters"): _BLOCK,
    ("claim", "settings"): _BLOCK,
    ("defense", "relabel"): Signature(("to", "=because", "because")),
    **{
        (data, key): Signature(("path",), "optional")
        for data in DATA_SETS
        for key in ("file", "undefended", "defended")
    },
    **{(data, "records"): Signature(("format",), "optional") for data in DATA_SETS},
    ("adapters", "undefended"): Signature(("path",), "optional"),
    ("adapters", "defended"): Signature(("path",), "optional"),
    ("adapters", "reference"): Signature(("path",), "optional"),
    # The audit file (accompiler.audit): many claims in one statement; a matrix's `claim`
    # block is a claim template, read with the claim's own signatures.
    ("", "audit"): Signature(("title",), "yes"),
    ("audit", "settings"): _BLOCK,
    ("audit", "cell"): Signature(("spec",), "optional"),
    ("audit", "cells"): Signature(("pattern",), "optional"),
    ("audit", "matrix"): Signature(("name",), "yes"),
    ("cell", "params"): _BLOCK,
    ("matrix", "axes"): _BLOCK,
    ("matrix", "claim"): Signature(("title",), "yes"),
}


def signature(parent: str, keyword: str) -> Signature:
    return SIGNATURES.get((parent, keyword), Signature())


def document_to_tree(document: Document) -> tuple[Mapping, list[Problem]]:
    """Turn statements into the config tree the YAML front-end also builds."""
    problems: list[Problem] = []
    span = Span(document.file, 1, 1)
    return _body_to_mapping(document.statements, "", span, problems), problems


def _body_to_mapping(
    body: tuple[Statement, ...], parent: str, span: Span, problems: list[Problem]
) -> Mapping:
    entries = tuple(
        (Key(s.keyword, s.keyword_span), _statement_to_node(s, parent, problems)) for s in body
    )
    return Mapping(entries, span)


def _statement_to_node(statement: Statement, parent: str, problems: list[Problem]) -> Node:
    sig = signature(parent, statement.keyword)
    if sig.block == "yes" and statement.body is None:
        problems.append(
            Problem(
                f"`{statement.keyword}` needs a block",
                statement.span,
                f"write `{_example(statement.keyword, sig)}`",
            )
        )
        return Mapping((), statement.span)
    if sig.is_scalar and statement.body is None and len(statement.values) == 1:
        value = statement.values[0]
        return Scalar(value.value, value.kind, value.span)
    misspelt = (parent, statement.keyword) not in SIGNATURES and did_you_mean(
        statement.keyword, [key for (where, key) in SIGNATURES if where == parent]
    )
    # a misspelt keyword (`relabl`) is the decoder's "unknown keyword", not an arity fault
    entries = [] if misspelt else list(_label_entries(statement, sig, problems))
    if statement.body is not None:
        if sig.block == "no" and (parent, statement.keyword) in SIGNATURES:
            problems.append(Problem(f"`{statement.keyword}` takes no block", statement.span))
        inner = _body_to_mapping(statement.body, statement.keyword, statement.span, problems)
        entries.extend(inner.entries)
    return Mapping(tuple(entries), statement.span)


def _label_entries(statement: Statement, sig: Signature, problems: list[Problem]) -> list[Any]:
    labels = sig.labels if not sig.is_scalar else ("value",)
    values = statement.values
    if len(values) != len(labels) and not (sig.is_scalar and statement.body is not None):
        problems.append(_arity_problem(statement, sig))
        return []
    entries = []
    # An unknown keyword with a block keeps only its block; the decoder reports the keyword.
    for label, value in zip(labels, values, strict=False):
        if label.startswith("="):
            if value.value != label[1:] or value.kind != "word":
                problems.append(
                    Problem(f"expected the word `{label[1:]}`, found `{value.raw}`", value.span)
                )
            continue
        entries.append((Key(label, value.span), Scalar(value.value, value.kind, value.span)))
    return entries


def _arity_problem(statement: Statement, sig: Signature) -> Problem:
    wanted = len(sig.labels)
    got = len(statement.values)
    plural = "value" if wanted == 1 else "values"
    span = statement.values[wanted].span if got > wanted else statement.keyword_span
    return Problem(
        f"`{statement.keyword}` takes {wanted} {plural}, found {got}",
        span,
        f"write `{_example(statement.keyword, sig)}`",
    )


def _example(keyword: str, sig: Signature) -> str:
    parts = [keyword] + [p[1:] if p.startswith("=") else f"<{p}>" for p in sig.labels]
    if sig.block == "yes":
        parts.append("{ ... }")
    return " ".join(parts)


def parse_tree(text: str, file: str) -> tuple[Mapping | None, Document | None, list[Problem]]:
    document, problems = parse_document(text, file)
    if document is None:
        return None, None, problems
    tree, tree_problems = document_to_tree(document)
    return tree, document, problems + tree_problems


__all__ = ["parse_document", "document_to_tree", "parse_tree", "SIGNATURES", "Tree"]
