"""The audit figures: card values land on the plot, labels stay readable, bytes reproduce."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.artist import Artist
from matplotlib.colors import same_color
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from accompiler.render import figures
from accompiler.render.figures import CellPoint, cell_point_from_card, labels, planes, style
from accompiler.render.figures import card as card_drawing

GOLDEN = Path(__file__).resolve().parent / "golden"
DEFENSES = (
    "SafeLoRA",
    "AC-AdamW α=10",
    "weight decay λ=0.1",
    "Attack-Aware α=0.5",
    "Attack-Aware α=1",
    "Attack-Aware α=2",
    "Vaccine (a long defense label, audited)",
)


def load_card(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{name}.card.json").read_text(encoding="utf-8"))


def synthetic_points(count: int, *, crowded: bool = False, seed: int = 0) -> list[CellPoint]:
    """`count` cells of up to seven defenses; `crowded` stacks most on one spot in both planes.

    Every 9th cell lacks its intervals and every 11th its signature, so the notes are drawn.
    """
    rng = np.random.default_rng(seed)
    points = []
    for index in range(count):
        defense = DEFENSES[index % len(DEFENSES)]
        stacked = crowded and index % 5 != 0
        gap = -0.1 + rng.normal(0, 1e-4 if stacked else 0.12)
        deploy = -0.02 + rng.normal(0, 1e-4 if stacked else 0.05)
        alpha_a = 0.62 + rng.normal(0, 1e-4) if stacked else float(rng.uniform(0.05, 1.6))
        alpha_t = 0.62 + rng.normal(0, 1e-4) if stacked else float(rng.uniform(0.02, 1.3))
        width, status = float(rng.uniform(0.03, 0.09)), ("pass", "fail", "not_evaluable")
        points.append(
            CellPoint(
                cell=f"{defense} seed {index}",
                group=defense,
                delta_gap=None if index % 9 == 8 else (gap, gap - width, gap + width),
                delta_deploy=None if index % 9 == 8 else (deploy, deploy - width, deploy + width),
                reliability_status="pass" if gap + width < 0 else status[1 + index % 2],
                alpha_t=None if index % 11 == 10 else alpha_t,
                alpha_a=None if index % 11 == 10 else alpha_a,
                rho_at=None if index % 11 == 10 else alpha_t / alpha_a,
                mechanism_status=status[index % 3],
                measured=None if index % 11 == 10 else "shrinkage",
            )
        )
    return points


@contextmanager
def built(kind: str, *args: Any) -> Iterator[Figure]:
    """The figure a public function would render, drawn, inside the module's style."""
    build = {
        "bootstrap": planes.bootstrap_figure,
        "signature": planes.signature_figure,
        "card": card_drawing.build_card_figure,
    }[kind]
    with style.figure_style():
        figure = build(*args)
        figure.canvas.draw()
        yield figure


def by_gid(figure: Figure, gid: str) -> Artist:
    found = [a for a in figure.findobj() if a.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} artists with gid {gid}"
    return found[0]


def xy(artist: Artist) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in zip(*artist.get_data(), strict=True)]


# ---- plain data from cards ----------------------------------------------------------------


def test_cell_point_reads_the_card_fields() -> None:
    card = load_card("safelora_relabel")
    point = cell_point_from_card(card, "SafeLoRA s0", "SafeLoRA")
    reliability, mechanism = card["diagnostics"]["reliability"], card["diagnostics"]["mechanism"]
    assert point.delta_gap == tuple(
        reliability["delta_gap"][k] for k in ("estimate", "ci_low", "ci_high")
    )
    assert point.delta_deploy == tuple(
        reliability["delta_deploy"][k] for k in ("estimate", "ci_low", "ci_high")
    )
    assert (point.alpha_t, point.alpha_a, point.rho_at) == (
        mechanism["alpha_t"],
        mechanism["alpha_a"],
        mechanism["rho_at"],
    )
    assert (point.reliability_status, point.mechanism_status, point.measured) == (
        "pass",
        "fail",
        "shrinkage",
    )
    assert (point.cell, point.group) == ("SafeLoRA s0", "SafeLoRA")


def test_cell_point_reads_a_card_without_numbers() -> None:
    card = load_card("oracle")
    card["diagnostics"]["reliability"].update(
        status="not_evaluable", delta_gap=None, delta_deploy=None
    )
    card["diagnostics"]["mechanism"].update(
        status="not_evaluable", alpha_t=None, alpha_a=None, rho_at=None, measured=None
    )
    point = cell_point_from_card(card, "x")
    assert (point.delta_gap, point.delta_deploy, point.alpha_t, point.measured) == (None,) * 4


def test_cell_point_refuses_other_card_versions() -> None:
    with pytest.raises(ValueError, match=r"card version '2' is not supported"):
        cell_point_from_card({**load_card("oracle"), "card_version": "2"}, "x")


BASE = synthetic_points(1)[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reliability_status": "passed"}, r"`reliability_status` must be one of"),
        ({"mechanism_status": "ok"}, r"`mechanism_status` must be one of"),
        ({"measured": "targeted"}, r"`measured` must be one of"),
        ({"delta_gap": (0.1, 0.0)}, r"`delta_gap` must be \(estimate, ci_low, ci_high\)"),
        ({"delta_deploy": (float("nan"), 0.0, 1.0)}, r"`delta_deploy` must be"),
        ({"alpha_t": -0.1}, r"`alpha_t` must be a finite number >= 0"),
        ({"rho_at": float("inf")}, r"`rho_at` must be a finite number >= 0"),
    ],
)
def test_cell_point_validates(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(BASE, **change)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: figures.bootstrap_plane([]), r"`points` is empty"),
        (
            lambda: figures.bootstrap_plane([BASE], confidence=1.0),
            r"`confidence` must be in \(0, 1",
        ),
        (lambda: figures.signature_plane([BASE], rho_threshold=0), r"`rho_threshold` must be in"),
        (lambda: figures.signature_plane([BASE], fmt="pdf"), r"`fmt` must be 'svg' or 'png'"),
        (lambda: figures.card_figure({"card_version": "0"}), r"card version '0'"),
    ],
)
def test_arguments_are_checked(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# ---- every value lands where it should ---------------------------------------------------


def test_bootstrap_plane_puts_the_card_numbers_on_the_plot() -> None:
    cards = [load_card(n) for n in ("safelora_relabel", "oracle", "weight_decay")]
    points = [cell_point_from_card(c, f"cell {i}") for i, c in enumerate(cards, 1)]
    with built("bootstrap", points, 0.95) as figure:
        for number, card in enumerate(cards, 1):
            gap, deploy = (
                card["diagnostics"]["reliability"][k] for k in ("delta_gap", "delta_deploy")
            )
            assert xy(by_gid(figure, f"point-{number}")) == [(deploy["estimate"], gap["estimate"])]
            assert xy(by_gid(figure, f"xbar-{number}")) == [
                (deploy["ci_low"], gap["estimate"]),
                (deploy["ci_high"], gap["estimate"]),
            ]
            assert xy(by_gid(figure, f"ybar-{number}")) == [
                (deploy["estimate"], gap["ci_low"]),
                (deploy["estimate"], gap["ci_high"]),
            ]
            colour = figures.STATUS_COLOURS[card["diagnostics"]["reliability"]["status"]]
            assert same_color(by_gid(figure, f"xbar-{number}").get_color(), colour)


def test_bootstrap_plane_shades_the_passing_half_plane() -> None:
    with built("bootstrap", synthetic_points(3), 0.95) as figure:
        ax = figure.axes[0]
        region = by_gid(figure, "pass-region").get_window_extent()
        plot = ax.get_window_extent()
        zero = ax.transData.transform((0, 0))[1]
        assert region.y0 == pytest.approx(plot.y0) and region.y1 == pytest.approx(zero)
        assert (region.x0, region.x1) == pytest.approx((plot.x0, plot.x1))
        assert "Δdeploy" in ax.get_xlabel() and "Δgap" in ax.get_ylabel()
        labels = [t.get_text() for t in figure.legends[0].get_texts()]
        assert any("passes iff" in label and "vertical bar" in label for label in labels)


def test_signature_plane_puts_the_card_numbers_on_the_plot() -> None:
    cards = [load_card(n) for n in ("safelora", "oracle", "weight_decay")]
    points = [cell_point_from_card(c, f"cell {i}") for i, c in enumerate(cards, 1)]
    with built("signature", points, 0.6) as figure:
        for number, card in enumerate(cards, 1):
            mechanism = card["diagnostics"]["mechanism"]
            point = by_gid(figure, f"point-{number}")
            assert xy(point) == [(mechanism["alpha_a"], mechanism["alpha_t"])]
            colour = figures.STATUS_COLOURS[mechanism["status"]]
            assert same_color(point.get_markerfacecolor(), colour)


@pytest.mark.parametrize("threshold", [0.6, 0.3])
def test_signature_plane_draws_the_wedge_shrinkage_region_and_diagonal(threshold: float) -> None:
    with built("signature", synthetic_points(3), threshold) as figure:
        wedge = by_gid(figure, "wedge").get_xy()
        assert all(y == pytest.approx(threshold * x) for x, y in wedge[:2])
        assert {tuple(v) for v in by_gid(figure, "shrinkage").get_xy()} >= {
            (0, 0),
            (1 / threshold, 1),
            (0, 1),
        }
        assert all(x == y for x, y in xy(by_gid(figure, "diagonal")))
        ax = figure.axes[0]
        assert r"\alpha_A" in ax.get_xlabel() and r"\alpha_T" in ax.get_ylabel()
        labels = " ".join(t.get_text() for t in figure.legends[0].get_texts())
        assert f"< {threshold:g}" in labels and "shrinkage" in labels


@pytest.mark.parametrize("name", ["safelora_relabel", "oracle", "weight_decay"])
def test_card_figure_puts_the_card_numbers_on_the_plot(name: str) -> None:
    card = load_card(name)
    with built("card", card) as figure:
        rows = card_drawing.card_rows(card)
        assert len(rows) == 3 + len(card["diagnostics"]["transfer"]["targets"]) + 1
        for index, (_, interval, status) in enumerate(rows):
            line = by_gid(figure, f"row-{index}-interval")
            (low, y), (high, y_again) = xy(line)
            assert (low, high, y) == (interval["ci_low"], interval["ci_high"], y_again)
            assert xy(by_gid(figure, f"row-{index}")) == [(interval["estimate"], y)]
            colour = figures.STATUS_COLOURS.get(status, style.NEUTRAL)
            assert same_color(line.get_color(), colour)
        mechanism = card["diagnostics"]["mechanism"]
        point = by_gid(figure, "point-signature")
        assert xy(point) == [(mechanism["alpha_a"], mechanism["alpha_t"])]
        colour = figures.STATUS_COLOURS[mechanism["status"]]
        assert same_color(point.get_markerfacecolor(), colour)
        legend = " ".join(t.get_text() for t in figure.legends[0].get_texts())
        assert "pass" in legend and "attack-targeted" in legend and "shrinkage" in legend


def test_card_figure_colours_the_signature_by_its_status() -> None:
    colours = {}
    for name in ("safelora", "oracle"):
        with built("card", load_card(name)) as figure:
            colours[name] = by_gid(figure, "point-signature").get_markerfacecolor()
    assert same_color(colours["safelora"], figures.STATUS_COLOURS["fail"])
    assert same_color(colours["oracle"], figures.STATUS_COLOURS["pass"])


def test_card_figure_without_a_signature_says_so() -> None:
    card = load_card("oracle")
    card["diagnostics"]["mechanism"].update(
        status="not_evaluable",
        alpha_t=None,
        alpha_a=None,
        rho_at=None,
        measured=None,
        reason="no undefended energy inside the reference subspace",
    )
    with built("card", card) as figure:
        texts = [t.get_text() for t in figure.texts]
        assert "(c) mechanism: not evaluable" in texts
        assert any("no undefended energy" in t for t in texts)
        assert not [a for a in figure.findobj() if a.get_gid() == "point-signature"]


# ---- readable at any number of cells -----------------------------------------------------


def drawn_texts(figure: Figure) -> list[tuple[str, Bbox]]:
    """Every non-empty text the Agg renderer draws, with its extent in pixels."""
    drawn: list[Text] = []
    draw = Text.draw

    def record(self: Text, renderer: Any) -> None:
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        draw(self, renderer)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Text, "draw", record)
        figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn]


def disjoint(a: Any, b: Any) -> bool:
    """Whether boxes (x0, y0, x1, y1) share no area (touching edges are allowed)."""
    return min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])


def assert_readable(figure: Figure) -> list[str]:
    texts = drawn_texts(figure)
    canvas = figure.bbox
    for text, box in texts:
        assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1, f"{text!r} leaves the canvas"
        assert canvas.y0 <= box.y0 and box.y1 <= canvas.y1, f"{text!r} leaves the canvas"
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        assert disjoint(box_a.extents, box_b.extents), f"{a!r} overlaps {b!r}"
    return [text for text, _ in texts]


CASES = [(1, False), (3, False), (21, False), (21, True), (50, False), (50, True)]


@pytest.mark.parametrize(("count", "crowded"), CASES)
@pytest.mark.parametrize("kind", ["bootstrap", "signature"])
def test_planes_are_readable(kind: str, count: int, crowded: bool) -> None:
    points = synthetic_points(count, crowded=crowded)
    with built(kind, points, 0.95 if kind == "bootstrap" else 0.6) as figure:
        texts = assert_readable(figure)
        plotted = [
            n
            for n, p in enumerate(points, 1)
            if (planes.interval_pair(p) if kind == "bootstrap" else planes.signature_xy(p))
        ]
        labels = [by_gid(figure, f"label-{n}").get_text() for n in plotted]
        if count <= 3:
            assert labels == [points[n - 1].cell for n in plotted]
        else:
            assert labels == [str(n) for n in plotted]
        for number, point in enumerate(points, 1):
            assert f"{number}  {point.cell}" in texts or point.cell in texts
        leaders = [a for a in figure.findobj() if str(a.get_gid()).startswith("leader-")]
        assert len(leaders) > 5 if crowded else True


@pytest.mark.parametrize("name", ["safelora_relabel", "oracle", "weight_decay"])
def test_card_figure_is_readable(name: str) -> None:
    card = load_card(name)
    with built("card", card) as figure:
        texts = assert_readable(figure)
    assert f"(a) Δgap held-out · {card['diagnostics']['reliability']['status']}" in texts


def test_the_readability_check_sees_every_text_and_catches_overlaps() -> None:
    with built("signature", synthetic_points(3), 0.6) as figure:
        texts = assert_readable(figure)
        assert {"0.0", "1.2", "SafeLoRA seed 0", "(c) pass"} <= set(texts)
        assert any(r"\alpha_A" in t for t in texts) and any("LoRA signature" in t for t in texts)
        label = by_gid(figure, "label-1")
        figure.axes[0].text(*label.get_position(), "on top")
        with pytest.raises(AssertionError, match="overlaps"):
            assert_readable(figure)
        figure.axes[0].texts[-1].remove()
        figure.texts[-1].set_position((-1, 0))  # the title, in inches
        with pytest.raises(AssertionError, match="leaves the canvas"):
            assert_readable(figure)


@settings(max_examples=40, deadline=None)
@given(
    anchors=st.lists(st.tuples(st.floats(0, 300), st.floats(0, 200)), min_size=1, max_size=40),
    width=st.floats(8, 60),
    height=st.floats(8, 14),
)
def test_placement_is_free_of_overlaps(
    anchors: list[tuple[float, float]], width: float, height: float
) -> None:
    area = labels.Box(0, 0, 300 * 1.5, 200 * 1.5)
    points = np.array(anchors) + 75
    sizes = np.tile([width, height], (len(points), 1))
    dots = np.array([[x - 5, y - 5, x + 5, y + 5] for x, y in points])
    spots = labels.find_spots(points, sizes, area, dots, far=True)
    assert all(spot is not None for spot in spots)
    boxes = [labels.label_boxes(np.array([spot[:2]]), sizes[0])[0] for spot in spots if spot]
    for box in boxes:
        assert area.x0 <= box[0] and box[2] <= area.x1 and area.y0 <= box[1] and box[3] <= area.y1
        assert all(disjoint(box, other) for other in [*boxes, *dots] if other is not box)


def test_card_figure_is_readable_with_long_names() -> None:
    card = load_card("safelora_relabel")
    card["claim"]["title"] = "A very long claim title " * 12
    for target in card["diagnostics"]["transfer"]["targets"]:
        target["name"] = "a transfer target with a long descriptive name " + target["name"]
    with built("card", card) as figure:
        assert_readable(figure)


# ---- deterministic bytes -----------------------------------------------------------------

RENDER_ALL = """
import hashlib, json, sys
sys.path.insert(0, {tests!r})
from test_figures import load_card, synthetic_points
from accompiler.render import figures
points = synthetic_points(21, crowded=True)
for fmt in ("svg", "png"):
    for name, data in (
        ("bootstrap", figures.bootstrap_plane(points, fmt=fmt)),
        ("signature", figures.signature_plane(points, fmt=fmt)),
        ("card", figures.card_figure(load_card("safelora_relabel"), fmt=fmt)),
    ):
        print(name, fmt, hashlib.sha256(data).hexdigest())
"""


def render_all_in_process() -> str:
    points = synthetic_points(21, crowded=True)
    lines = []
    for fmt in ("svg", "png"):
        for name, data in (
            ("bootstrap", figures.bootstrap_plane(points, fmt=fmt)),
            ("signature", figures.signature_plane(points, fmt=fmt)),
            ("card", figures.card_figure(load_card("safelora_relabel"), fmt=fmt)),
        ):
            lines.append(f"{name} {fmt} {hashlib.sha256(data).hexdigest()}")
    return "\n".join(lines) + "\n"


def test_bytes_are_identical_across_processes() -> None:
    script = RENDER_ALL.format(tests=str(Path(__file__).parent))
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": epoch},
        )
        for seed, epoch in (("1", "0"), ("2", "1700000000"))
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] == render_all_in_process()
    assert len({line.split()[2] for line in outputs[0].splitlines()}) == 6


def test_user_settings_do_not_change_the_bytes_and_are_restored() -> None:
    points = synthetic_points(3)
    expected = [figures.bootstrap_plane(points, fmt=f) for f in ("svg", "png")]
    odd = {"font.size": 17, "lines.linewidth": 4, "svg.fonttype": "none", "axes.facecolor": "k"}
    with matplotlib.rc_context(odd):
        assert [figures.bootstrap_plane(points, fmt=f) for f in ("svg", "png")] == expected
        assert matplotlib.rcParams["font.size"] == 17


def test_no_dates_or_versions_in_the_files() -> None:
    points = synthetic_points(3)
    svg, png = (figures.signature_plane(points, fmt=f) for f in ("svg", "png"))
    assert svg.startswith(b"<?xml") and png.startswith(b"\x89PNG")
    assert matplotlib.__version__.encode() not in svg + png
    assert b"<dc:date>" not in svg and b"tIME" not in png
    assert b"accard" in svg and b"accard" in png


# ---- matplotlib is optional --------------------------------------------------------------


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = "import sys, accompiler.render.figures; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_missing_matplotlib_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'accard\[plots\]'"):
        figures.signature_plane(synthetic_points(1))


# ---- the audit's planes and the card's SVG -------------------------------------------------


def test_audit_planes_draw_each_plane_once_into_the_same_bytes() -> None:
    points = synthetic_points(3)
    both = figures.audit_planes(points, confidence=0.9, rho_threshold=0.5)
    assert both == {
        "bootstrap.svg": figures.bootstrap_plane(points, confidence=0.9, fmt="svg"),
        "bootstrap.png": figures.bootstrap_plane(points, confidence=0.9, fmt="png"),
        "signature.svg": figures.signature_plane(points, rho_threshold=0.5, fmt="svg"),
        "signature.png": figures.signature_plane(points, rho_threshold=0.5, fmt="png"),
    }
    with pytest.raises(ValueError, match=r"`planes` must name bootstrap or signature"):
        figures.audit_planes(points, planes=("histogram",))


def test_the_card_svg_is_the_matplotlib_drawing_when_matplotlib_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accompiler.card import Card
    from accompiler.render import svg

    card = load_card("safelora")
    drawn = figures.card_figure(card, fmt="svg").decode()
    assert svg.render(card) == drawn[drawn.index("<svg") :]
    assert 'id="point-signature"' in Card(card).render("html")
    monkeypatch.setattr(svg, "matplotlib_installed", lambda: False)
    assert svg.render(card) == svg.plain(card)
    assert 'id="point-signature"' not in Card(card).render("html")


def test_the_plain_svg_keeps_long_labels_on_its_canvas() -> None:
    from accompiler.render import svg

    card = load_card("safelora_relabel")
    card["claim"]["defense"] = "A defense with a very long descriptive name " * 4
    for target in card["diagnostics"]["transfer"]["targets"]:
        target["name"] = "a transfer target with a long descriptive name " + target["name"]
    text = svg.plain(card)
    labels = [t for t in text.split("<text")[1:] if "…" in t]
    assert len(labels) >= 3
    assert all(len(t.split(">", 1)[1].split("<", 1)[0]) <= svg.TITLE_CHARS for t in labels)
