"""Revision x Revision -> classified changes: the claim, its data sets, settings and inputs
(every pair of sides), what only specs hold (spec vs spec) and the results (card vs card)."""

from __future__ import annotations

from typing import Any

from ..claim.settings import SETTINGS, Setting
from .results import compare_results
from .rules import Change, change, setting_direction
from .view import Revision, setting_path

_CLAIM_RULES = {
    "$.claim.title": "title.changed",
    "$.claim.defense": "defense.renamed",
    "$.claim.model": "model.changed",
}
# A card section that holds nothing but one data set's results: when the data set is added
# or removed, its numbers are part of that change and only its status is compared.
_SECTION_OF = {"fresh": "$.diagnostics.fresh_generalization"}


def compare(old: Revision, new: Revision) -> list[Change]:
    """Every change from `old` to `new`, classified, in the order the card holds them.

    Both sides may be specs or cards: their claims, data sets, settings and inputs are
    always compared; what only specs hold when both are specs; the results when both are
    cards.
    """
    changes = _claim(old, new)
    data_changes, moved_inputs, quiet = _datasets(old, new)
    changes += data_changes + _settings(old, new) + _inputs(old, new, moved_inputs)
    if old.kind == new.kind == "spec":
        reformatted = {k for k, f in old.formats.items() if new.formats.get(k, f) != f}
        changes += _spec_only(old.spec_only, new.spec_only, reformatted)
    if old.card is not None and new.card is not None:
        changes += compare_results(old.card, new.card, quiet)
    return changes


def _claim(old: Revision, new: Revision) -> list[Change]:
    changes = [
        change(rule, path, old.claim[path], new.claim[path])
        for path, rule in _CLAIM_RULES.items()
        if old.claim[path] != new.claim[path]
    ]
    path = "$.claim.mechanism_claimed"
    before, after = old.claim[path], new.claim[path]
    if before != after:
        changes.append(change(f"mechanism.to_{after}", path, before, after))
    return changes + _relabel(old.claim["$.claim.relabel"], new.claim["$.claim.relabel"])


def _relabel(old: dict[str, str] | None, new: dict[str, str] | None) -> list[Change]:
    path = "$.claim.relabel"
    if old == new:
        return []
    if old is None or new is None:
        return [change("relabel.added" if old is None else "relabel.removed", path, old, new)]
    changes = []
    if old["to"] != new["to"]:
        changes.append(change(f"relabel.to_{new['to']}", f"{path}.to", old["to"], new["to"]))
    if old["because"] != new["because"]:
        path = f"{path}.because"
        changes.append(change("relabel.reason_changed", path, old["because"], new["because"]))
    return changes


def _datasets(old: Revision, new: Revision) -> tuple[list[Change], set[str], frozenset[str]]:
    """Data sets added, removed or renamed; the input keys those changes account for; the
    card sections whose numbers they account for."""
    changes = []
    if old.heldout != new.heldout:
        path = "$.datasets['heldout'].name"
        changes.append(change("heldout.renamed", path, old.heldout, new.heldout))
    for key, before in old.formats.items():
        after = new.formats.get(key, before)
        if before != after:
            path = f"$.datasets[{key!r}].records_format"
            changes.append(change("records.changed", path, before, after))
    removed = [k for k in old.datasets if k not in new.datasets]
    added = [k for k in new.datasets if k not in old.datasets]
    for before, after in _renamed(old, new, removed, added):
        removed.remove(before)
        added.remove(after)
        path = f"$.datasets[{after!r}].name"
        changes.append(change("transfer.renamed", path, _name(before), _name(after)))
    for key in removed:
        rule = f"{key.partition(':')[0]}.removed"
        changes.append(change(rule, f"$.datasets[{key!r}]", old.files(key), None))
    for key in added:
        rule = f"{key.partition(':')[0]}.added"
        changes.append(change(rule, f"$.datasets[{key!r}]", None, new.files(key)))
    accounted = {k for key in old.datasets if key not in new.datasets for k in old.datasets[key]}
    accounted |= {k for key in new.datasets if key not in old.datasets for k in new.datasets[key]}
    quiet = frozenset(_SECTION_OF[k] for k in {*old.datasets} ^ {*new.datasets} if k in _SECTION_OF)
    return changes, accounted, quiet


def _renamed(
    old: Revision, new: Revision, removed: list[str], added: list[str]
) -> list[tuple[str, str]]:
    """Transfer targets that only changed their name: the same record contents."""
    pairs = []
    unmatched = [key for key in added if key.startswith("transfer:")]
    for before in (key for key in removed if key.startswith("transfer:")):
        match = next((a for a in unmatched if new.contents(a) == old.contents(before)), None)
        if match is not None:
            unmatched.remove(match)
            pairs.append((before, match))
    return pairs


def _name(key: str) -> str:
    return key.partition(":")[2]


def _settings(old: Revision, new: Revision) -> list[Change]:
    changes = []
    for setting in SETTINGS:
        if setting.name not in old.settings or setting.name not in new.settings:
            continue
        before, after = old.settings[setting.name], new.settings[setting.name]
        if before != after:
            rule = _setting_rule(setting, before, after)
            changes.append(change(rule, setting_path(setting), before, after))
    return changes


def _setting_rule(setting: Setting, before: Any, after: Any) -> str:
    prefix = f"settings.{setting.name}"
    if setting_direction(setting.name) is None:
        return f"{prefix}.changed"
    if before is None or after is None:
        return f"{prefix}.added" if before is None else f"{prefix}.removed"
    return f"{prefix}.raised" if after > before else f"{prefix}.lowered"


def _inputs(old: Revision, new: Revision, accounted: set[str]) -> list[Change]:
    changes = []
    for key in _union(old.inputs, new.inputs):
        before, after = old.inputs.get(key), new.inputs.get(key)
        if before == after or key in accounted:
            continue
        path = f"$.inputs[{key!r}]"
        old_json = before.to_json() if before else None
        new_json = after.to_json() if after else None
        if before is None or after is None:
            rule = "input.added" if before is None else "input.removed"
        else:
            rule = "input.changed" if before.sha256 != after.sha256 else "input.moved"
        changes.append(change(rule, path, old_json, new_json))
    return changes


def _spec_only(old: dict[str, Any], new: dict[str, Any], reformatted: set[str]) -> list[Change]:
    """A part on one side only belongs to a data set or adapter added or removed; a data set
    read in another format has that format's field map (the format change names it)."""
    skip = tuple(f"claim:$.datasets[{key!r}]." for key in reformatted)
    changes = []
    for path in old:
        if path not in new or path.startswith(skip):
            continue
        before, after = old[path], new[path]
        if before != after:
            rule = "adapter.scale.changed" if ".adapters." in path else "records.changed"
            changes.append(change(rule, path, before, after))
    return changes


def _union(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys of both, in old's order with new's additions after them."""
    return [*old, *(k for k in new if k not in old)]
