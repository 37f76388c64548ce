"""Cells -> the paper's Figure 2 (bootstrap plane) and Figure 3 (signature plane)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .points import STATUSES, CellPoint, Triple
from .sheet import Line, Sheet
from .style import (
    DIRECT_LABELS_MAX,
    GUIDE,
    INK,
    LABEL_SIZE,
    MARKER_SIZE,
    MARKERS,
    NUMBER_SIZE,
    PASS_REGION,
    PLANE,
    ROOMY_CELLS,
    SHRINKAGE,
    STATUS_COLOURS,
    WEDGE,
    legend_dot,
    plain,
    render_figure,
    render_formats,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def bootstrap_plane(
    points: Sequence[CellPoint], *, confidence: float = 0.95, fmt: str = "svg"
) -> bytes:
    """Draw Figure 2: each cell's held-out delta_gap against its delta_deploy.

    A dot at the two estimates with horizontal and vertical bars for the two intervals,
    the shaded half-plane delta_gap < 0 (a cell passes (a) iff its vertical bar lies
    entirely in it), colours by the status of (a), markers by group. Cells lacking either
    interval are listed beside the plot.

    Args:
        points: The cells; they are numbered in this order.
        confidence: The intervals' two-sided level (for the labels).
        fmt: "svg" or "png".

    Returns:
        The figure's bytes, identical for identical input.
    """
    plane_iv(points, "confidence", confidence, 1.0)
    return render_figure(lambda: bootstrap_figure(points, confidence), fmt)


def signature_plane(
    points: Sequence[CellPoint], *, rho_threshold: float = 0.6, fmt: str = "svg"
) -> bytes:
    """Draw Figure 3: each cell's LoRA signature (alpha_A, alpha_T).

    The attack-targeted wedge rho_AT < rho_threshold and the shrinkage region (alpha_T < 1
    outside the wedge) shaded, the diagonal alpha_T = alpha_A, colours by the status of
    (c), markers by group. Cells lacking a signature are listed beside the plot.

    Args:
        points: The cells; they are numbered in this order.
        rho_threshold: The attack-targeted threshold on rho_AT.
        fmt: "svg" or "png".

    Returns:
        The figure's bytes, identical for identical input.
    """
    plane_iv(points, "rho_threshold", rho_threshold, math.inf)
    return render_figure(lambda: signature_figure(points, rho_threshold), fmt)


def audit_planes(
    points: Sequence[CellPoint],
    *,
    confidence: float = 0.95,
    rho_threshold: float = 0.6,
    formats: Sequence[str] = ("svg", "png"),
    planes: Sequence[str] = ("bootstrap", "signature"),
) -> dict[str, bytes]:
    """The planes in each format, each plane drawn once: {"bootstrap.svg": ..., ...}.

    The bytes are exactly `bootstrap_plane(...)` and `signature_plane(...)`'s.
    """
    plane_iv(points, "confidence", confidence, 1.0)
    plane_iv(points, "rho_threshold", rho_threshold, math.inf)
    builds: dict[str, Callable[[], Figure]] = {
        "bootstrap": lambda: bootstrap_figure(points, confidence),
        "signature": lambda: signature_figure(points, rho_threshold),
    }
    unknown = [name for name in planes if name not in builds]
    if unknown:
        raise ValueError(f"`planes` must name bootstrap or signature, not {unknown[0]!r}")
    return {
        f"{name}.{fmt}": data
        for name in planes
        for fmt, data in render_formats(builds[name], formats).items()
    }


def plane_iv(points: Sequence[CellPoint], name: str, value: float, upper: float) -> None:
    if not points:
        raise ValueError("`points` is empty: there is nothing to draw")
    if not 0 < value < upper:
        raise ValueError(f"`{name}` must be in (0, {upper}), not {value!r}")


def bootstrap_figure(points: Sequence[CellPoint], confidence: float) -> Figure:
    cells = [(n, p, xy) for n, p in enumerate(points, 1) if (xy := interval_pair(p)) is not None]
    sheet, groups = Sheet.new([plane_size(len(points))]), Groups(points)
    ax = sheet.axes[0]
    bootstrap_axes(ax, [xy for _, _, xy in cells])
    for number, point, (x, y) in cells:
        bootstrap_cell(ax, number, x, y, STATUS_COLOURS[point.reliability_status])
        draw_marker(ax, (x[0], y[0]), point.reliability_status, groups.marker(point.group), number)
    lines = label_cells(sheet, ax, [(n, p, (x[0], y[0])) for n, p, (x, y) in cells])
    lines += missing_lines(points, {n for n, _, _ in cells}, "not plotted, no Δgap or Δdeploy:")
    handles = status_handles([p.reliability_status for _, p, _ in cells], "(a)")
    handles += groups.handles() + bootstrap_guides(confidence)
    title = f"Held-out Δgap against Δdeploy, {confidence:.0%} intervals ({len(points)} cells)"
    sheet.finish(title, handles, lines)
    return sheet.figure


def interval_pair(point: CellPoint) -> tuple[Triple, Triple] | None:
    if point.delta_deploy is None or point.delta_gap is None:
        return None
    return point.delta_deploy, point.delta_gap


def bootstrap_axes(ax: Axes, intervals: list[tuple[Triple, Triple]]) -> None:
    ax.set_xlim(*padded_range([v for x, _ in intervals for v in x[1:]]))
    ax.set_ylim(*padded_range([v for _, y in intervals for v in y[1:]]))
    ax.axhspan(ax.get_ylim()[0], 0, color=PASS_REGION, lw=0, zorder=0, gid="pass-region")
    ax.axhline(0, color=INK, lw=0.8, ls="--", zorder=1, gid="zero-line")
    ax.set_xlabel("Δdeploy: deployment accuracy, defended − undefended")
    ax.set_ylabel("Δgap (held-out): gap defended − gap undefended")


def bootstrap_cell(ax: Axes, number: int, x: Triple, y: Triple, colour: str) -> None:
    ax.plot([x[1], x[2]], [y[0], y[0]], color=colour, lw=1, zorder=2, gid=f"xbar-{number}")
    ax.plot([x[0], x[0]], [y[1], y[2]], color=colour, lw=1, zorder=2, gid=f"ybar-{number}")


def bootstrap_guides(confidence: float) -> list[Artist]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rule = "Δgap < 0: (a) passes iff the cell's whole\nvertical bar lies in this shaded half-plane"
    return [
        Patch(facecolor=PASS_REGION, label=rule),
        Line2D([], [], color=INK, lw=0.8, ls="--", label="Δgap = 0"),
        Line2D([], [], color=GUIDE, lw=1, label=f"bars: {confidence:.0%} intervals"),
    ]


def signature_figure(points: Sequence[CellPoint], threshold: float) -> Figure:
    cells = [(n, p, xy) for n, p in enumerate(points, 1) if (xy := signature_xy(p)) is not None]
    sheet, groups = Sheet.new([plane_size(len(points))]), Groups(points)
    ax = sheet.axes[0]
    signature_axes(ax, [xy for _, _, xy in cells], threshold)
    for number, point, xy in cells:
        draw_marker(ax, xy, point.mechanism_status, groups.marker(point.group), number)
    lines = label_cells(sheet, ax, cells)
    lines += missing_lines(
        points, {n for n, _, _ in cells}, "not plotted, no signature (α_T, α_A):"
    )
    handles = status_handles([p.mechanism_status for _, p, _ in cells], "(c)")
    handles += groups.handles() + signature_guides(threshold)
    sheet.finish(f"LoRA signature of the defended update ({len(points)} cells)", handles, lines)
    return sheet.figure


def signature_xy(point: CellPoint) -> tuple[float, float] | None:
    if point.alpha_a is None or point.alpha_t is None:
        return None
    return point.alpha_a, point.alpha_t


def signature_axes(ax: Axes, xys: list[tuple[float, float]], threshold: float) -> None:
    right = max([1.2] + [1.1 * x for x, _ in xys])
    top = max([1.2] + [1.1 * y for _, y in xys])
    ax.set_xlim(0, right)
    ax.set_ylim(0, top)
    far = max(right, top / threshold)
    ax.fill([0, far, far], [0, threshold * far, 0], color=WEDGE, lw=0, zorder=0, gid="wedge")
    ax.fill([0, 1 / threshold, 0], [0, 1, 1], color=SHRINKAGE, lw=0, zorder=0, gid="shrinkage")
    end = max(right, top)
    ax.plot([0, end], [0, end], color=GUIDE, lw=0.8, ls="--", zorder=1, gid="diagonal")
    ax.set_xlabel(r"$\alpha_A$: update norm kept outside the attack subspace")
    ax.set_ylabel(r"$\alpha_T$: update norm kept inside the attack subspace")


def signature_guides(threshold: float) -> list[Artist]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = f"{threshold:g}"
    return [
        Patch(
            facecolor=WEDGE,
            label=rf"attack-targeted: $\rho_{{AT}} < {t}$, i.e. "
            rf"$\alpha_T < {t}\,\alpha_A$",
        ),
        Patch(facecolor=SHRINKAGE, label=r"shrinkage: $\alpha_T < 1$ outside the wedge"),
        Patch(facecolor="white", edgecolor="#bbbbbb", label=r"none: $\alpha_T \geq 1$ outside"),
        Line2D([], [], color=GUIDE, lw=0.8, ls="--", label=r"$\alpha_T = \alpha_A$"),
    ]


def draw_marker(
    ax: Axes, xy: tuple[float, float], status: str, style: tuple[str, bool], number: int | str
) -> None:
    colour = STATUS_COLOURS[status]
    ax.plot(
        [xy[0]],
        [xy[1]],
        ls="none",
        marker=style[0],
        ms=MARKER_SIZE,
        mew=0.8,
        zorder=3,
        mfc=colour if style[1] else "white",
        mec="#222222" if style[1] else colour,
        gid=f"point-{number}",
    )


def plane_size(cells: int) -> tuple[float, float]:
    scale = max(1.0, math.sqrt(cells / ROOMY_CELLS))
    return PLANE[0] * scale, PLANE[1] * scale


def padded_range(values: list[float], pad: float = 0.08) -> tuple[float, float]:
    low, high = min(values + [0.0]), max(values + [0.0])
    margin = max(high - low, 0.1) * pad
    return low - margin, high + margin


def missing_lines(points: Sequence[CellPoint], shown: set[int], heading: str) -> list[Line]:
    missing = [Line(f"{n}  {p.cell}") for n, p in enumerate(points, 1) if n not in shown]
    return [Line(heading, bold=True), *missing] if missing else []


def status_handles(statuses: list[str], diagnostic: str) -> list[Artist]:
    return [
        legend_dot(STATUS_COLOURS[status], f"{diagnostic} {status.replace('_', ' ')}")
        for status in STATUSES
        if status in statuses
    ]


class Groups:
    """Legend groups in order of first appearance: a marker each (filled, then hollow)."""

    def __init__(self, points: Sequence[CellPoint]) -> None:
        self.names = list(dict.fromkeys(p.group for p in points))
        self.shown = self.names != [None]

    def marker(self, group: str | None) -> tuple[str, bool]:
        index = self.names.index(group) if self.shown else 0
        return MARKERS[index % len(MARKERS)], index // len(MARKERS) % 2 == 0

    def handles(self) -> list[Artist]:
        names = self.names if self.shown else []
        return [legend_dot("#444444", plain(n or "(no group)"), *self.marker(n)) for n in names]


def label_cells(
    sheet: Sheet, ax: Axes, cells: Sequence[tuple[int, CellPoint, tuple[float, float]]]
) -> list[Line]:
    """Label every plotted cell; returns the key's lines (none when names fit beside dots).

    Names go beside their dots when there are at most DIRECT_LABELS_MAX cells and each fits
    one of eight spots touching its dot. Otherwise each dot gets its number at the free
    spot nearest to it (searched over the whole plot; a leader line when not touching) and
    the side panel lists numbers and names.
    """
    anchors = [xy for _, _, xy in cells]
    names, numbers = [p.cell for _, p, _ in cells], [str(n) for n, _, _ in cells]
    direct = len(cells) <= DIRECT_LABELS_MAX
    if direct and sheet.place(ax, anchors, names, numbers, LABEL_SIZE, far=False):
        return []
    sheet.place(ax, anchors, numbers, numbers, NUMBER_SIZE, far=True)
    return [Line("cells (number on the plot)", bold=True)] + [
        Line(f"{n}  {p.cell}") for n, p, _ in cells
    ]
