"""Card -> the terminal card: one line a diagnostic, the verdicts, the cost, every data set,
the settings and the warnings."""

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

MARKS = {"pass": "PASS", "fail": "FAIL", "not_evaluable": "N/A "}


def render(card: dict[str, Any]) -> str:
    claim = card["claim"]
    relabel = claim["relabel"]
    lines = [
        f"Acceptance Card · {claim['title']}",
        f"defense {claim['defense']} · claims {claim['mechanism_claimed']}"
        + (f" (relabelled {relabel['to']}: {relabel['because']})" if relabel else "")
        + f" · model {claim['model']}",
        "",
        gap_line(card),
    ]
    for row in rows(card):
        lines.append(f"{MARKS[row.status]}  {row.title:<26} {row.figure}")
        if row.status != "pass" and row.reason:
            lines.append(f"      {'':<26} ↳ {row.reason}")
        if row.name == "mechanism" and safelora_line(card):
            lines.append(f"      {'':<26} ↳ {safelora_line(card)}")
    cost = deploy_line(card)
    lines += [
        "",
        f"deployment cost  {cost}" if cost else "deployment cost  not evaluable",
        f"verdict          {verdict_line(card)}",
        "",
        *_datasets(card),
        "",
        settings_line(card),
    ]
    lines += [f"warning: {w}" for w in card["warnings"]]
    return "\n".join(lines)


def _datasets(card: dict[str, Any]) -> list[str]:
    data = dataset_rows(card)
    width = max(len(d.label) for d in data)
    lines = [f"{'data set':<{width}}  clusters  gap undefended / gap defended / Δdeploy"]
    for d in data:
        lines.append(
            f"{d.label:<{width}}  {d.clusters:>8}  {d.gap_undefended} / {d.gap_defended} / "
            f"{d.delta_deploy}"
        )
    return lines
