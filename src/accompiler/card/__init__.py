"""Stage 5, results -> the card: build it (in PROTOCOL order, rounded, no timestamps), read
it back (version, migration, schema), and write it (validated, atomic)."""

from __future__ import annotations

from .document import CARD_VERSION, Card, parse_card, read_card, write_card

__all__ = ["CARD_VERSION", "Card", "parse_card", "read_card", "write_card"]
