"""The audit summary -> one self-contained HTML report: inline CSS, the figures inline as
data URIs, no script and nothing fetched from a network."""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from .tables import columns, headline

_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:110rem;padding:0 1rem;"
    "color:#222}h1{font-size:1.4rem}.counts{font-size:1.05rem;background:#f4f6f8;"
    "padding:.6rem 1rem;border-radius:4px}.counts li{margin:.15rem 0}"
    "figure{display:inline-block;margin:1rem 1.5rem 1rem 0;vertical-align:top}"
    "figure img{max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:.9rem;color:#555}table{border-collapse:collapse;font-size:.85rem}"
    "th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left;"
    "white-space:nowrap}th{position:sticky;top:0;background:#fff}"
    ".pass{color:#176d2b}.fail{color:#a11;font-weight:600}.not_evaluable{color:#777}"
    ".failed td{background:#fff4f4}pre{background:#f7f7f7;padding:.6rem;overflow:auto}"
)
CAPTIONS = {
    "bootstrap": "Held-out Δgap against Δdeploy per cell, with both intervals; (a) passes "
    "when the whole vertical bar lies below 0 (the shaded half-plane).",
    "signature": "The LoRA signature (α_A, α_T) of each cell's defended update; the shaded "
    "wedge signs attack_targeted, the shrinkage region is labelled.",
}


def report(summary: dict[str, Any], figures: dict[str, bytes], note: str = "") -> str:
    """The page: title, counts, both figures, the table (a row per cell), the problems."""
    title = escape(summary["title"])
    counts = "".join(f"<li>{escape(line)}</li>" for line in headline(summary))
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>Audit: {title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<ul class="counts" id="counts">{counts}</ul>',
        _figures(figures, note),
        _table(summary),
        _problems(summary),
        _footer(summary),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _figures(figures: dict[str, bytes], note: str) -> str:
    if not figures:
        return f"<p>{escape(note)}</p>" if note else ""
    shown = []
    for name, caption in CAPTIONS.items():
        data = base64.b64encode(figures[f"{name}.svg"]).decode("ascii")
        shown.append(
            f'<figure id="{name}-plane"><img alt="{escape(caption)}" '
            f'src="data:image/svg+xml;base64,{data}"><figcaption>{escape(caption)}'
            "</figcaption></figure>"
        )
    return "<div>" + "".join(shown) + "</div>"


def _table(summary: dict[str, Any]) -> str:
    shown = columns(summary)
    head = "".join(f"<th>{escape(name)}</th>" for name, _ in shown)
    names = [d["name"] for d in summary["diagnostics"]]
    body = [
        _row(row, shown, names) if row["status"] == "computed" else _failed_row(row, shown)
        for row in summary["cells"]
    ]
    return (
        f'<table id="cells"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(body)
        + "</tbody></table>"
    )


def _row(row: dict[str, Any], shown: list[Any], names: list[str]) -> str:
    """A computed cell: statuses and verdicts coloured by their class."""
    statuses = [row["diagnostics"].get(n, "") for n in names]
    cells = []
    for index, (name, get) in enumerate(shown):
        css = statuses[index - 4] if 4 <= index < 4 + len(names) else _verdict_class(row, name)
        attribute = f' class="{css}"' if css else ""
        cells.append(f"<td{attribute}>{escape(get(row))}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def _failed_row(row: dict[str, Any], shown: list[Any]) -> str:
    leading = "".join(f"<td>{escape(get(row))}</td>" for _, get in shown[:4])
    first = row["problems"][0]["summary"] if row["problems"] else ""
    text = escape(f"could not be computed ({row['status']}): {first}")
    return f'<tr class="failed">{leading}<td colspan="{len(shown) - 4}">{text}</td></tr>'


def _verdict_class(row: dict[str, Any], column: str) -> str:
    if column in ("strict", "permissive") and row[column] is not None:
        return "pass" if row[column]["pass"] else "fail"
    return ""


def _problems(summary: dict[str, Any]) -> str:
    failed = [r for r in summary["cells"] if r["status"] != "computed"]
    if not failed:
        return ""
    blocks = []
    for row in failed:
        lines = "\n".join(
            f"{p['severity']}: {p['summary']}"
            + (f"\n  --> {p['location']}" if p["location"] else "")
            + (f"\n  = help: {p['detail']}" if p["detail"] else "")
            for p in row["problems"]
        )
        blocks.append(
            f"<details open><summary>{escape(row['cell'])}</summary><pre>{escape(lines)}</pre>"
            "</details>"
        )
    return '<h2 id="problems">Cells that could not be computed</h2>' + "".join(blocks)


def _footer(summary: dict[str, Any]) -> str:
    overrides = ", ".join(f"{k} {v}" for k, v in summary["overrides"].items())
    lines = [f"settings overridden in every cell: {overrides}"] if overrides else []
    lines += [f"warning: {w}" for w in summary["warnings"]]
    lines.append(f"{summary['tool']['name']} {summary['tool']['version']} · audit.v1")
    return "".join(f"<p><small>{escape(line)}</small></p>" for line in lines)
