"""Card -> a LaTeX table for a paper appendix (booktabs): symbols and signed numbers in math
mode (true minus signs, subscripts), the data sets, and every warning."""

from __future__ import annotations

import re
from typing import Any

from .summary import dataset_rows, deploy_line, gap_line, rows, settings_line, verdict_line

PACKAGES = r"% accard card: needs \usepackage{booktabs,tabularx,graphicx} (utf8 input: TeX 2018+)"

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
    "≤": r"$\le$",
    "—": "---",
    "·": r"$\cdot$",
    "↳": "",
}
# Symbols with subscripts, and numbers with an explicit sign, are set as math.
_MATH = {
    "ρ_AT": r"$\rho_{AT}$",
    "rho_AT": r"$\rho_{AT}$",
    "α_T": r"$\alpha_T$",
    "alpha_T": r"$\alpha_T$",
    "α_A": r"$\alpha_A$",
    "alpha_A": r"$\alpha_A$",
}
_TOKEN = re.compile(
    "|".join(re.escape(k) for k in sorted(_MATH, key=len, reverse=True))
    + r"|(?<![\w.])[+-]\d+(?:\.\d+)?|`[^`]*`"
)


def escape(text: str) -> str:
    out, position = [], 0
    for match in _TOKEN.finditer(text):
        out.append(_plain(text[position : match.start()]))
        token = match.group()
        if token.startswith("`"):
            out.append(rf"\texttt{{{_plain(token[1:-1])}}}")
        else:
            out.append(_MATH.get(token) or f"${token}$")
        position = match.end()
    out.append(_plain(text[position:]))
    return "".join(out)


def _plain(text: str) -> str:
    return "".join(_SPECIAL.get(char, char) for char in text)


def _span_row(text: str) -> str:
    return rf"\multicolumn{{4}}{{@{{}}p{{\linewidth}}@{{}}}}{{\raggedright {text}}} \\"


def render(card: dict[str, Any]) -> str:
    claim = card["claim"]
    lines = [
        PACKAGES,
        r"\begin{table}[ht]",
        r"\centering",
        r"\small",
        r"\begin{tabularx}{\linewidth}{@{}>{\raggedright}p{0.2\linewidth}l"
        r">{\raggedright}X>{\raggedright\arraybackslash}X@{}}",
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
        _span_row(escape(gap_line(card))),
        _span_row(f"Deployment cost: {escape(deploy_line(card) or 'not evaluable')}"),
        _span_row(f"Verdict: {escape(verdict_line(card))}"),
        *[_span_row(f"Warning: {escape(w)}") for w in card["warnings"]],
        r"\bottomrule",
        r"\end{tabularx}",
        r"\par\medskip",
        *_datasets(card),
        rf"\caption{{Acceptance Card: {escape(claim['title'])} ({escape(claim['defense'])}, "
        rf"claimed {escape(claim['mechanism_claimed'])}). {escape(settings_line(card))}.}}",
        r"\end{table}",
    ]
    return "\n".join(lines)


def _datasets(card: dict[str, Any]) -> list[str]:
    lines = [
        r"\resizebox{\linewidth}{!}{%",
        r"\begin{tabular}{lrllll}",
        r"\toprule",
        r"Data set & Clusters & Gap (undefended) & Gap (defended) & $\Delta$gap & "
        r"$\Delta$deploy \\",
        r"\midrule",
    ]
    for d in dataset_rows(card):
        cells = [d.label, d.clusters, d.gap_undefended, d.gap_defended]
        cells += [d.delta_gap, d.delta_deploy]
        lines.append(" & ".join(escape(c) for c in cells) + r" \\")
    return lines + [r"\bottomrule", r"\end{tabular}}"]
