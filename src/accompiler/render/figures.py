"""Cells or one card (JSON) -> the paper's audit figures (bootstrap, signature planes) as bytes."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..card.document import card_version

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Text

Triple = tuple[float, float, float]
Row = tuple[str, Mapping[str, float], str]

STATUSES = ("pass", "fail", "not_evaluable")
MEASURED = ("attack_targeted", "shrinkage", "none")
STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c0392b", "not_evaluable": "#888888"}
NEUTRAL, INK, GUIDE = "#1f6f8b", "#333333", "#999999"
PASS_REGION, WEDGE, SHRINKAGE = "#e3f1e4", "#d6eaf8", "#fdf2d0"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
DPI = 150
# Everything the bytes depend on is fixed here, starting from matplotlib's own defaults (the
# user's matplotlibrc is ignored): a salt for SVG ids, glyphs as paths (the SVG shows text
# exactly as it was measured for placement, whatever fonts the viewer has), the font
# matplotlib ships, and metadata without dates or versions.
RC: dict[str, Any] = {
    "svg.hashsalt": "accard",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.labelsize": 9,
}
METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Creator": "accard", "Date": None},
    "png": {"Software": "accard"},
}
MARGIN, GAP, COLUMN_GAP, LINE_GAP = 0.15, 0.25, 0.2, 0.02  # inches
PLANE, ROOMY_CELLS = (4.6, 3.8), 60
DIRECT_LABELS_MAX = 12
LABEL_SIZE, NUMBER_SIZE, PANEL_SIZE, TITLE_SIZE = 7.5, 7.0, 7.5, 10.0  # points
MARKER_SIZE, LABEL_PAD, GRID_CHUNK = 5.0, 2.0, 2048  # points, pixels, candidates
KEY_WIDTH, TICK_WIDTH = 2.8, 2.4  # inches


@dataclass(frozen=True)
class CellPoint:
    """One defended run ("cell") as the audit figures read it.

    Attributes:
        cell: The label shown for the cell, e.g. "SafeLoRA α=1 s0".
        group: The legend group (e.g. the defense); None puts the cell in no group.
        delta_gap: The held-out delta_gap as (estimate, ci_low, ci_high), or None.
        delta_deploy: The held-out delta_deploy as (estimate, ci_low, ci_high), or None.
        reliability_status: Diagnostic (a)'s status: pass, fail or not_evaluable.
        alpha_t: The norm fraction of the defended update kept inside the attack subspace.
        alpha_a: The fraction kept outside it.
        rho_at: alpha_t / alpha_a (None when undefined).
        mechanism_status: Diagnostic (c)'s status: pass, fail or not_evaluable.
        measured: The measured class: attack_targeted, shrinkage, none, or None.
    """

    cell: str
    group: str | None
    delta_gap: Triple | None
    delta_deploy: Triple | None
    reliability_status: str
    alpha_t: float | None
    alpha_a: float | None
    rho_at: float | None
    mechanism_status: str
    measured: str | None

    def __post_init__(self) -> None:
        _cell_point_iv(self)


def _cell_point_iv(point: CellPoint) -> None:
    for name in ("reliability_status", "mechanism_status"):
        if getattr(point, name) not in STATUSES:
            raise ValueError(f"`{name}` must be one of {STATUSES}, not {getattr(point, name)!r}")
    if point.measured is not None and point.measured not in MEASURED:
        raise ValueError(f"`measured` must be one of {MEASURED} or None, not {point.measured!r}")
    for name in ("delta_gap", "delta_deploy"):
        value = getattr(point, name)
        if value is not None and (len(value) != 3 or not all(map(math.isfinite, value))):
            raise ValueError(f"`{name}` must be (estimate, ci_low, ci_high), finite: {value!r}")
    for name in ("alpha_t", "alpha_a", "rho_at"):
        value = getattr(point, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"`{name}` must be a finite number >= 0 or None, not {value!r}")


def cell_point_from_card(card: Mapping[str, Any], cell: str, group: str | None = None) -> CellPoint:
    """Read a cell's point from a card (a JSON dict of card version 1.x).

    Args:
        card: The card, as `json.load` returns it.
        cell: The label to show for the cell.
        group: The legend group, or None.

    Returns:
        The held-out intervals with the status of (a), and the signature with that of (c).

    Raises:
        ValueError: The card is not of version 1.x.
    """
    version = card_version(card)
    if version is None or version[0] != 1:
        raise ValueError(f"card version {card.get('card_version')!r} is not supported (only 1.x)")
    reliability = card["diagnostics"]["reliability"]
    mechanism = card["diagnostics"]["mechanism"]
    return CellPoint(
        cell=cell,
        group=group,
        delta_gap=_triple(reliability["delta_gap"]),
        delta_deploy=_triple(reliability["delta_deploy"]),
        reliability_status=reliability["status"],
        alpha_t=mechanism["alpha_t"],
        alpha_a=mechanism["alpha_a"],
        rho_at=mechanism["rho_at"],
        mechanism_status=mechanism["status"],
        measured=mechanism["measured"],
    )


def _triple(interval: Mapping[str, float] | None) -> Triple | None:
    if interval is None:
        return None
    return (interval["estimate"], interval["ci_low"], interval["ci_high"])


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
    _plane_iv(points, "confidence", confidence, 1.0)
    return _render(lambda: _bootstrap_figure(points, confidence), fmt)


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
    _plane_iv(points, "rho_threshold", rho_threshold, math.inf)
    return _render(lambda: _signature_figure(points, rho_threshold), fmt)


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
    return _render(lambda: _card_figure(card), fmt)


def _plane_iv(points: Sequence[CellPoint], name: str, value: float, upper: float) -> None:
    if not points:
        raise ValueError("`points` is empty: there is nothing to draw")
    if not 0 < value < upper:
        raise ValueError(f"`{name}` must be in (0, {upper}), not {value!r}")


def _matplotlib() -> ModuleType:
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "accard's figures need matplotlib: pip install 'accard[plots]'"
        ) from error
    return matplotlib


@contextmanager
def _style() -> Iterator[None]:
    matplotlib = _matplotlib()
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(RC)
        yield


def _render(build: Callable[[], Figure], fmt: str) -> bytes:
    if fmt not in METADATA:
        raise ValueError(f"`fmt` must be 'svg' or 'png', not {fmt!r}")
    buffer = io.BytesIO()
    with _style():
        build().savefig(buffer, format=fmt, dpi=DPI, metadata=METADATA[fmt])
    return buffer.getvalue()


# ---- the two planes ------------------------------------------------------------------------


def _bootstrap_figure(points: Sequence[CellPoint], confidence: float) -> Figure:
    cells = [(n, p, xy) for n, p in enumerate(points, 1) if (xy := _intervals(p)) is not None]
    sheet, groups = _Sheet.new([_plane_size(len(points))]), _Groups(points)
    ax = sheet.axes[0]
    _bootstrap_axes(ax, [xy for _, _, xy in cells])
    for number, point, (x, y) in cells:
        _bootstrap_cell(ax, number, x, y, STATUS_COLOURS[point.reliability_status])
        _marker(ax, (x[0], y[0]), point.reliability_status, groups.marker(point.group), number)
    lines = _label_cells(sheet, ax, [(n, p, (x[0], y[0])) for n, p, (x, y) in cells])
    lines += _missing(points, {n for n, _, _ in cells}, "not plotted, no Δgap or Δdeploy:")
    handles = _status_handles([p.reliability_status for _, p, _ in cells], "(a)")
    handles += groups.handles() + _bootstrap_guides(confidence)
    title = f"Held-out Δgap against Δdeploy, {confidence:.0%} intervals ({len(points)} cells)"
    sheet.finish(title, handles, lines)
    return sheet.figure


def _intervals(point: CellPoint) -> tuple[Triple, Triple] | None:
    if point.delta_deploy is None or point.delta_gap is None:
        return None
    return point.delta_deploy, point.delta_gap


def _bootstrap_axes(ax: Axes, intervals: list[tuple[Triple, Triple]]) -> None:
    ax.set_xlim(*_span([v for x, _ in intervals for v in x[1:]]))
    ax.set_ylim(*_span([v for _, y in intervals for v in y[1:]]))
    ax.axhspan(ax.get_ylim()[0], 0, color=PASS_REGION, lw=0, zorder=0, gid="pass-region")
    ax.axhline(0, color=INK, lw=0.8, ls="--", zorder=1, gid="zero-line")
    ax.set_xlabel("Δdeploy: deployment accuracy, defended − undefended")
    ax.set_ylabel("Δgap (held-out): gap defended − gap undefended")


def _bootstrap_cell(ax: Axes, number: int, x: Triple, y: Triple, colour: str) -> None:
    ax.plot([x[1], x[2]], [y[0], y[0]], color=colour, lw=1, zorder=2, gid=f"xbar-{number}")
    ax.plot([x[0], x[0]], [y[1], y[2]], color=colour, lw=1, zorder=2, gid=f"ybar-{number}")


def _bootstrap_guides(confidence: float) -> list[Artist]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rule = "Δgap < 0: (a) passes iff the cell's whole\nvertical bar lies in this shaded half-plane"
    return [
        Patch(facecolor=PASS_REGION, label=rule),
        Line2D([], [], color=INK, lw=0.8, ls="--", label="Δgap = 0"),
        Line2D([], [], color=GUIDE, lw=1, label=f"bars: {confidence:.0%} intervals"),
    ]


def _signature_figure(points: Sequence[CellPoint], threshold: float) -> Figure:
    cells = [(n, p, xy) for n, p in enumerate(points, 1) if (xy := _signature(p)) is not None]
    sheet, groups = _Sheet.new([_plane_size(len(points))]), _Groups(points)
    ax = sheet.axes[0]
    _signature_axes(ax, [xy for _, _, xy in cells], threshold)
    for number, point, xy in cells:
        _marker(ax, xy, point.mechanism_status, groups.marker(point.group), number)
    lines = _label_cells(sheet, ax, cells)
    lines += _missing(points, {n for n, _, _ in cells}, "not plotted, no signature (α_T, α_A):")
    handles = _status_handles([p.mechanism_status for _, p, _ in cells], "(c)")
    handles += groups.handles() + _signature_guides(threshold)
    sheet.finish(f"LoRA signature of the defended update ({len(points)} cells)", handles, lines)
    return sheet.figure


def _signature(point: CellPoint) -> tuple[float, float] | None:
    if point.alpha_a is None or point.alpha_t is None:
        return None
    return point.alpha_a, point.alpha_t


def _signature_axes(ax: Axes, xys: list[tuple[float, float]], threshold: float) -> None:
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


def _signature_guides(threshold: float) -> list[Artist]:
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


def _marker(
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


def _plane_size(cells: int) -> tuple[float, float]:
    scale = max(1.0, math.sqrt(cells / ROOMY_CELLS))
    return PLANE[0] * scale, PLANE[1] * scale


def _span(values: list[float], pad: float = 0.08) -> tuple[float, float]:
    low, high = min(values + [0.0]), max(values + [0.0])
    margin = max(high - low, 0.1) * pad
    return low - margin, high + margin


def _missing(points: Sequence[CellPoint], shown: set[int], heading: str) -> list[_Line]:
    missing = [_Line(f"{n}  {p.cell}") for n, p in enumerate(points, 1) if n not in shown]
    return [_Line(heading, bold=True), *missing] if missing else []


def _status_handles(statuses: list[str], diagnostic: str) -> list[Artist]:
    return [
        _dot(STATUS_COLOURS[status], f"{diagnostic} {status.replace('_', ' ')}")
        for status in STATUSES
        if status in statuses
    ]


def _dot(colour: str, label: str, shape: str = "o", filled: bool = True) -> Artist:
    from matplotlib.lines import Line2D

    face = colour if filled else "white"
    return Line2D(
        [], [], ls="none", marker=shape, ms=MARKER_SIZE, color=colour, mfc=face, label=label
    )


class _Groups:
    """Legend groups in order of first appearance: a marker each (filled, then hollow)."""

    def __init__(self, points: Sequence[CellPoint]) -> None:
        self.names = list(dict.fromkeys(p.group for p in points))
        self.shown = self.names != [None]

    def marker(self, group: str | None) -> tuple[str, bool]:
        index = self.names.index(group) if self.shown else 0
        return MARKERS[index % len(MARKERS)], index // len(MARKERS) % 2 == 0

    def handles(self) -> list[Artist]:
        names = self.names if self.shown else []
        return [_dot("#444444", _plain(n or "(no group)"), *self.marker(n)) for n in names]


# ---- labels: names beside the dots, else numbers (leader lines if needed) and a key ----------


@dataclass(frozen=True)
class _Line:
    """A line of the side panel."""

    text: str
    bold: bool = False


def _label_cells(
    sheet: _Sheet, ax: Axes, cells: Sequence[tuple[int, CellPoint, tuple[float, float]]]
) -> list[_Line]:
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
    return [_Line("cells (number on the plot)", bold=True)] + [
        _Line(f"{n}  {p.cell}") for n, p, _ in cells
    ]


@dataclass(frozen=True)
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float


def _find_spots(
    anchors: np.ndarray, sizes: np.ndarray, area: _Box, obstacles: np.ndarray, *, far: bool
) -> list[tuple[float, float, bool] | None]:
    """Greedy placement in pixels: each label at its first free candidate spot, or None.

    Candidates are the eight spots touching the dot, then (if `far`) a grid over the whole
    area nearest first. A spot is free when its padded box lies inside `area` and meets no
    obstacle (the dots) nor any label placed before. Returns centres and whether touching.
    """
    placed = obstacles.reshape(-1, 4)
    spots: list[tuple[float, float, bool] | None] = []
    for anchor, size in zip(anchors, sizes, strict=True):
        ring = _ring(anchor, size)
        candidates = np.vstack([ring, _grid(anchor, size, area)]) if far else ring
        index = _first_free(_boxes(candidates, size), area, placed)
        if index is None:
            spots.append(None)
            continue
        spots.append((float(candidates[index, 0]), float(candidates[index, 1]), index < 8))
        placed = np.vstack([placed, _boxes(candidates[index : index + 1], size)])
    return spots


def _ring(anchor: np.ndarray, size: np.ndarray) -> np.ndarray:
    reach = size / 2 + _marker_radius() + LABEL_PAD
    directions = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, 1], [1, -1], [-1, -1]])
    return np.asarray(anchor + directions * reach, dtype=float)


def _grid(anchor: np.ndarray, size: np.ndarray, area: _Box) -> np.ndarray:
    xs = np.arange(area.x0 + size[0] / 2, area.x1 - size[0] / 2, size[0] / 3)
    ys = np.arange(area.y0 + size[1] / 2, area.y1 - size[1] / 2, size[1] / 3)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    order = np.lexsort((grid[:, 0], grid[:, 1], np.hypot(*(grid - anchor).T)))
    return np.asarray(grid[order])


def _boxes(centres: np.ndarray, size: np.ndarray) -> np.ndarray:
    half = size / 2 + LABEL_PAD / 2
    return np.hstack([centres - half, centres + half])


def _first_free(boxes: np.ndarray, area: _Box, placed: np.ndarray) -> int | None:
    for start in range(0, len(boxes), GRID_CHUNK):
        chunk = boxes[start : start + GRID_CHUNK]
        inside = (chunk[:, 0] >= area.x0) & (chunk[:, 1] >= area.y0)
        inside &= (chunk[:, 2] <= area.x1) & (chunk[:, 3] <= area.y1)
        a, b = chunk[:, None, :], placed[None, :, :]
        hits = (a[..., 0] < b[..., 2]) & (b[..., 0] < a[..., 2])
        hits &= (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])
        free = np.flatnonzero(inside & ~hits.any(axis=1))
        if free.size:
            return start + int(free[0])
    return None


def _marker_radius() -> float:
    return MARKER_SIZE / 2 * DPI / 72


# ---- one card ------------------------------------------------------------------------------


def _card_figure(card: Mapping[str, Any]) -> Figure:
    mechanism = card["diagnostics"]["mechanism"]
    threshold, point = mechanism["rho_at_threshold"], cell_point_from_card(card, "defended")
    sheet = _Sheet.new([(3.6, 1.0), (3.2, 3.2)])
    left, right = sheet.axes
    rows = _card_rows(card)
    _interval_rows(sheet, left, rows)
    xy = _signature(point)
    _signature_axes(right, [xy] if xy else [], threshold)
    if xy is not None:
        _marker(right, xy, point.mechanism_status, (MARKERS[0], True), "signature")
        sheet.place(
            right, [xy], [f"measured {point.measured}"], ["signature"], LABEL_SIZE, far=True
        )
    handles = _card_handles(rows, point.mechanism_status) + _signature_guides(threshold)
    sheet.finish(_card_title(card), handles, _mechanism_lines(mechanism))
    return sheet.figure


def _card_rows(card: Mapping[str, Any]) -> list[Row]:
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


def _interval_rows(sheet: _Sheet, ax: Axes, rows: list[Row]) -> None:
    labels = [sheet.wrap(_plain(_row_label(row)), TICK_WIDTH, 8) for row in rows]
    heights = [0.14 + 0.14 * label.count("\n") + 0.16 for label in labels]
    centres = [sum(heights[:i]) + h / 2 for i, h in enumerate(heights)]
    for index, ((_, interval, status), y) in enumerate(zip(rows, centres, strict=True)):
        colour = STATUS_COLOURS.get(status, NEUTRAL)
        low, high = interval["ci_low"], interval["ci_high"]
        ax.plot([low, high], [y, y], color=colour, lw=2, gid=f"row-{index}-interval")
        ax.plot([interval["estimate"]], [y], "o", color=colour, ms=MARKER_SIZE, gid=f"row-{index}")
    ax.set_yticks(centres, labels)
    ax.set_ylim(sum(heights) + 0.1, -0.1)
    ax.set_xlim(*_span([v for _, i, _ in rows for v in (i["ci_low"], i["ci_high"])]))
    ax.axvline(0, color=INK, lw=0.8, ls="--", gid="zero-line")
    ax.set_xlabel("estimate and interval (defended − undefended)")
    sheet.resize(0, (sheet.sizes[0][0], max(sum(heights) + 0.2, 1.0)))


def _row_label(row: Row) -> str:
    name, _, status = row
    return f"{name} · {status.replace('_', ' ')}" if status else name


def _card_handles(rows: list[Row], mechanism_status: str) -> list[Artist]:
    from matplotlib.lines import Line2D

    used = {status for _, _, status in rows} | {mechanism_status}
    dots = [_dot(STATUS_COLOURS[s], s.replace("_", " ")) for s in STATUSES if s in used]
    rule = "0: (a), (b), (d) need the\nwhole bar left of it"
    return [
        *dots,
        _dot(NEUTRAL, "reported, no gate"),
        Line2D([], [], color=INK, lw=0.8, ls="--", label=rule),
    ]


def _mechanism_lines(mechanism: Mapping[str, Any]) -> list[_Line]:
    lines = [_Line(f"(c) mechanism: {mechanism['status'].replace('_', ' ')}", bold=True)]
    if mechanism["alpha_t"] is not None:
        rho = "undefined" if mechanism["rho_at"] is None else f"{mechanism['rho_at']:.3f}"
        alphas = f"α_T {mechanism['alpha_t']:.3f}, α_A {mechanism['alpha_a']:.3f}"
        lines.append(_Line(f"claimed {mechanism['claimed']}, measured {mechanism['measured']}"))
        lines.append(_Line(f"{alphas}, ρ_AT {rho}"))
    lines += [_Line(mechanism["reason"])] if mechanism["reason"] else []
    relabel = mechanism.get("relabel")
    lines += [_Line(f"relabel to {relabel['to']}: {relabel['status']}")] if relabel else []
    return lines


def _card_title(card: Mapping[str, Any]) -> str:
    claim, verdict = card["claim"], card["verdict"]

    def word(kind: str) -> str:
        return f"{kind} {'PASS' if verdict[kind]['pass'] else 'FAIL'} ({verdict[kind]['passed']}/4)"

    return (
        f"{claim['defense']} · claims {claim['mechanism_claimed']} · {word('strict')} · "
        f"{word('permissive')}\n{claim['title']}"
    )


# ---- layout: axes of fixed size in inches, measured margins, a side panel, a title ---------


def _plain(text: str) -> str:
    return text.replace("$", r"\$")


@dataclass(frozen=True)
class _Column:
    items: tuple[int, ...]
    width: float
    height: float


def _flow(sizes: list[tuple[float, float]], height: float) -> list[_Column]:
    """Stack text lines top-down into columns at most `height` tall (a line never splits)."""
    columns: list[list[int]] = [[]]
    used = 0.0
    for index, (_, h) in enumerate(sizes):
        if used + h > height and columns[-1]:
            columns.append([])
            used = 0.0
        columns[-1].append(index)
        used += h + LINE_GAP
    return [
        _Column(tuple(c), max(sizes[i][0] for i in c), sum(sizes[i][1] + LINE_GAP for i in c))
        for c in columns
        if c
    ]


class _Sheet:
    """A figure whose axes keep their size in inches while everything around is measured."""

    def __init__(self, figure: Figure, renderer: RendererBase, sizes: list[tuple[float, float]]):
        self.figure, self.renderer, self.sizes = figure, renderer, sizes
        self.axes: list[Axes] = []

    @classmethod
    def new(cls, sizes: list[tuple[float, float]]) -> _Sheet:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(12, 12), dpi=DPI)
        renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
        sheet = cls(figure, renderer, list(sizes))
        sheet.axes = [figure.add_axes((0.1, 0.1, 0.5, 0.5)) for _ in sizes]
        for index, size in enumerate(sizes):
            sheet.resize(index, size)
        return sheet

    def resize(self, index: int, size: tuple[float, float]) -> None:
        self.sizes[index] = size
        width, height = self.figure.get_size_inches()
        self.axes[index].set_position((0.1, 0.1, size[0] / width, size[1] / height))

    def extent(self, artist: Artist) -> tuple[float, float]:
        box = artist.get_window_extent(self.renderer)
        return box.width / DPI, box.height / DPI

    def text(self, text: str, size: float, bold: bool = False) -> Text:
        return self.figure.text(
            0,
            0,
            text,
            fontsize=size,
            fontweight="bold" if bold else "normal",
            ha="left",
            va="top",
            transform=self.figure.dpi_scale_trans,
        )

    def wrap(self, text: str, width: float, size: float) -> str:
        """Break `text` at spaces so each line is at most `width` inches (a long word may not)."""
        probe, lines = self.text(text, size), list[str]()
        if self.extent(probe)[0] <= width:
            probe.remove()
            return text
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                probe.set_text(f"{line} {word}" if line else word)
                if line and self.extent(probe)[0] > width:
                    lines.append(line)
                    probe.set_text("  " + word)
                line = probe.get_text()
            lines.append(line)
        probe.remove()
        return "\n".join(lines)

    def place(
        self,
        ax: Axes,
        anchors: Sequence[tuple[float, float]],
        texts: list[str],
        ids: list[str],
        size: float,
        *,
        far: bool,
    ) -> bool:
        """Place `texts` at their data `anchors` without overlap; False if one does not fit.

        Each label's SVG id is `label-<id>` (its leader line's `leader-<id>`).

        A label is only ever drawn at a spot checked free, so none overlaps another. On False
        nothing is drawn; with far=True, running out of room raises instead (the planes grow
        with the number of cells beyond ROOMY_CELLS so that the search does not run out).
        """
        box = ax.get_window_extent(self.renderer)
        pixels = ax.transData.transform(np.asarray(anchors, dtype=float).reshape(-1, 2))
        probes = [self.text(_plain(t), size) for t in texts]
        sizes = np.array([self.extent(p) for p in probes]).reshape(-1, 2) * DPI
        for probe in probes:
            probe.remove()
        r = _marker_radius() + 1
        dots = np.array([[x - r, y - r, x + r, y + r] for x, y in pixels])
        area = _Box(box.x0 + 2, box.y0 + 2, box.x1 - 2, box.y1 - 2)
        spots = _find_spots(pixels, sizes, area, dots, far=far)
        found = [spot for spot in spots if spot is not None]
        if len(found) == len(spots):
            for *dot, spot, text, gid in zip(pixels, sizes, found, texts, ids, strict=True):
                self._label(ax, (dot[0], dot[1]), spot, (text, gid), size)
            return True
        if far:
            raise RuntimeError("no room left for a label: the plot is too small for its cells")
        return False

    def _label(
        self,
        ax: Axes,
        dot: tuple[np.ndarray, np.ndarray],
        spot: tuple[float, float, bool],
        label: tuple[str, str],
        size: float,
    ) -> None:
        from matplotlib.patheffects import withStroke

        (anchor, extent), (text, gid) = dot, label
        to_data = ax.transData.inverted()
        centre = np.array(spot[:2])
        if not spot[2]:
            end = np.clip(anchor, centre - extent / 2, centre + extent / 2)
            (x0, y0), (x1, y1) = to_data.transform(np.vstack([anchor, end]))
            ax.plot([x0, x1], [y0, y1], color="#777777", lw=0.5, zorder=2.5, gid=f"leader-{gid}")
        x, y = to_data.transform(centre)
        ax.text(
            x,
            y,
            _plain(text),
            fontsize=size,
            ha="center",
            va="center",
            zorder=4,
            clip_on=False,
            path_effects=[withStroke(linewidth=2.5, foreground="white")],
            gid=f"label-{gid}",
        )

    def _overhang(self, ax: Axes) -> tuple[float, float, float, float]:
        tight, box = ax.get_tightbbox(self.renderer), ax.get_window_extent(self.renderer)
        assert tight is not None
        sides = (box.x0 - tight.x0, tight.x1 - box.x1, box.y0 - tight.y0, tight.y1 - box.y1)
        left, right, bottom, top = (max(side, 0.0) / DPI for side in sides)
        return left, right, bottom, top

    def finish(self, title: str, handles: list[Artist], lines: list[_Line]) -> None:
        """Measure margins, legend, panel and title; size the figure; move everything there.

        The legend goes right of the axes; the panel's lines under it when they fit in the
        axes' height, else in balanced columns under everything.
        """
        margins = [self._overhang(ax) for ax in self.axes]
        legend = self.figure.legend(
            handles=handles,
            loc="upper left",
            borderaxespad=0,
            fontsize=PANEL_SIZE,
            bbox_to_anchor=(0, 0),
            bbox_transform=self.figure.dpi_scale_trans,
        )
        legend_w, legend_h = self.extent(legend)
        lefts, panel_x = self._columns_x(margins)
        block = max(m[3] + h + m[2] for m, (_, h) in zip(margins, self.sizes, strict=True))
        texts = [
            self.text(self.wrap(_plain(x.text), KEY_WIDTH, PANEL_SIZE), PANEL_SIZE, x.bold)
            for x in lines
        ]
        sizes = [self.extent(t) for t in texts]
        key = _key(sizes, block, (panel_x, legend_h), panel_x + legend_w - MARGIN)
        width = max(panel_x + legend_w, key.x + key.width) + MARGIN
        heading = self.text(self.wrap(_plain(title), width - 2 * MARGIN, TITLE_SIZE), TITLE_SIZE)
        width = max(width, self.extent(heading)[0] + 2 * MARGIN)
        top = MARGIN + self.extent(heading)[1] + GAP
        height = top + max(block, legend_h, key.top + key.height) + MARGIN
        self.figure.set_size_inches(width, height)
        axes_top = height - top - max(m[3] for m in margins)
        for ax, left, (w, h) in zip(self.axes, lefts, self.sizes, strict=True):
            ax.set_position((left / width, (axes_top - h) / height, w / width, h / height))
        legend.set_bbox_to_anchor((panel_x, height - top), transform=self.figure.dpi_scale_trans)
        heading.set_position((MARGIN, height - MARGIN))
        _stack(texts, sizes, key.columns, key.x, height - top - key.top)

    def _columns_x(
        self, margins: list[tuple[float, float, float, float]]
    ) -> tuple[list[float], float]:
        lefts, x = [], MARGIN
        for (left, right, _, _), (w, _) in zip(margins, self.sizes, strict=True):
            lefts.append(x + left)
            x += left + w + right + GAP
        return lefts, x


def _columns_width(columns: list[_Column]) -> float:
    return sum(c.width for c in columns) + COLUMN_GAP * max(len(columns) - 1, 0)


@dataclass(frozen=True)
class _Key:
    """The panel's lines in columns, at `x` and `top` inches below the top of the axes."""

    columns: list[_Column]
    x: float
    top: float

    @property
    def width(self) -> float:
        return _columns_width(self.columns)

    @property
    def height(self) -> float:
        return max((c.height for c in self.columns), default=0.0)


def _key(
    sizes: list[tuple[float, float]], block: float, legend: tuple[float, float], width: float
) -> _Key:
    """Under the legend (at legend[0]) if the lines fit beside the axes, else below all."""
    panel_x, legend_h = legend
    if sum(h + LINE_GAP for _, h in sizes) <= block - legend_h - GAP:
        return _Key(_flow(sizes, math.inf), panel_x, legend_h + GAP)
    return _Key(_balanced(sizes, width), MARGIN, max(block, legend_h) + GAP)


def _balanced(sizes: list[tuple[float, float]], width: float) -> list[_Column]:
    """As many columns of about equal height as fit in `width` inches (at least one)."""
    widest = max(w for w, _ in sizes)
    count = max(1, int((width + COLUMN_GAP) // (widest + COLUMN_GAP)))
    height = sum(h + LINE_GAP for _, h in sizes) / count
    while len(columns := _flow(sizes, height)) > count:
        height += 0.05
    return columns


def _stack(
    texts: list[Text],
    sizes: list[tuple[float, float]],
    columns: list[_Column],
    x: float,
    top: float,
) -> None:
    for column in columns:
        y = top
        for index in column.items:
            texts[index].set_position((x, y))
            y -= sizes[index][1] + LINE_GAP
        x += column.width + COLUMN_GAP
