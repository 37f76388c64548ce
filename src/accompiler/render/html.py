"""Card -> a self-contained HTML page (inline CSS and figure, no network)."""

from __future__ import annotations

from html import escape
from typing import Any

from . import svg
from .summary import dataset_rows, deploy_line, gap_line, rows, settings_line, verdict_line

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
    "td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
    ".pass{color:#176d2b}.fail{color:#a11}.not_evaluable{color:#777}"
)


def _table(header: list[str], body: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = []
    for index, cells in enumerate(body):
        css = classes[index] if classes else ""
        tds = "".join(
            f'<td class="{css}">{escape(c)}</td>' if i == 1 and css else f"<td>{escape(c)}</td>"
            for i, c in enumerate(cells)
        )
        lines.append(f"<tr>{tds}</tr>")
    return f"<table><tr>{head}</tr>{''.join(lines)}</table>"


def render(card: dict[str, Any]) -> str:
    claim = card["claim"]
    diagnostics = rows(card)
    table = _table(
        ["diagnostic", "status", "result", "reason"],
        [[r.title, r.status, r.figure, r.reason] for r in diagnostics],
        [r.status for r in diagnostics],
    )
    datasets = _table(
        ["data set", "clusters", "gap (undefended)", "gap (defended)", "Δgap", "Δdeploy"],
        [
            [d.label, d.clusters, d.gap_undefended, d.gap_defended, d.delta_gap, d.delta_deploy]
            for d in dataset_rows(card)
        ],
    )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in card["warnings"])
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Acceptance Card: '
        f"{escape(claim['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(claim['title'])}</h1><p>{escape(claim['defense'])} · claims "
        f"{escape(claim['mechanism_claimed'])} · {escape(claim['model'])}</p>"
        f"<p>{escape(gap_line(card))}</p>{table}"
        f"<p>Deployment cost: {escape(deploy_line(card) or 'not evaluable')}</p>"
        f"<p><strong>{escape(verdict_line(card))}</strong></p>{datasets}"
        f"<p><small>{escape(settings_line(card))}</small></p>"
        + (f"<ul>{warnings}</ul>" if warnings else "")
        + svg.render(card)
        + "</body></html>"
    )
