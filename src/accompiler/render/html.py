"""Card -> a self-contained HTML page."""

from __future__ import annotations

from html import escape
from typing import Any

from . import svg
from .summary import deploy_line, gap_line, rows, settings_line, verdict_line

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
    "td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
    ".pass{color:#176d2b}.fail{color:#a11}.not_evaluable{color:#777}"
)


def render(card: dict[str, Any]) -> str:
    claim = card["claim"]
    body = "".join(
        f'<tr><td>{escape(r.title)}</td><td class="{r.status}">{escape(r.status)}</td>'
        f"<td>{escape(r.figure)}</td><td>{escape(r.reason)}</td></tr>"
        for r in rows(card)
    )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in card["warnings"])
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Acceptance Card: '
        f"{escape(claim['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(claim['title'])}</h1><p>{escape(claim['defense'])} · claims "
        f"{escape(claim['mechanism_claimed'])} · {escape(claim['model'])}</p>"
        f"<p>{escape(gap_line(card))}</p><table><tr><th>diagnostic</th><th>status</th>"
        f"<th>result</th><th>reason</th></tr>{body}</table>"
        f"<p>Deployment cost: {escape(deploy_line(card))}</p>"
        f"<p><strong>{escape(verdict_line(card))}</strong></p>"
        f"<p><small>{escape(settings_line(card))}</small></p>"
        + (f"<ul>{warnings}</ul>" if warnings else "")
        + svg.render(card)
        + "</body></html>"
    )
