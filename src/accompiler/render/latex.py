"""Card -> a LaTeX table for a paper appendix (booktabs)."""

from __future__ import annotations

from typing import Any

from .summary import deploy_line, gap_line, rows, settings_line, verdict_line

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "Δ": r"$\Delta$",
    "ρ": r"$\rho$",
    "α": r"$\alpha$",
    "τ": r"$\tau$",
    "—": "---",
    "·": r"$\cdot$",
    "↳": "",
}


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(char, char) for char in text)


def render(card: dict[str, Any]) -> str:
    claim = card["claim"]
    lines = [
        r"\begin{table}[ht]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{llp{0.38\linewidth}p{0.28\linewidth}}",
        r"\toprule",
        r"Diagnostic & Status & Result & Reason \\",
        r"\midrule",
    ]
    for row in rows(card):
        lines.append(
            f"{escape(row.title)} & {escape(row.status)} & {escape(row.figure)} & "
            f"{escape(row.reason)} \\\\"
        )
    lines += [
        r"\midrule",
        rf"\multicolumn{{4}}{{l}}{{{escape(gap_line(card))}}} \\",
        rf"\multicolumn{{4}}{{l}}{{Deployment cost: {escape(deploy_line(card))}}} \\",
        rf"\multicolumn{{4}}{{l}}{{Verdict: {escape(verdict_line(card))}}} \\",
        r"\bottomrule",
        r"\end{tabular}",
        rf"\caption{{Acceptance Card: {escape(claim['title'])} ({escape(claim['defense'])}, "
        rf"claimed {escape(claim['mechanism_claimed'])}). {escape(settings_line(card))}.}}",
        r"\end{table}",
    ]
    return "\n".join(lines)
