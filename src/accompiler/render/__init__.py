"""Renderers: a plan or a card (JSON documents) -> text for people. No computation here."""

from __future__ import annotations

from typing import Any


def render_card(card: dict[str, Any], output_format: str) -> str:
    from . import html, latex, markdown, svg, text

    renderers = {
        "text": text.render,
        "markdown": markdown.render,
        "latex": latex.render,
        "html": html.render,
        "svg": svg.render,
    }
    return renderers[output_format](card)
