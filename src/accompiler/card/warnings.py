"""A card's warnings, read from the card itself: the builder writes them and `accard
validate` re-derives them with this one function, so neither can drift from the other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..diagnostics import DIAGNOSTICS


def card_warnings(card: Mapping[str, Any]) -> list[str]:
    """Small data sets, bootstrap and t intervals that disagree on the sign of an upper
    bound, each diagnostic's own warnings, and the same bytes read in two roles."""
    warnings = []
    min_clusters = card["settings"]["min_clusters"]
    for data in card["datasets"]:
        clusters = data["clusters"]
        if clusters is not None and clusters < min_clusters:
            warnings.append(
                f"`{data['name']}` has {clusters} question clusters "
                f"(fewer than {min_clusters}): its intervals are unreliable"
            )
        for name, interval in (data.get("intervals") or {}).items():
            if interval["cross_check"]["sign_disagreement"]:
                warnings.append(
                    f"`{data['name']}`: the bootstrap and t intervals of {name} "
                    "disagree on the sign of the upper bound"
                )
    for name, entry in DIAGNOSTICS.items():
        warnings += entry.warnings(card["diagnostics"][name])
    return warnings + _reused_inputs(card["inputs"])


def _reused_inputs(inputs: list[dict[str, Any]]) -> list[str]:
    """The same bytes read in two roles (a held-out file passed off as fresh, say); an
    adapter config shared by two adapters is expected."""
    roles_by_hash: dict[str, list[str]] = {}
    for item in inputs:
        role = item["role"]
        if not (role.startswith("adapter/") and role.endswith("/config")):
            roles_by_hash.setdefault(item["sha256"], []).append(role)
    return [
        f"the same file content is read as {' and '.join(roles)}"
        for roles in roles_by_hash.values()
        if len(roles) > 1
    ]
