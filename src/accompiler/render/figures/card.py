"""One card (JSON) -> its figure: the intervals the gates read beside the adapter signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .planes import draw_marker, padded_range, signature_axes, signature_guides, signature_xy
from .points import STATUSES, cell_point_from_card
from .sheet import Line, Sheet
from .style import (
    INK,
    LABEL_SIZE,
    MARKER_SIZE,
    MARKERS,
    NEUTRAL,
    STATUS_COLOURS,
    TICK_WIDTH,
    legend_dot,
    plain,
    render_figure,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Row = tuple[str, Mapping[str, float], str]


def card_figure(card: Mapping[str, Any], *, fmt: str = "svg") -> bytes:
    """Draw one card: its intervals beside its adapter signature.

    Left, the installed gap, each data set's delta_gap and the held-out delta_deploy with
    their intervals, coloured by their diagnostic's status; right, the signature plane with
    the defended update's point coloured by the status of (c).

    Args:
        card: A card of version 1.x, as `json.load` returns it.
        fmt: "svg" or "png".

    Returns:
        The figure's bytes, identical for identical input.
    """
    cell_point_from_card(card, "card")
    return render_figure(lambda: build_card_figure(card), fmt)


def build_card_figure(card: Mapping[str, Any]) -> Figure:
    mechanism = card["diagnostics"]["mechanism"]
    threshold, point = mechanism["rho_at_threshold"], cell_point_from_card(card, "defended")
    sheet = Sheet.new([(3.6, 1.0), (3.2, 3.2)])
    left, right = sheet.axes
    rows = card_rows(card)
    interval_rows(sheet, left, rows)
    xy = signature_xy(point)
    signature_axes(right, [xy] if xy else [], threshold)
    if xy is not None:
        draw_marker(right, xy, point.mechanism_status, (MARKERS[0], True), "signature")
        sheet.place(
            right, [xy], [f"measured {point.measured}"], ["signature"], LABEL_SIZE, far=True
        )
    handles = card_handles(rows, point.mechanism_status) + signature_guides(threshold)
    sheet.finish(card_title(card), handles, mechanism_lines(mechanism))
    return sheet.figure


def card_rows(card: Mapping[str, Any]) -> list[Row]:
    d = card["diagnostics"]
    fresh, targets = d["fresh_generalization"], d["transfer"]["targets"]
    rows = [
        ("installed gap (held-out)", card["precondition"]["installed_gap"], ""),
        ("(a) Δgap held-out", d["reliability"]["delta_gap"], d["reliability"]["status"]),
        ("(b) Δgap fresh", fresh["delta_gap"], fresh["status"]),
        *((f"(d) Δgap {t['name']}", t["delta_gap"], t["status"]) for t in targets),
        ("Δdeploy held-out (reported)", d["reliability"]["delta_deploy"], ""),
    ]
    return [row for row in rows if row[1] is not None]


def interval_rows(sheet: Sheet, ax: Axes, rows: list[Row]) -> None:
    labels = [sheet.wrap(plain(row_label(row)), TICK_WIDTH, 8) for row in rows]
    heights = [0.14 + 0.14 * label.count("\n") + 0.16 for label in labels]
    centres = [sum(heights[:i]) + h / 2 for i, h in enumerate(heights)]
    for index, ((_, interval, status), y) in enumerate(zip(rows, centres, strict=True)):
        colour = STATUS_COLOURS.get(status, NEUTRAL)
        low, high = interval["ci_low"], interval["ci_high"]
        ax.plot([low, high], [y, y], color=colour, lw=2, gid=f"row-{index}-interval")
        ax.plot([interval["estimate"]], [y], "o", color=colour, ms=MARKER_SIZE, gid=f"row-{index}")
    ax.set_yticks(centres, labels)
    ax.set_ylim(sum(heights) + 0.1, -0.1)
    ax.set_xlim(*padded_range([v for _, i, _ in rows for v in (i["ci_low"], i["ci_high"])]))
    ax.axvline(0, color=INK, lw=0.8, ls="--", gid="zero-line")
    ax.set_xlabel("estimate and interval (defended − undefended)")
    sheet.resize(0, (sheet.sizes[0][0], max(sum(heights) + 0.2, 1.0)))


def row_label(row: Row) -> str:
    name, _, status = row
    return f"{name} · {status.replace('_', ' ')}" if status else name


def card_handles(rows: list[Row], mechanism_status: str) -> list[Artist]:
    from matplotlib.lines import Line2D

    used = {status for _, _, status in rows} | {mechanism_status}
    dots = [legend_dot(STATUS_COLOURS[s], s.replace("_", " ")) for s in STATUSES if s in used]
    rule = "0: (a), (b), (d) need the\nwhole bar left of it"
    return [
        *dots,
        legend_dot(NEUTRAL, "reported, no gate"),
        Line2D([], [], color=INK, lw=0.8, ls="--", label=rule),
    ]


def mechanism_lines(mechanism: Mapping[str, Any]) -> list[Line]:
    lines = [Line(f"(c) mechanism: {mechanism['status'].replace('_', ' ')}", bold=True)]
    if mechanism["alpha_t"] is not None:
        rho = "undefined" if mechanism["rho_at"] is None else f"{mechanism['rho_at']:.3f}"
        alphas = f"α_T {mechanism['alpha_t']:.3f}, α_A {mechanism['alpha_a']:.3f}"
        lines.append(Line(f"claimed {mechanism['claimed']}, measured {mechanism['measured']}"))
        lines.append(Line(f"{alphas}, ρ_AT {rho}"))
    lines += [Line(mechanism["reason"])] if mechanism["reason"] else []
    relabel = mechanism.get("relabel")
    lines += [Line(f"relabel to {relabel['to']}: {relabel['status']}")] if relabel else []
    return lines


def card_title(card: Mapping[str, Any]) -> str:
    claim, verdict = card["claim"], card["verdict"]

    def word(kind: str) -> str:
        return f"{kind} {'PASS' if verdict[kind]['pass'] else 'FAIL'} ({verdict[kind]['passed']}/4)"

    return (
        f"{claim['defense']} · claims {claim['mechanism_claimed']} · {word('strict')} · "
        f"{word('permissive')}\n{claim['title']}"
    )
