"""Card -> an SVG figure: every interval the gates read, and the adapter signature.

Left: the installed gap, each data set's delta_gap and the held-out delta_deploy with their
95% intervals, coloured by the diagnostic's status; (a), (b) and (d) need the whole
interval left of the dashed zero line. Right, as the paper's Figure 3: the defended
update's (alpha_A, alpha_T) against the attack-targeted wedge rho_AT < threshold and the
uniform-shrinkage diagonal.

With matplotlib installed (`accard[plots]`) this is the audit figures' own drawing
(render.figures.card_figure: labels placed where they fit, a legend); without it, the plain
drawing below (pure Python, the same bytes everywhere: the golden renderings pin it).
Neither has an XML prolog, so the HTML card inlines either.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..diagnostics import DIAGNOSTICS

WIDTH, HEIGHT, PANEL, MARGIN = 790, 380, 300, 50
LABEL_CHARS, TITLE_CHARS = 44, 90


def render(card: dict[str, Any]) -> str:
    """The card's figure: matplotlib's when it is installed, else the plain one."""
    if not matplotlib_installed():
        return plain(card)
    from .figures import card_figure

    drawing = card_figure(card, fmt="svg").decode("utf-8")
    return drawing[drawing.index("<svg") :]


def matplotlib_installed() -> bool:
    try:
        import matplotlib  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


def _clip(text: str, limit: int) -> str:
    """Text the plain drawing has room for: at most `limit` characters (else an ellipsis)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Axes:
    def __init__(self, left: float, x_range: tuple[float, float], y_range: tuple[float, float]):
        self.left, self.x_range, self.y_range = left, x_range, y_range

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / (high - low) * PANEL

    def y(self, value: float) -> float:
        low, high = self.y_range
        return MARGIN + PANEL - (value - low) / (high - low) * PANEL

    def frame(self, x_label: str, y_label: str) -> list[str]:
        parts = [
            f'<rect x="{self.left}" y="{MARGIN}" width="{PANEL}" height="{PANEL}" '
            'fill="none" stroke="#999"/>'
        ]
        for value, anchor in ((self.x_range[0], "start"), (self.x_range[1], "end")):
            parts.append(
                f'<text x="{self.x(value):.1f}" y="{MARGIN + PANEL + 14}" '
                f'text-anchor="{anchor}">{value:+.2f}</text>'
            )
        for value in self.y_range if y_label else ():
            parts.append(
                f'<text x="{self.left - 4}" y="{self.y(value) + 4:.1f}" '
                f'text-anchor="end">{value:+.2f}</text>'
            )
        parts.append(
            f'<text x="{self.left + PANEL / 2}" y="{MARGIN + PANEL + 32}" '
            f'text-anchor="middle">{escape(x_label)}</text>'
        )
        parts.append(
            f'<text transform="translate({self.left - 38},{MARGIN + PANEL / 2}) '
            f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text>'
        )
        return parts


def _span(values: list[float], pad: float = 0.05) -> tuple[float, float]:
    low, high = min(values + [0.0]), max(values + [0.0])
    margin = max(high - low, 0.1) * pad
    return low - margin, high + margin


STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c0392b", "not_evaluable": "#888888", "": "#1f6f8b"}


def _letter(name: str) -> str:
    return f"({DIAGNOSTICS[name].letter})"


def _rows(card: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    d = card["diagnostics"]
    rows = [
        ("installed gap (held-out)", card["precondition"]["installed_gap"], ""),
        (
            f"{_letter('reliability')} Δgap held-out",
            d["reliability"]["delta_gap"],
            d["reliability"]["status"],
        ),
        (
            f"{_letter('fresh_generalization')} Δgap fresh",
            d["fresh_generalization"]["delta_gap"],
            d["fresh_generalization"]["status"],
        ),
    ]
    rows += [
        (f"{_letter('transfer')} Δgap {t['name']}", t["delta_gap"], t["status"])
        for t in d["transfer"]["targets"]
    ]
    rows.append(("Δdeploy held-out", d["reliability"]["delta_deploy"], ""))
    return [r for r in rows if r[1] is not None]


def _reduction_panel(card: dict[str, Any]) -> list[str]:
    rows = _rows(card)
    if not rows:
        return [f'<text x="{MARGIN}" y="{MARGIN + 20}">no evaluable data set</text>']
    values = [v for _, i, _ in rows for v in (i["ci_low"], i["ci_high"])]
    axes = _Axes(MARGIN + 20, _span(values), (0.0, 1.0))
    parts = axes.frame("estimate and 95% interval", "")
    parts.append(
        f'<line x1="{axes.x(0):.1f}" x2="{axes.x(0):.1f}" y1="{MARGIN}" '
        f'y2="{MARGIN + PANEL}" stroke="#333" stroke-dasharray="4 3"/>'
    )
    step = PANEL / (len(rows) + 1)
    for index, (name, interval, status) in enumerate(rows):
        colour = STATUS_COLOURS[status]
        y = MARGIN + step * (index + 1)
        parts.append(
            f'<line x1="{axes.x(interval["ci_low"]):.1f}" '
            f'x2="{axes.x(interval["ci_high"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(
            f'<circle cx="{axes.x(interval["estimate"]):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
        )
        label = _clip(name + (f" — {status}" if status else ""), LABEL_CHARS)
        parts.append(
            f'<text x="{axes.left + 4}" y="{y - 7:.1f}" fill="{colour}">{escape(label)}</text>'
        )
    return parts


def _signature_panel(card: dict[str, Any]) -> list[str]:
    mechanism = card["diagnostics"]["mechanism"]
    left = MARGIN + PANEL + 110
    if mechanism["alpha_t"] is None:
        return [f'<text x="{left}" y="{MARGIN + 20}">mechanism not evaluable</text>']
    top = max(1.2, mechanism["alpha_t"] * 1.1, mechanism["alpha_a"] * 1.1)
    axes = _Axes(left, (0.0, top), (0.0, top))
    rho = mechanism["rho_at_threshold"]
    wedge = (
        f"{axes.x(0):.1f},{axes.y(0):.1f} {axes.x(top):.1f},{axes.y(0):.1f} "
        f"{axes.x(top):.1f},{axes.y(min(top, rho * top)):.1f}"
    )
    parts = [f'<polygon points="{wedge}" fill="#d6eaf8"/>']
    parts += axes.frame("α_A (kept outside the attack subspace)", "α_T (kept inside)")
    parts.append(
        f'<line x1="{axes.x(0):.1f}" y1="{axes.y(0):.1f}" x2="{axes.x(top):.1f}" '
        f'y2="{axes.y(top):.1f}" stroke="#999" stroke-dasharray="4 3"/>'
    )
    x, y = axes.x(mechanism["alpha_a"]), axes.y(mechanism["alpha_t"])
    colour = STATUS_COLOURS[mechanism["status"]]
    parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
    side = 'text-anchor="end" ' if x > axes.x(top) - 110 else ""
    shift = -7 if side else 7
    parts.append(
        f'<text {side}x="{x + shift:.1f}" y="{y - 7:.1f}">'
        f"{escape(str(mechanism['measured']))}</text>"
    )
    parts.append(
        f'<text x="{axes.x(top) - 4:.1f}" y="{axes.y(0) - 8:.1f}" text-anchor="end" '
        f'fill="#1f6f8b">ρ_AT &lt; {rho}: attack-targeted</text>'
    )
    return parts


def plain(card: dict[str, Any]) -> str:
    """The pure-Python drawing (no matplotlib)."""
    claim, verdict = card["claim"], card["verdict"]["strict"]
    title = (
        f"{claim['defense']} — claims {claim['mechanism_claimed']} — strict "
        f"{'PASS' if verdict['pass'] else 'FAIL'} ({verdict['passed']}/{len(card['diagnostics'])})"
    )
    body = _reduction_panel(card) + _signature_panel(card)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 40}" '
        f'font-family="sans-serif" font-size="12"><rect width="100%" height="100%" '
        f'fill="white"/><text x="{MARGIN}" y="24" font-size="14" font-weight="bold">'
        f"{escape(_clip(title, TITLE_CHARS))}</text>" + "".join(body) + "</svg>"
    )
