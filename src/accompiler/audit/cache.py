"""A content-addressed cache of cards: a cell's card is reused when its spec, the sha256 of
every input, its settings and the tool's version are those of a card computed before.

Layout: `DIR/<key[:2]>/<key>.card.json`, each file exactly the card's bytes. A cached card
is used only if it is a valid card of this version whose inputs are the plan's.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .._version import __version__
from ..canonical import dumps
from ..card.document import CARD_VERSION, schema_problems
from ..claim.model import claim_to_json
from ..files import write_text_atomic
from ..pipeline import Planned

CACHE_FORMAT = 1


def cache_key(spec_sha256: str, planned: Planned) -> str:
    """The key of a planned cell: what its card is a function of, hashed."""
    material = {
        "cache_format": CACHE_FORMAT,
        "tool": __version__,
        "card_version": CARD_VERSION,
        "spec": spec_sha256,
        "claim": claim_to_json(planned.plan.claim),
        "inputs": [i.to_json() for i in planned.plan.inputs],
    }
    return hashlib.sha256(dumps(material).encode("utf-8")).hexdigest()


class CardCache:
    """Cards by key in a folder (shared by processes: every write is atomic)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.card.json"

    def get(self, key: str, planned: Planned) -> str | None:
        """The cached card's text, or None when absent or not the card this plan makes."""
        try:
            text = self.path(key).read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError):
            return None
        return text if _fits(document, planned) else None

    def put(self, key: str, text: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text)


def _fits(document: Any, planned: Planned) -> bool:
    if not isinstance(document, dict) or document.get("card_version") != CARD_VERSION:
        return False
    if document.get("inputs") != [i.to_json() for i in planned.plan.inputs]:
        return False
    return not schema_problems(document, "cached card")
