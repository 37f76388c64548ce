"""The audit summary (JSON) -> its table for a terminal, CSV, Markdown and LaTeX. Every
number is read from the summary; nothing is computed here."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from ..render.latex import escape
from . import template
from .summary import flat_rows

Row = dict[str, Any]
MARKS = {"pass": "pass", "fail": "FAIL", "not_evaluable": "n/e"}
DEFENSE_WIDTH = 28


def interval(value: dict[str, float] | None) -> str:
    if value is None:
        return "—"
    return f"{value['estimate']:+.3f} [{value['ci_low']:+.3f}, {value['ci_high']:+.3f}]"


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def params(row: Row) -> str:
    shown = [f"{k}={template.show(v)}" for k, v in row["params"].items()]
    return ", ".join(shown) or "—"


def verdict(row: Row, kind: str) -> str:
    value = row[kind]
    if value is None:
        return "—"
    return f"{'PASS' if value['pass'] else 'FAIL'} {value['passed']}"


def headline(summary: dict[str, Any]) -> list[str]:
    """The counts on top: cells computed and reused, passes, the diagnostic failing most."""
    counts = summary["counts"]
    cells, computed = counts["cells"], counts["computed"]
    reused = f" ({counts['reused']} reused from the cache)" if counts["reused"] else ""
    lines = [
        f"{cells} cells: {computed} computed{reused}, {counts['failed']} could not be computed",
        f"strict pass {counts['strict_pass']} of {computed} · permissive pass "
        f"{counts['permissive_pass']} of {computed}",
    ]
    letters = {d["name"]: f"({d['letter']}) {d['title']}" for d in summary["diagnostics"]}
    fails = " · ".join(f"{letters[name]} {n['fail']}" for name, n in counts["diagnostics"].items())
    most = ", ".join(letters[name] for name in counts["most_failed"])
    lines.append(f"fails most: {most or 'none'} (cells failing: {fails})")
    return lines


def columns(summary: dict[str, Any]) -> list[tuple[str, Callable[[Row], str]]]:
    diagnostics = [(f"({d['letter']})", _status(d["name"])) for d in summary["diagnostics"]]
    return [
        ("cell", lambda r: str(r["cell"])),
        ("defense", lambda r: r["defense"] or "—"),
        ("hyper-parameters", params),
        ("seed", lambda r: "—" if r["seed"] is None else template.show(r["seed"])),
        *diagnostics,
        ("strict", lambda r: verdict(r, "strict")),
        ("permissive", lambda r: verdict(r, "permissive")),
        ("Δgap", lambda r: interval(r["delta_gap"])),
        ("Δdeploy", lambda r: interval(r["delta_deploy"])),
        ("α_T", lambda r: number(r["alpha_t"])),
        ("α_A", lambda r: number(r["alpha_a"])),
        ("ρ_AT", lambda r: number(r["rho_at"])),
    ]


def _status(name: str) -> Callable[[Row], str]:
    def status(row: Row) -> str:
        found = (row["diagnostics"] or {}).get(name)
        return MARKS.get(found, "—") if found else "—"

    return status


def _failure(row: Row) -> str:
    first = row["problems"][0]["summary"] if row["problems"] else "no card"
    return f"could not be computed ({row['status']}): {first}"


def text(summary: dict[str, Any]) -> str:
    """For a terminal: title, counts, then one aligned row per cell."""
    shown = columns(summary)
    cells = [[get(r) for _, get in shown] for r in summary["cells"]]
    for row, values in zip(summary["cells"], cells, strict=True):
        values[1] = _clip(values[1], DEFENSE_WIDTH)
        if row["status"] != "computed":
            values[4:] = [_failure(row)]
    widths = [
        max([len(name)] + [len(v[i]) for v in cells if i < 4 or len(v) == len(shown)])
        for i, (name, _) in enumerate(shown)
    ]
    head = "  ".join(f"{name:<{w}}" for (name, _), w in zip(shown, widths, strict=True))
    body = [
        "  ".join(f"{v:<{w}}" for v, w in zip(values, widths, strict=False)).rstrip()
        for values in cells
    ]
    marked = "reused from the cache: " + ", ".join(
        r["cell"] for r in summary["cells"] if r["reused"]
    )
    tail = [marked] if summary["counts"]["reused"] else []
    return "\n".join(
        [f"Audit · {summary['title']}", *headline(summary), "", head.rstrip(), *body, *tail]
        + [f"warning: {w}" for w in summary["warnings"]]
    )


def _clip(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def csv_text(summary: dict[str, Any]) -> str:
    """A header and one line per cell, every interval as three columns."""
    rows = flat_rows(summary)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def markdown(summary: dict[str, Any]) -> str:
    shown = columns(summary)
    lines = [f"**{_md(summary['title'])}**", ""]
    lines += [f"- {_md(line)}" for line in headline(summary)]
    lines += ["", "| " + " | ".join(name for name, _ in shown) + " |"]
    lines.append("|" + "---|" * len(shown))
    for row in summary["cells"]:
        values = [get(row) for _, get in shown]
        if row["status"] != "computed":
            values[4:] = [_failure(row)] + [""] * (len(shown) - 5)
        values = [f"**{v}**" if v.startswith("FAIL") else v for v in values]
        lines.append("| " + " | ".join(_md(v) for v in values) + " |")
    lines += [f"\n> warning: {_md(w)}" for w in summary["warnings"]]
    return "\n".join(lines) + "\n"


def _md(value: str) -> str:
    return value.replace("|", "\\|")


LATEX_PACKAGES = r"% accard audit: needs \usepackage{array,booktabs,longtable,pdflscape}"
LATEX_MARKS = {"pass": "P", "fail": r"\textbf{F}", "not_evaluable": "n/e"}
# Columns that wrap (p{}): cell, defense, hyper-parameters, and the two intervals, whose
# bounds go under their estimate; the rest is set as is.
LATEX_WIDTHS = {"cell": "2.6cm", "defense": "2.3cm", "hyper-parameters": "1.6cm"}


def latex(summary: dict[str, Any]) -> str:
    """A landscape longtable (booktabs) for a paper's appendix, counts in its caption."""
    shown = columns(summary)
    spec = "".join(_latex_column(name) for name, _ in shown)
    head = " & ".join(escape(name) for name, _ in shown) + r" \\"
    legend = "P pass, F fail, n/e not evaluable; verdicts: how many of the diagnostics pass"
    caption = escape(f"{summary['title']}. " + "; ".join(headline(summary)) + f". {legend}.")
    lines = [
        LATEX_PACKAGES,
        r"\begin{landscape}",
        r"\scriptsize",
        r"\setlength{\tabcolsep}{2.5pt}",
        rf"\begin{{longtable}}{{{spec}}}",
        rf"\caption{{{caption}}}\\",
        r"\toprule",
        head,
        r"\midrule",
        r"\endhead",
    ]
    for row in summary["cells"]:
        values = [_latex_value(name, get, row) for name, get in shown]
        if row["status"] != "computed":
            rest = len(shown) - 4
            text = escape(_failure(row))
            values[4:] = [rf"\multicolumn{{{rest}}}{{p{{15cm}}}}{{{text}}}"]
        lines.append(" & ".join(values) + r" \\")
    lines += [r"\bottomrule", r"\end{longtable}", r"\end{landscape}"]
    return "\n".join(lines) + "\n"


def _latex_column(name: str) -> str:
    if name in LATEX_WIDTHS:
        return rf">{{\raggedright\arraybackslash}}p{{{LATEX_WIDTHS[name]}}}"
    if name in ("Δgap", "Δdeploy"):
        return "p{2.1cm}"
    return "r" if name in ("seed", "α_T", "α_A", "ρ_AT") else "c"


def _latex_value(name: str, get: Callable[[Row], str], row: Row) -> str:
    if name in ("Δgap", "Δdeploy"):
        value = row["delta_gap" if name == "Δgap" else "delta_deploy"]
        if value is None:
            return "---"
        bounds = f"[{value['ci_low']:+.3f}, {value['ci_high']:+.3f}]"
        return escape(f"{value['estimate']:+.3f}") + rf" \newline \mbox{{{escape(bounds)}}}"
    text = get(row)
    if name.startswith("(") and text in MARKS.values():
        return LATEX_MARKS[{v: k for k, v in MARKS.items()}[text]]
    if name in ("strict", "permissive") and row[name] is not None:
        mark = "P" if row[name]["pass"] else r"\textbf{F}"
        return f"{mark} {row[name]['passed']}/{len(summary_names(row))}"
    return escape(text)


def summary_names(row: Row) -> list[str]:
    return list(row["diagnostics"] or {})
