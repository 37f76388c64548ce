"""The card as a document: its version, the typed Card, reading (version, migration, schema)
and writing (validated, atomic). The one module that knows which card versions exist."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..canonical import dumps
from ..files import write_text_atomic
from ..problems import Problem
from ..span import Span
from .locate import locate

CARD_VERSION = "1.1"
"""The version this accard writes, MAJOR or MAJOR.MINOR. A minor version only adds fields.
Readers take every card of a major they know: an older minor is migrated to this version
(`migrate`); a newer minor (a newer accard wrote it) is checked on the fields this version
knows, and its additions are named in a note; an unknown major is refused."""
SCHEMAS = {"1": "card.v1"}
MAX_CARD_BYTES = 64 << 20


@dataclass(frozen=True)
class Card:
    """A filled card: its JSON document (schemas/card.v1.schema.json) and what to do with it."""

    document: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.document[key]

    @property
    def passes(self) -> bool:
        """A strict full-card pass: every diagnostic passes under the authors' own coding."""
        return bool(self.document["verdict"]["strict"]["pass"])

    def to_json(self) -> str:
        return dumps(self.document)

    def render(self, output_format: str) -> str:
        """The card for people: text, markdown, latex, html or svg (json: `to_json`)."""
        if output_format == "json":
            return self.to_json()
        from ..render import render_card

        return render_card(self.document, output_format)


def card_version(document: Any) -> tuple[int, int] | None:
    """(major, minor) of a document's `card_version` ("1" is 1.0), or None if malformed."""
    version = document.get("card_version") if isinstance(document, dict) else None
    if not isinstance(version, str):
        return None
    major, _, minor = version.partition(".")
    if not major.isdigit() or not (minor.isdigit() or not minor) or len(version) > 16:
        return None
    return int(major), int(minor or 0)


def _current() -> tuple[int, int]:
    version = card_version({"card_version": CARD_VERSION})
    assert version is not None, CARD_VERSION
    return version


CURRENT = _current()


def migrate(document: dict[str, Any]) -> dict[str, Any]:
    """A card of an older minor version, as the current version reads it: every migration
    lives here, one step per minor version."""
    if card_version(document) == (1, 0):
        try:
            document = _from_1_0(document)
        except (KeyError, TypeError, AttributeError, IndexError):
            pass  # not shaped as a 1.0 card: the schema check names what is wrong
    return document


def _from_1_0(card: dict[str, Any]) -> dict[str, Any]:
    """1.0 -> 1.1: the numbers 1.1 adds are unknown (null), and (b) follows PROTOCOL's
    retention rule: not evaluable unless the held-out reduction is established."""
    from .verdict import verdicts

    card = copy.deepcopy(card)
    for data in card["datasets"]:
        _insert_before(data, "subjects", {"records_format": card["claim"]["records_format"]})
        _insert_before(data, "reason", {"intervals": None, "accuracy_intervals": None})
    sections = card["diagnostics"]
    fresh = sections["fresh_generalization"]
    _insert_before(fresh, "reason", {"delta_deploy": None})
    for target in sections["transfer"]["targets"]:
        _insert_before(target, "reason", {"delta_deploy": None})
    held = sections["reliability"]["delta_gap"]
    if fresh["status"] != "not_evaluable" and held is not None and held["ci_high"] >= 0:
        fresh.update(
            status="not_evaluable",
            retention=None,
            reason="the held-out reduction is not established (migrated from card 1.0)",
        )
    card["verdict"] = verdicts(sections)
    card["card_version"] = "1.1"
    return card


def _insert_before(entry: dict[str, Any], key: str, added: dict[str, Any]) -> None:
    """Add `added` just before `key`, keeping the rest of the order (cards are ordered)."""
    items = list(entry.items())
    at = next((i for i, (k, _) in enumerate(items) if k == key), len(items))
    entry.clear()
    entry.update(items[:at] + list(added.items()) + items[at:])


def schema_problems(
    document: Any, display: str, newer: bool = False, text: str | None = None
) -> list[Problem]:
    """Every schema violation, most relevant first, each named by its JSON path (and, given
    the card's `text`, its line). With `newer`, fields this version does not know are
    allowed (a newer minor added them)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import relevance

    from .._resources import load_schema

    version = card_version(document) or CURRENT
    validator = Draft202012Validator(load_schema(SCHEMAS.get(str(version[0]), "card.v1")))
    errors = sorted(validator.iter_errors(document), key=relevance)
    errors = [_deepest(e) for e in errors if not (newer and e.validator == "additionalProperties")]
    paths = [tuple(e.absolute_path) for e in errors]
    where = locate(text, paths) if text is not None and errors else {}
    return [
        Problem(
            f"{e.json_path}: {e.message}",
            Span(display, *where.get(path, (0, 0))),
            field=e.json_path,
        )
        for e, path in zip(errors, paths, strict=True)
    ]


def _deepest(error: Any) -> Any:
    """An anyOf (value-or-null) failure says little; the sub-error that reaches deepest into
    the card names the field that is wrong."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def parse_card(data: bytes, display: str) -> tuple[Card | None, list[Problem]]:
    """A card from its bytes: JSON (no NaN), a version this accard reads, migrated, valid
    against its schema and consistent with itself (card/consistency.py). Returns the card
    (or None) and every problem found, errors and notes (a card from a newer minor version
    gets a note)."""
    document, problems = _json(data, display)
    if problems:
        return None, problems
    if not isinstance(document, dict):
        kind = type(document).__name__.replace("list", "an array").replace("dict", "an object")
        summary = f"not a card: the JSON is {kind}, a card is an object with a `card_version`"
        return None, [Problem(summary, Span(display, 1, 1))]
    version = card_version(document)
    if version is None or str(version[0]) not in SCHEMAS:
        found = document.get("card_version")
        summary = (
            "not a card: it has no `card_version` (it reads 1.x)"
            if found is None
            else f"card_version {found!r} is not one this accard reads (it reads 1.x)"
        )
        return None, [Problem(summary, Span(display, 0), field="$.card_version")]
    newer = version > CURRENT
    document = document if newer else migrate(document)
    text = data.decode("utf-8") if version >= CURRENT else None  # an older one is migrated
    problems = schema_problems(document, display, newer, text)
    if not problems:
        from .consistency import consistency_problems

        problems = consistency_problems(document, display, text, version == CURRENT)
    if problems:
        return None, problems
    if newer:
        problems.append(_newer_note(document["card_version"], display))
    return Card(document), problems


def _newer_note(version: str, display: str) -> Problem:
    return Problem(
        f"card version {version} is newer than this accard's {CARD_VERSION}: the fields it "
        "knows were checked, the ones a newer version added were not",
        Span(display, 0),
        "upgrade accard to check every field",
        "$.card_version",
        severity="note",
    )


def card_bytes(path: Path, display: str | None = None) -> bytes:
    """A card file's bytes (a regular file of at most 64 MiB), or SpecError (exit 2)."""
    from ..files import InputError, read_regular
    from ..problems import SpecError

    try:
        return read_regular(path, MAX_CARD_BYTES, "card")
    except InputError as error:
        summary = f"the card {error.summary}"
        raise SpecError([Problem(summary, Span(display or str(path), 0), error.detail)]) from None


def read_card(path: Path, display: str | None = None) -> tuple[Card | None, list[Problem]]:
    """`parse_card` of a file, refused when it is larger than 64 MiB."""
    from ..files import InputError, read_regular

    display = display or str(path)
    try:
        data = read_regular(path, MAX_CARD_BYTES, "card")
    except InputError as error:
        return None, [Problem(f"the card {error.summary}", Span(display, 0), error.detail)]
    return parse_card(data, display)


class _Constant(float):
    """NaN or Infinity as parsed, kept so that the problem can name where it stood."""

    name: str

    def __new__(cls, name: str) -> _Constant:
        value = super().__new__(cls, name)
        value.name = name
        return value


def _json(data: bytes, display: str) -> tuple[Any, list[Problem]]:
    """The card's JSON. A card holds finite numbers and printable text: NaN, Infinity, a
    lone surrogate or a control character (a terminal escape) is a problem at its path."""
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_Constant)
    except json.JSONDecodeError as error:
        span = Span(display, error.lineno, error.colno)
        spec_like = display.lower().endswith((".ac", ".yaml", ".yml"))
        detail = (
            "this looks like a claim spec: a card is the JSON `accard check SPEC --out CARD` "
            "writes (`accard reproduce` takes SPEC first, then CARD)"
            if spec_like
            else ""
        )
        return None, [Problem(f"not JSON ({error.msg})", span, detail)]
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        return None, [Problem(f"not JSON ({error})", Span(display, 0))]
    found = unfit(document, "$")
    if found is not None:
        path, what = found
        return None, [Problem(f"{path}: {what}", Span(display, 0), field=path)]
    return document, []


def unfit(value: Any, path: str) -> tuple[str, str] | None:
    """The first value no card may hold, as (JSON path, what it is), or None."""
    if isinstance(value, _Constant):
        return path, f"{value.name} is not a number a card may hold"
    if isinstance(value, str):
        for char in value:
            if "\ud800" <= char <= "\udfff":
                return path, "a lone surrogate is not text a card may hold"
            if char < " " or "\x7f" <= char <= "\x9f":
                return path, f"a control character (U+{ord(char):04X}) is not text a card may hold"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"
            found = unfit(key, child) or unfit(item, child)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unfit(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def write_card(card: Card, path: Path) -> None:
    """Validate (schema and consistency), then write atomically: a temporary file of its
    own in the same folder, flushed to disk, renamed over `path`. A read-only destination
    is refused, not replaced.

    Raises:
        ValueError: the card does not match its schema or is inconsistent (a bug, never a
            user's input).
        OSError: the destination cannot be written.
    """
    errors = schema_problems(card.document, str(path))
    if not errors:
        from .consistency import consistency_problems

        errors = consistency_problems(card.document, str(path))
    if errors:
        raise ValueError("the card is not valid: " + errors[0].summary)
    write_text_atomic(path, card.to_json())
