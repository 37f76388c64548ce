"""Card -> Markdown, ready to paste into a paper's appendix."""

from __future__ import annotations

from typing import Any

from .summary import (
    dataset_rows,
    deploy_line,
    gap_line,
    rows,
    safelora_line,
    settings_line,
    verdict_line,
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(card: dict[str, Any]) -> str:
    claim = card["claim"]
    lines = [
        f"### Acceptance Card: {_cell(claim['title'])}",
        "",
        f"Defense **{_cell(claim['defense'])}** on `{claim['model']}`, claimed mechanism "
        f"`{claim['mechanism_claimed']}`"
        + (
            f", auditor's relabel `{claim['relabel']['to']}` ({_cell(claim['relabel']['because'])})"
            if claim["relabel"]
            else ""
        )
        + ".",
        "",
        f"Precondition: {gap_line(card)}.",
        "",
        "| diagnostic | status | result | reason |",
        "|---|---|---|---|",
    ]
    for row in rows(card):
        lines.append(
            f"| {row.title} | **{row.status}** | {_cell(row.figure)} | {_cell(row.reason)} |"
        )
    cost = deploy_line(card)
    if safelora_line(card):
        lines += ["", f"{safelora_line(card)}."]
    lines += [
        "",
        f"Deployment cost: {cost or 'not evaluable'}.",
        "",
        f"Verdict: {verdict_line(card)}.",
        "",
        "| data set | clusters | items | gap (undefended) | gap (defended) | Δgap | Δdeploy |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(d.label)} | {d.clusters} | {d.items} | {d.gap_undefended} | "
        f"{d.gap_defended} | {d.delta_gap} | {d.delta_deploy} |"
        for d in dataset_rows(card)
    ]
    lines += [
        "",
        f"_{settings_line(card)}; accard "
        f"{card['tool']['version']}, card version {card['card_version']}._",
    ]
    lines += [f"\n> warning: {_cell(w)}" for w in card["warnings"]]
    return "\n".join(lines)
