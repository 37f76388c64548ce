"""Config tree -> the audit's declarations (`cell`, `cells`, `matrix`), with the claim
decoder's helpers, so that an audit file's problems read exactly like a claim's."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from ..claim.decode import Fields, check_language_version, decode_claim, decode_settings
from ..claim.settings import SETTINGS
from ..problems import Problem, did_you_mean
from ..span import Span
from ..spec.ast import Key, Node, Scalar, Sequence
from ..spec.ast import Mapping as Block
from . import template
from .model import Param


@dataclass(frozen=True)
class FileCells:
    """`cell "path"` (one claim file) or `cells "pattern"` (every file the glob finds)."""

    pattern: str
    glob: bool
    name: str | None
    group: str | None
    params: tuple[tuple[str, Param], ...]
    span: Span


@dataclass(frozen=True)
class AxisValue:
    value: Param
    links: tuple[tuple[str, Param], ...]
    span: Span


@dataclass(frozen=True)
class Matrix:
    """`matrix "name" { axes {...} claim ... }`: one cell per combination of axis values."""

    index: int
    name: str
    group: str | None
    folder: str
    axes: tuple[tuple[str, tuple[AxisValue, ...]], ...]
    template: Block
    span: Span

    def combinations(self) -> list[tuple[tuple[tuple[str, Param], ...], dict[str, Param]]]:
        """(parameters, linked values) of every cell, the first axis varying slowest."""
        names = [name for name, _ in self.axes]
        cells = []
        for chosen in product(*(values for _, values in self.axes)):
            params = tuple(zip(names, (v.value for v in chosen), strict=True))
            cells.append((params, {k: x for v in chosen for k, x in v.links}))
        return cells


Declaration = FileCells | Matrix


@dataclass(frozen=True)
class AuditFile:
    title: str
    overrides: dict[str, Param]
    declarations: tuple[Declaration, ...]
    version: Node
    """The `accard` statement's value: a template claim is decoded under it."""

    @property
    def matrices(self) -> list[Matrix]:
        return [d for d in self.declarations if isinstance(d, Matrix)]


def decode_audit(tree: Block) -> tuple[AuditFile | None, list[Problem]]:
    """Decode an audit file's tree; every problem found, each with its file:line:col."""
    problems: list[Problem] = []
    top = Fields(tree, "", problems, {})
    version = check_language_version(top)
    body = top.mapping("audit", required=True)
    top.finish()
    if body is None or version is None:
        return None, problems
    title = body.text("title", required=True)
    settings, written = decode_settings(body.mapping("settings"))
    overrides = {s.name: getattr(settings, s.name) for s in SETTINGS if s.name in written}
    declarations = _declarations(body)
    body.finish()
    if not declarations and not any(p.is_error for p in problems):
        body.error(
            "the audit names no cells",
            body.node.span,
            "",
            'add `cell "claim.ac"`, `cells "cells/*/claim.ac"` or a `matrix`',
        )
    audit = AuditFile(title, overrides, tuple(declarations), version)
    for matrix in audit.matrices:
        problems += _template_problems(audit, matrix)
    return (None if any(p.is_error for p in problems) else audit), problems


def _declarations(body: Fields) -> list[Declaration]:
    found = [(k, v) for name in ("cell", "cells", "matrix") for k, v in body.entries(name)]
    found.sort(key=lambda entry: (entry[0].span.line, entry[0].span.column))
    declarations: list[Declaration] = []
    for key, node in found:
        for item in node.items if isinstance(node, Sequence) else (node,):
            if key.name == "matrix":
                matrix = _matrix(body, item, len([d for d in declarations if _is_matrix(d)]))
                declarations += [matrix] if matrix else []
                continue
            cells = _file_cells(body, key.name, item)
            declarations += [cells] if cells else []
    return declarations


def _is_matrix(declaration: Declaration) -> bool:
    return isinstance(declaration, Matrix)


def _file_cells(body: Fields, keyword: str, node: Node) -> FileCells | None:
    label = "spec" if keyword == "cell" else "pattern"
    if isinstance(node, Scalar):
        node = Block(((Key(label, node.span), node),), node.span)
    fields = body.as_fields(node, f"audit.{keyword}", keyword)
    if fields is None:
        return None
    pattern = fields.text(label, required=True)
    name, group = fields.text("name") or None, fields.text("group") or None
    params = _params(fields) if keyword == "cell" else ()
    fields.finish()
    captures = set(template.names(pattern)) if keyword == "cells" else {k for k, _ in params}
    for text, key in ((name, "name"), (group, "group")):
        _unknown(fields, text or "", captures, fields.spans.get(fields.sub(key)), key)
    if not pattern:
        return None
    return FileCells(pattern, keyword == "cells", name, group, params, node.span)


def _params(fields: Fields) -> tuple[tuple[str, Param], ...]:
    block = fields.mapping("params")
    if block is None:
        return ()
    params = []
    for key, node in block.node.entries:
        value = _param(block, key, node)
        if value is not None:
            params.append((key.name, value))
    return tuple(params)


def _param(fields: Fields, key: Key, node: Node) -> Param | None:
    if not isinstance(node, Scalar) or node.kind not in ("string", "word", "number"):
        fields.error(f"`{key.name}` must be one number or string", node.span, key.name)
        return None
    if isinstance(node.value, bool) or node.value is None:
        return None
    return node.value


def _matrix(body: Fields, node: Node, index: int) -> Matrix | None:
    fields = body.as_fields(node, f"audit.matrix[{index}]", "matrix")
    if fields is None:
        return None
    name = fields.text("name", required=True)
    group, folder = fields.text("group") or None, fields.text("folder")
    axes = _axes(fields)
    claim = fields.one("claim", required=True)
    fields.finish()
    if claim is not None and not isinstance(claim, Block):
        fields.error("`claim` must be a block", claim.span, "claim")
        return None
    if claim is None or not axes:
        return None
    matrix = Matrix(index, name, group, folder, axes, claim, node.span)
    _check_placeholders(fields, matrix)
    return matrix


def _axes(fields: Fields) -> tuple[tuple[str, tuple[AxisValue, ...]], ...]:
    block = fields.mapping("axes", required=True)
    if block is None:
        return ()
    axes: dict[str, list[AxisValue]] = {}
    for key, node in block.node.entries:
        for item in node.items if isinstance(node, Sequence) else (node,):
            value = _axis_value(block, key, item)
            if value is None:
                continue
            if any(v.value == value.value for v in axes.get(key.name, [])):
                block.error(
                    f"`{key.name}` has the value {value.value!r} twice", item.span, key.name
                )
                continue
            axes.setdefault(key.name, []).append(value)
    if not axes:
        block.error("a matrix needs at least one axis", block.node.span, "", "e.g. `seed 0`")
    return tuple((name, tuple(values)) for name, values in axes.items())


def _axis_value(fields: Fields, key: Key, node: Node) -> AxisValue | None:
    """`seed 0`, or `defense "oracle" { mechanism attack_targeted }` (a value that binds
    more placeholders: YAML `{value: oracle, mechanism: attack_targeted}`)."""
    if isinstance(node, Scalar):
        value = _param(fields, key, node)
        return None if value is None else AxisValue(value, (), node.span)
    if not isinstance(node, Block):
        fields.error(f"`{key.name}` must be a value or a block", node.span, key.name)
        return None
    entry = Fields(node, fields.sub(key.name), fields.problems, fields.spans)
    first = entry.one("value", required=True)
    links = [(k.name, _param(entry, k, v)) for k, v in node.entries if k.name != "value"]
    value = _param(entry, Key("value", node.span), first) if first is not None else None
    if value is None or any(v is None for _, v in links):
        return None
    return AxisValue(value, tuple((k, v) for k, v in links if v is not None), node.span)


def _check_placeholders(fields: Fields, matrix: Matrix) -> None:
    axes = {name for name, _ in matrix.axes}
    links: set[str] = set()
    for name, values in matrix.axes:
        bound = [{k for k, _ in v.links} for v in values]
        links |= set().union(*bound)
        for value, names in zip(values, bound, strict=True):
            if names != bound[0]:
                fields.error(
                    f"the values of axis `{name}` bind different placeholders",
                    value.span,
                    "axes",
                    f"each value of `{name}` must bind: " + ", ".join(sorted(bound[0])),
                )
    for clash in sorted(links & axes):
        fields.error(f"`{clash}` is both an axis and a bound value", matrix.span, "axes")
    known = axes | links
    for key in ("name", "group", "folder"):
        text = {"name": matrix.name, "group": matrix.group, "folder": matrix.folder}[key]
        _unknown(fields, text or "", known, fields.spans.get(fields.sub(key)), key)
    for text, span in template.strings(matrix.template):
        _unknown(fields, text, known, span, "claim")


def _unknown(fields: Fields, text: str, known: set[str], span: Span | None, key: str) -> None:
    for name in template.names(text):
        if name not in known:
            hint = did_you_mean(name, known) if known else ""
            fields.error(
                f"unknown placeholder `{{{name}}}`{hint}",
                span or fields.node.span,
                key,
                "placeholders: "
                + (", ".join(sorted(known)) or "none here")
                + "; write `{{` for a literal brace",
            )


def template_tree(audit: AuditFile, matrix: Matrix, values: dict[str, Param]) -> Block:
    """A cell's claim as a claim file's tree: `accard 1` and the filled-in template."""
    claim = template.fill_node(matrix.template, values)
    assert isinstance(claim, Block)
    return Block(
        (
            (Key("accard", audit.version.span), audit.version),
            (Key("claim", matrix.template.span), claim),
        ),
        matrix.span,
    )


def _template_problems(audit: AuditFile, matrix: Matrix) -> list[Problem]:
    """The template decoded for its first cell: a mistake in it is the audit file's."""
    params, links = matrix.combinations()[0]
    _claim, problems = decode_claim(template_tree(audit, matrix, links | dict(params)))
    return problems
