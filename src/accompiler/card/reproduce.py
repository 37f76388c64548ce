"""A submitted card and its spec -> a Reproduction: the inputs checked against the card's
hashes first, then the card recomputed (`pipeline.check`) with the card's own settings, and
every difference listed under a stated tolerance. What `accard reproduce` and `accard
verify` report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..problems import Problem
from ..span import Span
from .comparison import EXACT, Comparison, Difference, Tolerance, compare_cards
from .document import Card

SETTING_FIELDS = {
    "confidence": ("confidence", "level"),
    "rho_at": ("rho_at", "rho_at_threshold"),
    "safelora_threshold": ("safelora_threshold", "threshold"),
}
"""The card fields that record each setting (by default, the field of its own name)."""


@dataclass(frozen=True)
class InputChange:
    """An input whose bytes differ from the card's record, or that only one side lists."""

    role: str
    path: str
    card_sha256: str | None
    now_sha256: str | None

    def describe(self) -> str:
        if self.card_sha256 is None:
            return f"the spec reads {self.path} ({self.role}), which the card does not list"
        if self.now_sha256 is None:
            return f"the card lists {self.path} ({self.role}), which the spec does not read"
        return (
            f"the data changed since the card was made: {self.path} (sha256 "
            f"{self.card_sha256[:12]}… in the card, {self.now_sha256[:12]}… now)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "path": self.path,
            "card_sha256": self.card_sha256,
            "sha256": self.now_sha256,
            "message": self.describe(),
        }


@dataclass(frozen=True)
class Reproduction:
    """What a recomputation of a submitted card found."""

    spec: str
    card: str
    tolerance: Tolerance
    settings: dict[str, Any]
    """The settings the recomputation used."""
    overridden: dict[str, tuple[Any, Any]]
    """Settings that differ from the card's: name -> (the card's, the one used)."""
    input_changes: list[InputChange]
    comparison: Comparison | None
    """None when the inputs differ (nothing was recomputed)."""
    notes: list[str] = field(default_factory=list)
    byte_identical: bool = False

    @property
    def reproduced(self) -> bool:
        return (
            not self.input_changes
            and self.comparison is not None
            and not self.comparison.differences
        )

    @property
    def differences(self) -> list[Difference]:
        return self.comparison.differences if self.comparison else []

    def headline(self) -> str:
        if self.input_changes:
            count = len(self.input_changes)
            return (
                f"{self.card}: NOT reproduced from {self.spec}: {count} input"
                f"{'s' if count != 1 else ''} differ from the card's record (not recomputed)"
            )
        if not self.reproduced:
            count = len(self.differences)
            return (
                f"{self.card}: NOT reproduced from {self.spec}: {count} value"
                f"{'s' if count != 1 else ''} differ"
            )
        if self.byte_identical:
            return f"{self.card}: reproduced byte for byte from {self.spec}"
        tolerated = len(self.comparison.tolerated) if self.comparison else 0
        if tolerated:
            return (
                f"{self.card}: reproduced from {self.spec} within the Monte-Carlo tolerance "
                f"({tolerated} interval bound{'s' if tolerated != 1 else ''} moved within it)"
            )
        return f"{self.card}: reproduced from {self.spec} (every value equal)"

    def render(self) -> str:
        """The report for people: headline, settings, tolerance, what differs, notes."""
        lines = [self.headline()]
        lines.append(f"  settings    {self._settings_text()}")
        lines.append(f"  tolerance   {self.tolerance.name}: {self.tolerance.describe()}")
        for change in self.input_changes:
            lines.append(f"  input       {change.describe()}")
        for difference in self.differences:
            lines.append(f"  differs     {_difference_text(difference)}")
        tolerated = self.comparison.tolerated if self.comparison else []
        if tolerated:
            most = max(tolerated, key=lambda d: d.multiple or 0.0)
            lines.append(
                f"  tolerated   {len(tolerated)} interval bound"
                f"{'s' if len(tolerated) != 1 else ' '} moved within the tolerance; the most: "
                f"{_difference_text(most)}"
            )
        for note in self.notes:
            lines.append(f"  note        {note}")
        return "\n".join(lines)

    def _settings_text(self) -> str:
        if not self.overridden:
            return "the card's own (" + _settings_line(self.settings) + ")"
        changed = ", ".join(
            f"{name} {_value(used)} (the card: {_value(mine)})"
            for name, (mine, used) in self.overridden.items()
        )
        return f"the card's own, except {changed}"

    def problems(self) -> list[Problem]:
        """Each reason it is not reproduced, as a problem on the card (for --problems)."""
        found = [
            Problem(c.describe(), Span(self.card, 0), "", f"$.inputs[{c.role!r}]")
            for c in self.input_changes
        ]
        for difference in self.differences:
            found.append(
                Problem(
                    f"not reproduced: {_difference_text(difference)}",
                    Span(self.card, 0),
                    f"recomputed from {self.spec}; tolerance {self.tolerance.name}",
                    difference.path,
                )
            )
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "card": self.card,
            "reproduced": self.reproduced,
            "byte_identical": self.byte_identical,
            "tolerance": self.tolerance.to_json(),
            "settings": self.settings,
            "overridden": {
                name: {"card": mine, "used": used} for name, (mine, used) in self.overridden.items()
            },
            "input_changes": [c.to_json() for c in self.input_changes],
            "differences": [d.to_json() for d in self.differences],
            "tolerated": [
                d.to_json() for d in (self.comparison.tolerated if self.comparison else [])
            ],
            "notes": self.notes,
        }


def reproduce(
    spec: Path,
    card: Card,
    *,
    card_bytes: bytes | None = None,
    overrides: Mapping[str, Any] | None = None,
    tolerance: Tolerance = EXACT,
    spec_settings: bool = False,
    display: tuple[str, str] | None = None,
    option_names: Mapping[str, str] | None = None,
) -> Reproduction:
    """Recompute `spec`'s card with `card`'s own settings and compare it with `card`.

    Args:
        spec: the submitted spec.
        card: the submitted card (read with `read_card`: valid and consistent).
        card_bytes: the card file's bytes, to say whether it reproduced byte for byte.
        overrides: settings to use instead of the card's (e.g. {"seed": 7}).
        tolerance: how close the numbers must be.
        spec_settings: use the spec's settings, not the card's, under the overrides.
        display: how the report names the spec and the card.
        option_names: how problems name each override (the CLI passes "--seed").

    Raises:
        SpecError: the spec, an override or an input is wrong.
    """
    from ..claim.settings import recorded_settings
    from ..pipeline import check

    names = display or (str(spec), "the card")
    recorded = recorded_settings(card["settings"])
    used = ({} if spec_settings else recorded) | dict(overrides or {})
    changes = _changed_inputs(spec, card, names[0])
    if changes:
        overridden = _overridden(recorded, used)
        return Reproduction(*names, tolerance, used, overridden, changes, None, _notes(card))
    recomputed = check(spec, overrides=used, option_names=option_names)
    return _compared(card, recomputed, names, tolerance, card_bytes)


def _changed_inputs(spec: Path, card: Card, display: str) -> list[InputChange]:
    """The spec's inputs, hashed now, against the card's record."""
    from ..claim import load_spec
    from ..plan import compile_plan

    claim, _ = load_spec(spec, display)
    plan, _ = compile_plan(claim, spec.parent)
    return input_changes(card["inputs"], [i.to_json() for i in plan.inputs])


def _compared(
    card: Card,
    recomputed: Card,
    names: tuple[str, str],
    tolerance: Tolerance,
    card_bytes: bytes | None,
) -> Reproduction:
    from ..claim.settings import recorded_settings

    settings = recorded_settings(recomputed["settings"])
    overridden = _overridden(recorded_settings(card["settings"]), settings)
    expected = {
        name: f"recomputed with {setting} {_value(used)} (the card: {_value(mine)})"
        for setting, (mine, used) in overridden.items()
        for name in SETTING_FIELDS.get(setting, (setting,))
    }
    comparison = compare_cards(card.document, recomputed.document, tolerance, expected)
    notes = _notes(card)
    if tolerance.name == "exact" and {"seed", "resamples"} & overridden.keys():
        notes.append("another seed or B moves every bound: compare with --tolerance mc")
    identical = card_bytes is not None and card_bytes == recomputed.to_json().encode("utf-8")
    return Reproduction(
        *names,
        tolerance,
        settings,
        overridden,
        [],
        comparison,
        notes + comparison.skipped,
        identical,
    )


def input_changes(card: list[dict[str, Any]], now: list[dict[str, Any]]) -> list[InputChange]:
    """Inputs, matched by role and path, whose sha256 differs or that one side lacks."""
    mine = {(i["role"], i["path"]): i["sha256"] for i in card}
    theirs = {(i["role"], i["path"]): i["sha256"] for i in now}
    changes = [
        InputChange(role, path, sha, theirs.get((role, path)))
        for (role, path), sha in mine.items()
        if theirs.get((role, path)) != sha
    ]
    return changes + [
        InputChange(role, path, None, sha)
        for (role, path), sha in theirs.items()
        if (role, path) not in mine
    ]


def _overridden(recorded: dict[str, Any], used: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        name: (recorded.get(name), value)
        for name, value in used.items()
        if name in recorded and recorded[name] != value
    }


def _notes(card: Card) -> list[str]:
    version = card["tool"]["version"]
    if version == __version__:
        return []
    return [
        f"the card was made by accard {version}, recomputed by accard {__version__}: the "
        "version is not compared"
    ]


def _difference_text(difference: Difference) -> str:
    text = (
        f"{difference.path}: card {_value(difference.card)}, "
        f"recomputed {_value(difference.recomputed)}"
    )
    return text + (f" ({difference.detail})" if difference.detail else "")


def _settings_line(settings: dict[str, Any]) -> str:
    return ", ".join(f"{name} {_value(value)}" for name, value in settings.items())


def _value(value: Any) -> str:
    import json

    from .comparison import ABSENT

    if value is ABSENT:
        return "absent"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
