"""Layout: axes of fixed size in inches, measured margins, a legend, a side panel of text
lines in columns, and a title; the figure is sized to hold exactly that."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .labels import Box, find_spots
from .style import (
    COLUMN_GAP,
    DPI,
    GAP,
    KEY_WIDTH,
    LINE_GAP,
    MARGIN,
    PANEL_SIZE,
    TITLE_SIZE,
    marker_radius,
    plain,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Text


@dataclass(frozen=True)
class Line:
    """A line of the side panel."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Column:
    items: tuple[int, ...]
    width: float
    height: float


def flow(sizes: list[tuple[float, float]], height: float) -> list[Column]:
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
        Column(tuple(c), max(sizes[i][0] for i in c), sum(sizes[i][1] + LINE_GAP for i in c))
        for c in columns
        if c
    ]


class Sheet:
    """A figure whose axes keep their size in inches while everything around is measured."""

    def __init__(self, figure: Figure, renderer: RendererBase, sizes: list[tuple[float, float]]):
        self.figure, self.renderer, self.sizes = figure, renderer, sizes
        self.axes: list[Axes] = []

    @classmethod
    def new(cls, sizes: list[tuple[float, float]]) -> Sheet:
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
        probes = [self.text(plain(t), size) for t in texts]
        sizes = np.array([self.extent(p) for p in probes]).reshape(-1, 2) * DPI
        for probe in probes:
            probe.remove()
        r = marker_radius() + 1
        dots = np.array([[x - r, y - r, x + r, y + r] for x, y in pixels])
        area = Box(box.x0 + 2, box.y0 + 2, box.x1 - 2, box.y1 - 2)
        spots = find_spots(pixels, sizes, area, dots, far=far)
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
            plain(text),
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

    def finish(self, title: str, handles: list[Artist], lines: list[Line]) -> None:
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
            self.text(self.wrap(plain(x.text), KEY_WIDTH, PANEL_SIZE), PANEL_SIZE, x.bold)
            for x in lines
        ]
        sizes = [self.extent(t) for t in texts]
        key = key_layout(sizes, block, (panel_x, legend_h), panel_x + legend_w - MARGIN)
        width = max(panel_x + legend_w, key.x + key.width) + MARGIN
        heading = self.text(self.wrap(plain(title), width - 2 * MARGIN, TITLE_SIZE), TITLE_SIZE)
        width = max(width, self.extent(heading)[0] + 2 * MARGIN)
        top = MARGIN + self.extent(heading)[1] + GAP
        height = top + max(block, legend_h, key.top + key.height) + MARGIN
        self.figure.set_size_inches(width, height)
        axes_top = height - top - max(m[3] for m in margins)
        for ax, left, (w, h) in zip(self.axes, lefts, self.sizes, strict=True):
            ax.set_position((left / width, (axes_top - h) / height, w / width, h / height))
        legend.set_bbox_to_anchor((panel_x, height - top), transform=self.figure.dpi_scale_trans)
        heading.set_position((MARGIN, height - MARGIN))
        stack(texts, sizes, key.columns, key.x, height - top - key.top)

    def _columns_x(
        self, margins: list[tuple[float, float, float, float]]
    ) -> tuple[list[float], float]:
        lefts, x = [], MARGIN
        for (left, right, _, _), (w, _) in zip(margins, self.sizes, strict=True):
            lefts.append(x + left)
            x += left + w + right + GAP
        return lefts, x


def columns_width(columns: list[Column]) -> float:
    return sum(c.width for c in columns) + COLUMN_GAP * max(len(columns) - 1, 0)


@dataclass(frozen=True)
class Key:
    """The panel's lines in columns, at `x` and `top` inches below the top of the axes."""

    columns: list[Column]
    x: float
    top: float

    @property
    def width(self) -> float:
        return columns_width(self.columns)

    @property
    def height(self) -> float:
        return max((c.height for c in self.columns), default=0.0)


def key_layout(
    sizes: list[tuple[float, float]], block: float, legend: tuple[float, float], width: float
) -> Key:
    """Under the legend (at legend[0]) if the lines fit beside the axes, else below all."""
    panel_x, legend_h = legend
    if sum(h + LINE_GAP for _, h in sizes) <= block - legend_h - GAP:
        return Key(flow(sizes, math.inf), panel_x, legend_h + GAP)
    return Key(balanced(sizes, width), MARGIN, max(block, legend_h) + GAP)


def balanced(sizes: list[tuple[float, float]], width: float) -> list[Column]:
    """As many columns of about equal height as fit in `width` inches (at least one)."""
    widest = max(w for w, _ in sizes)
    count = max(1, int((width + COLUMN_GAP) // (widest + COLUMN_GAP)))
    height = sum(h + LINE_GAP for _, h in sizes) / count
    while len(columns := flow(sizes, height)) > count:
        height += 0.05
    return columns


def stack(
    texts: list[Text],
    sizes: list[tuple[float, float]],
    columns: list[Column],
    x: float,
    top: float,
) -> None:
    for column in columns:
        y = top
        for index in column.items:
            texts[index].set_position((x, y))
            y -= sizes[index][1] + LINE_GAP
        x += column.width + COLUMN_GAP
