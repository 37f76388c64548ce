"""Classified changes -> text (grouped by class, coloured on a terminal), Markdown (a "changes
since the last revision" section for a paper's appendix), JSON; and a claim's history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from ..canonical import dumps
from .log import Entry
from .rules import CLASSES, NEUTRAL, STRENGTHENED, WEAKENED, Change

_COLOURS = {WEAKENED: "red", STRENGTHENED: "green", NEUTRAL: "yellow"}


def grouped(changes: Sequence[Change]) -> list[Change]:
    """Weakened, then strengthened, then neutral; the comparison's order within each."""
    return sorted(changes, key=lambda c: CLASSES.index(c.cls))


def summary(changes: Sequence[Change]) -> str:
    """'2 weakened · 1 strengthened · 3 neutral'."""
    return " · ".join(f"{sum(c.cls == cls for c in changes)} {cls}" for cls in CLASSES)


def text(changes: Sequence[Change], old: str, new: str) -> str:
    """Every change under its class, two lines each: id, path and both values; the reason."""
    if not changes:
        return f"no changes from {old} to {new}"
    lines = [f"{old} → {new}: {summary(changes)}"]
    for cls in CLASSES:
        group = [c for c in changes if c.cls == cls]
        if not group:
            continue
        lines += ["", click.style(f"{cls} ({len(group)})", fg=_COLOURS[cls], bold=True)]
        width = max(len(c.id) for c in group)
        for item in group:
            name = click.style(f"{item.id:<{width}}", fg=_COLOURS[cls])
            lines.append(f"  {name}  {item.path}: {_values(item)}")
            lines.append(f"  {' ' * width}  {item.reason}")
    return "\n".join(lines)


def markdown(changes: Sequence[Change], old: str, new: str) -> str:
    """A "Changes since the last revision" section: one table per class."""
    lines = ["## Changes since the last revision", ""]
    if not changes:
        return "\n".join([*lines, f"No changes from `{old}` to `{new}`."])
    lines.append(f"From `{old}` to `{new}`: {summary(changes)} (`accard diff`).")
    for cls in CLASSES:
        group = [c for c in changes if c.cls == cls]
        if not group:
            continue
        lines += ["", f"### {cls.capitalize()}", ""]
        lines += ["| change | field | before | after | why |", "|---|---|---|---|---|"]
        for item in group:
            cells = (f"`{item.id}`", f"`{item.path}`", show(item.old), show(item.new), item.reason)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def as_json(changes: Sequence[Change]) -> str:
    """The changes as `schemas/diff.v1.schema.json` describes them."""
    return dumps([c.to_json() for c in changes])


def log_text(entries: Sequence[Entry], spec: str) -> str:
    """One line per commit, then its changes, one a line, under it."""
    if not entries:
        return f"{spec}: no commits in its history"
    lines = []
    for entry in entries:
        head = f"{entry.commit.short}  {entry.commit.date}  {entry.commit.subject}"
        lines.append(f"{click.style(head, bold=True)}  ({_state(entry)})")
        width = max((len(c.id) for c in entry.changes), default=0)
        for item in grouped(entry.changes):
            cls = click.style(f"{item.cls:<12}", fg=_COLOURS[item.cls])
            lines.append(f"    {cls} {item.id:<{width}}  {item.path}: {_values(item)}")
    return "\n".join(lines)


def log_json(entries: Sequence[Entry]) -> str:
    """The history as `schemas/log.v1.schema.json` describes it."""
    return dumps([e.to_json() for e in entries])


def _state(entry: Entry) -> str:
    if entry.state == "changed":
        return summary(entry.changes)
    return {
        "first": "first revision",
        "unchanged": "the spec's text changed, the claim did not",
        "removed": "the spec was removed",
        "invalid": f"the spec does not load: {entry.problem}",
    }[entry.state]


def _values(change: Change) -> str:
    return f"{show(change.old)} → {show(change.new)}"


def show(value: Any) -> str:
    """A value as a reader wants it: — for none, 6 significant digits, an input as its path
    and hash prefix, a relabel as `class because "reason"`."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return _show_mapping(value)
    return str(value)


def _show_mapping(value: dict[str, Any]) -> str:
    if value.keys() == {"path", "sha256"}:
        return f"{value['path']} ({value['sha256'][:12]})"
    if value.keys() == {"to", "because"}:
        return f"{value['to']} because {json.dumps(value['because'], ensure_ascii=False)}"
    if value.keys() == {"estimate", "ci_low", "ci_high"}:
        bounds = f"[{show(value['ci_low'])}, {show(value['ci_high'])}]"
        return f"{show(value['estimate'])} {bounds}"
    if value.keys() == {"name", "version"}:
        return f"{value['name']} {value['version']}"
    return json.dumps(value, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
