"""The figures' fixed look: colours, sizes and matplotlib settings, and figure -> bytes.

Everything the bytes depend on is fixed here, starting from matplotlib's own defaults (the
user's matplotlibrc is ignored): a salt for SVG ids, glyphs as paths (the SVG shows text
exactly as it was measured for placement, whatever fonts the viewer has), the font
matplotlib ships, and metadata without dates or versions.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c0392b", "not_evaluable": "#888888"}
NEUTRAL, INK, GUIDE = "#1f6f8b", "#333333", "#999999"
PASS_REGION, WEDGE, SHRINKAGE = "#e3f1e4", "#d6eaf8", "#fdf2d0"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
DPI = 150
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


def matplotlib_module() -> ModuleType:
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "accard's figures need matplotlib: pip install 'accard[plots]'"
        ) from error
    return matplotlib


@contextmanager
def figure_style() -> Iterator[None]:
    matplotlib = matplotlib_module()
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(RC)
        yield


def render_figure(build: Callable[[], Figure], fmt: str) -> bytes:
    return render_formats(build, (fmt,))[fmt]


def render_formats(build: Callable[[], Figure], formats: Sequence[str]) -> dict[str, bytes]:
    """The figure built once (placing labels measures text: the costly part), then saved in
    each format; the bytes are those a build per format gives."""
    for fmt in formats:
        if fmt not in METADATA:
            raise ValueError(f"`fmt` must be 'svg' or 'png', not {fmt!r}")
    out = {}
    with figure_style():
        figure = build()
        for fmt in formats:
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, dpi=DPI, metadata=METADATA[fmt])
            out[fmt] = buffer.getvalue()
    return out


def plain(text: str) -> str:
    return text.replace("$", r"\$")


def legend_dot(colour: str, label: str, shape: str = "o", filled: bool = True) -> Artist:
    from matplotlib.lines import Line2D

    face = colour if filled else "white"
    return Line2D(
        [], [], ls="none", marker=shape, ms=MARKER_SIZE, color=colour, mfc=face, label=label
    )


def marker_radius() -> float:
    return MARKER_SIZE / 2 * DPI / 72
