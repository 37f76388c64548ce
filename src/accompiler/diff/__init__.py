"""Revisions of a claim: two sides (specs, cards, `REV:PATH` from git) -> the classified
changes between them (`accard diff`), and a spec's history (`accard log`).

Every change is classified by one table of rules (`rules.RULES`): weakened, strengthened or
neutral, following PROTOCOL's "Which way a change moves a claim".
"""

from __future__ import annotations

from .compare import compare
from .fields import diff_cards, render_changes
from .log import Entry, spec_history
from .rules import CLASSES, RULES, Change, Rule
from .sides import LOADERS, open_side
from .view import Revision, card_revision, spec_revision

__all__ = [
    "CLASSES",
    "LOADERS",
    "RULES",
    "Change",
    "Entry",
    "Revision",
    "Rule",
    "card_revision",
    "compare",
    "diff_cards",
    "open_side",
    "render_changes",
    "spec_history",
    "spec_revision",
]
