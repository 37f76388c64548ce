"""Renderers: a plan or a card (JSON documents) -> text for people. No computation here."""

from __future__ import annotations

import importlib
from typing import Any

RENDERERS = ("text", "markdown", "latex", "html", "svg")


def render_card(card: dict[str, Any], output_format: str) -> str:
    """The card in `output_format`, one of RENDERERS (only that renderer is imported)."""
    if output_format not in RENDERERS:
        raise KeyError(output_format)
    module = importlib.import_module(f".{output_format}", __name__)
    rendered: str = module.render(card)
    return rendered
