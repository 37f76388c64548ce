"""Config tree -> Claim IR: one schema and one set of problems for both front-ends."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..problems import MAX_REPORTED, Problem, did_you_mean
from ..protocol import CONDITIONS, MECHANISM_CLASSES
from ..records.formats import FORMATS, RECORD_FIELDS
from ..span import Span
from ..spec.ast import Huge, Key, Mapping, Node, Scalar, Sequence
from .model import (
    ADAPTER_ROLES,
    LANGUAGE_VERSION,
    WEIGHT_ROLES,
    Adapter,
    Claim,
    DataSet,
    Defense,
    RecordFile,
    Records,
    Relabel,
)
from .settings import SETTINGS, Settings

PLACEHOLDER = re.compile(r"^<fill in\b.*>$", re.DOTALL)


MAX_TRANSFER_TARGETS = 100
TEXT_HELP = "claim text is printable Unicode: no control characters or lone surrogates"


def text_fault(value: str) -> str:
    """Why `value` cannot be claim text ('' when it can): a lone surrogate (UTF-8 cannot
    encode it, so no card could hold it) or a control character (NUL truncates C readers;
    ESC and BEL drive the terminal a card is printed on). Line and paragraph separators
    and every other printable character are text."""
    for char in value:
        if "\ud800" <= char <= "\udfff":
            escaped = char.encode("unicode_escape").decode("ascii")
            return f"holds a lone surrogate ({escaped}), which UTF-8 cannot encode"
        if char < " " or "\x7f" <= char <= "\x9f":
            return f"holds a control character (U+{ord(char):04X})"
    return ""


@dataclass
class _Fields:
    """Reads the entries of one Mapping, remembering which keys were asked for."""

    node: Mapping
    path: str
    problems: list[Problem]
    spans: dict[str, Span]
    known: set[str] = field(default_factory=set)
    missing: dict[str, Problem] = field(default_factory=dict)
    """Required keys not found, and their problem (dropped when a misspelling explains it)."""

    def entries(self, key: str) -> list[tuple[Key, Node]]:
        self.known.add(key)
        return [(k, v) for k, v in self.node.entries if k.name == key]

    def one(self, key: str, required: bool = False) -> Node | None:
        found = self.entries(key)
        for duplicate, _ in found[1:]:
            self.error(f"duplicate `{key}`", duplicate.span, key, "give it once")
        if not found:
            if required:
                self.error(f"missing `{key}` in {self.where()}", self.node.span, key)
                self.missing[key] = self.problems[-1]
            return None
        self.spans[self.sub(key)] = found[0][1].span
        return found[0][1]

    def where(self) -> str:
        return f"`{self.path}`" if self.path else "the spec"

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, summary: str, span: Span, key: str = "", detail: str = "") -> None:
        self.problems.append(Problem(summary, span, detail, self.sub(key) if key else self.path))

    def text(self, key: str, required: bool = False, default: str = "", path: bool = False) -> str:
        """A string; unless it is a `path` (claim/paths.py checks those), it must be text
        a card can hold: no lone surrogate, no control character."""
        node = self.one(key, required)
        if node is None:
            return default
        if not isinstance(node, Scalar) or node.kind not in ("string", "word"):
            self.error(f"`{key}` must be a string", node.span, key)
            return default
        value = str(node.value)
        fault = "" if path else text_fault(value)
        if fault:
            self.error(f"`{key}` {fault}", node.span, key, TEXT_HELP)
            return default
        if not value.strip():
            self.error(f"`{key}` must not be empty", node.span, key)
        return value

    def choice(self, key: str, choices: tuple[str, ...], required: bool = False) -> str:
        node = self.one(key, required)
        if node is None:
            return ""
        value = node.value if isinstance(node, Scalar) else None
        if value not in choices:
            shown = value if isinstance(value, str) else "this"
            self.error(
                f"unknown {key} `{shown}`{did_you_mean(str(shown), choices)}",
                node.span,
                key,
                "one of: " + ", ".join(choices),
            )
            return ""
        return str(value)

    def number(
        self,
        key: str,
        default: Any,
        fault: Callable[[Any], str],
        rule: str,
    ) -> Any:
        """A number that `fault` accepts ('' = no fault); `rule` is the help on a fault."""
        node = self.one(key)
        if node is None:
            return default
        value = node.value if isinstance(node, Scalar) and node.kind != "string" else None
        problem = f"`{key}` is out of range: {value}" if isinstance(value, Huge) else fault(value)
        if problem:
            self.error(problem, node.span, key, rule)
            return default
        return value

    def record_files(self, key: str) -> tuple[RecordFile, ...]:
        """`key "path"` entries, each optionally `{ condition deploy|eval }`."""
        files: list[RecordFile] = []
        for _key, node in self.entries(key):
            items = node.items if isinstance(node, Sequence) else (node,)
            for item in items:
                if isinstance(item, Scalar):
                    item = Mapping(((Key("path", item.span), item),), item.span)
                entry = self.as_fields(item, f"{self.sub(key)}[{len(files)}]", key)
                if entry is None:
                    continue
                path = entry.text("path", required=True, path=True)
                condition = entry.choice("condition", CONDITIONS) or None
                entry.finish()
                if path:
                    self.spans[f"{self.sub(key)}[{len(files)}]"] = entry.spans.get(
                        entry.sub("path"), item.span
                    )
                    files.append(RecordFile(path, condition))
        return tuple(files)

    def mapping(self, key: str, required: bool = False) -> _Fields | None:
        node = self.one(key, required)
        return self.as_fields(node, self.sub(key), key) if node is not None else None

    def as_fields(self, node: Node, path: str, key: str) -> _Fields | None:
        if not isinstance(node, Mapping):
            self.error(f"`{key}` must be a block", node.span, key)
            return None
        return _Fields(node, path, self.problems, self.spans)

    def finish(self) -> None:
        for key, _node in self.node.entries:
            if key.name not in self.known:
                # a suggestion only while problems are still shown (30,000 junk keys)
                shown = len(self.problems) <= MAX_REPORTED
                hint = did_you_mean(key.name, self.known) if shown else ""
                meant = hint.partition('"')[2].partition('"')[0]
                if meant in self.missing:  # `modle` explains the missing `model`: one problem
                    self.problems.remove(self.missing.pop(meant))
                self.error(
                    f"unknown keyword `{key.name}` in {self.where()}{hint}",
                    key.span,
                    key.name,
                    "known here: " + ", ".join(sorted(self.known)),
                )


def check_language_version(top: _Fields) -> Node | None:
    """The file's `accard N` line (required, this accard's language version); its node."""
    version = top.one("accard", required=True)
    if version is not None and (
        not isinstance(version, Scalar) or version.value != LANGUAGE_VERSION
    ):
        top.error(
            "unsupported language version",
            version.span,
            "accard",
            f"this accard reads version {LANGUAGE_VERSION}: `accard {LANGUAGE_VERSION}`",
        )
    return version


def decode_claim(tree: Mapping) -> tuple[Claim | None, list[Problem]]:
    """Build the Claim IR from a config tree; report every problem found, not just the first.
    A draft's unfilled placeholders are the only problems reported while any remain."""
    unfilled = list(_placeholders(tree, ""))
    if unfilled:
        return None, unfilled
    problems: list[Problem] = []
    spans: dict[str, Span] = {}
    top = _Fields(tree, "", problems, spans)
    check_language_version(top)
    body = top.mapping("claim", required=True)
    top.finish()
    claim = _claim(body, spans) if body is not None else None
    if any(p.is_error for p in problems):
        return None, problems
    return claim, problems


def _placeholders(node: Node, path: str) -> Iterator[Problem]:
    """Every `"<fill in: ...>"` string an `accard init` draft left, where it stands."""
    if isinstance(node, Scalar):
        if isinstance(node.value, str) and PLACEHOLDER.match(node.value):
            yield Problem(
                f"placeholder not filled in: {node.value}",
                node.span,
                "replace it with the value (the draft's comments say what it is)",
                path,
            )
    elif isinstance(node, Mapping):
        for key, child in node.entries:
            yield from _placeholders(child, f"{path}.{key.name}" if path else key.name)
    else:
        for index, child in enumerate(node.items):
            yield from _placeholders(child, f"{path}[{index}]")


def _claim(body: _Fields, spans: dict[str, Span]) -> Claim | None:
    title = body.text("title", required=True)
    defense = _defense(body.mapping("defense", required=True))
    model = body.text("model", required=True)
    records = _records(body)
    heldout = _dataset(body.mapping("heldout", required=True), "heldout", "task", records)
    fresh_fields = body.mapping("fresh")
    fresh = _dataset(fresh_fields, "fresh", None, records) if fresh_fields else None
    transfer = _transfers(body, records)
    adapters = _adapters(body.mapping("adapters"))
    settings, written = _settings(body.mapping("settings"))
    body.finish()
    if defense is None or heldout is None:
        return None
    return Claim(
        title,
        defense,
        model,
        records,
        heldout,
        fresh,
        transfer,
        adapters,
        settings,
        spans=spans,
        written_settings=written,
    )


def _defense(fields: _Fields | None) -> Defense | None:
    if fields is None:
        return None
    name = fields.text("name", required=True)
    mechanism = fields.choice("mechanism", MECHANISM_CLASSES, required=True)
    relabel = None
    relabel_fields = fields.mapping("relabel")
    if relabel_fields is not None:
        to = relabel_fields.choice("to", MECHANISM_CLASSES, required=True)
        because = relabel_fields.text("because")
        if not because.strip():
            relabel_fields.error(
                "a relabel needs a reason",
                relabel_fields.node.span,
                "because",
                'write `relabel shrinkage because "why the auditor recodes it"`',
            )
        relabel_fields.finish()
        relabel = Relabel(to, because)
    fields.finish()
    return Defense(name, mechanism, relabel)


def _records(body: _Fields, default: Records | None = None) -> Records:
    """A `records` statement (claim-level, or a data set's own, which defaults to it)."""
    fields = body.mapping("records")
    if fields is None:
        return default or Records.default()
    record_format = fields.choice("format", tuple(FORMATS)) or "canonical"
    mapping = dict(FORMATS[record_format].fields)
    for name in RECORD_FIELDS:
        mapping[name] = fields.text(name, default=mapping[name])
    chosen = fields.text("filter") or None
    if chosen is not None and not FORMATS[record_format].filtered:
        fields.error(
            "`filter` applies to lm_eval records only",
            fields.node.span,
            "filter",
            "lm-evaluation-harness writes one sample per (doc, filter)",
        )
    fields.finish()
    return Records(record_format, tuple(mapping.items()), chosen)


def _dataset(
    fields: _Fields | None, role: str, label: str | None, records: Records
) -> DataSet | None:
    if fields is None:
        return None
    name = fields.text(label, required=True) if label else role
    own_records = _records(fields, records)
    files = fields.record_files("file")
    undefended, defended = fields.record_files("undefended"), fields.record_files("defended")
    fields.finish()
    span = fields.node.span
    if files and (undefended or defended):
        fields.error("give either `file` or `undefended` + `defended`, not both", span)
    elif not files and not (undefended and defended):
        fields.error(
            f"`{fields.path}` names no record files",
            span,
            "file",
            'add `file "data.jsonl"` (arm from a field) or `undefended "u.jsonl"` and '
            '`defended "d.jsonl"` (arm from the file)',
        )
    return DataSet(role, name, files, undefended, defended, own_records)


def _transfers(body: _Fields, records: Records) -> tuple[DataSet, ...]:
    targets: list[DataSet] = []
    seen: dict[str, Span] = {}
    for _key, node in body.entries("transfer"):
        items = node.items if isinstance(node, Sequence) else (node,)
        for item in items:
            if len(targets) == MAX_TRANSFER_TARGETS:
                body.error(
                    f"more than {MAX_TRANSFER_TARGETS} transfer targets",
                    item.span,
                    "transfer",
                    "a claim names the transfer targets it asserts; split a larger audit",
                )
                return tuple(targets)
            fields = body.as_fields(item, f"claim.transfer[{len(targets)}]", "transfer")
            target = _dataset(fields, "transfer", "name", records)
            if target is None:
                continue
            if target.name in seen:
                body.error(
                    f"duplicate transfer target `{target.name}`",
                    item.span,
                    "transfer",
                    "give each transfer target a distinct name",
                )
            seen[target.name] = item.span
            targets.append(target)
    return tuple(targets)


def _adapters(fields: _Fields | None) -> tuple[Adapter, ...]:
    if fields is None:
        return ()
    adapters = []
    for role in ADAPTER_ROLES:
        node = fields.one(role, required=True)
        if node is None:
            continue
        if isinstance(node, Scalar):
            node = Mapping(((Key("path", node.span), node),), node.span)
        sub = fields.as_fields(node, fields.sub(role), role)
        if sub is None:
            continue
        path = sub.text("path", required=True, path=True)
        scale = sub.number("scale", None, _positive_scale, "a positive LoRA scale (alpha / r)")
        sub.finish()
        adapters.append(Adapter(role, path, scale))
    weights = [(role, fields.text(role, path=True)) for role in WEIGHT_ROLES]
    given = [role for role, path in weights if path]
    if len(given) == 1:
        fields.error(
            f"`{given[0]}` without `{'aligned' if given[0] == 'base' else 'base'}`",
            fields.node.span,
            given[0],
            "SafeLoRA's statistic needs both the base and the aligned weights",
        )
    adapters += [Adapter(role, path) for role, path in weights if path]
    fields.finish()
    return tuple(adapters)


def _positive_scale(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "`scale` must be a number"
    return "" if 0 < value <= 1e300 else f"`scale` is out of range: {value}"


def _settings(fields: _Fields | None) -> tuple[Settings, frozenset[str]]:
    """The settings block, every entry checked by its declaration; and the names written."""
    if fields is None:
        return Settings(), frozenset()
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = fields.number(setting.name, None, setting.fault, setting.help_text())
        if value is not None:
            values[setting.name] = value if setting.integer else float(value)
    fields.finish()
    return Settings(**values), frozenset(values)


# The audit decoder (accompiler.audit.decode) reads its statements with the same helpers, so
# an audit file's problems read exactly like a claim's.
Fields = _Fields
decode_settings = _settings
