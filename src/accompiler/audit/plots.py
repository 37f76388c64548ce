"""The audit's cards -> the paper's two figures (render.figures), SVG and PNG, optionally
through the content-addressed cache (a figure is a function of its points and settings)."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .._version import __version__
from .summary import figure_settings

FIGURES = ("bootstrap", "signature")
FORMATS = ("svg", "png")


def plots_available() -> bool:
    """Whether matplotlib (`accard[plots]`) is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def figure_bytes(
    summary: dict[str, Any], cards: dict[str, dict[str, Any]], cache: Path | None = None
) -> dict[str, bytes]:
    """`{"bootstrap.svg": ..., "signature.png": ...}` for the computed cells, in order."""
    from ..render.figures import bootstrap_plane, cell_point_from_card, signature_plane

    rows = [r for r in summary["cells"] if r["cell"] in cards]
    if not rows:
        return {}
    points = [cell_point_from_card(cards[r["cell"]], r["cell"], r["group"]) for r in rows]
    level, threshold = figure_settings(list(cards.values()))
    draw: dict[str, Callable[[str], bytes]] = {
        "bootstrap": lambda fmt: bootstrap_plane(points, confidence=level, fmt=fmt),
        "signature": lambda fmt: signature_plane(points, rho_threshold=threshold, fmt=fmt),
    }
    described = [dataclasses.asdict(p) for p in points]
    out = {}
    for name in FIGURES:
        for fmt in FORMATS:
            key = _key(name, fmt, described, level, threshold)
            out[f"{name}.{fmt}"] = _cached(cache, key, fmt, partial(draw[name], fmt))
    return out


def _key(name: str, fmt: str, points: list[dict[str, Any]], level: float, rho: float) -> str:
    material = [__version__, version("matplotlib"), name, fmt, level, rho, points]
    return hashlib.sha256(json.dumps(material).encode("utf-8")).hexdigest()


def _cached(cache: Path | None, key: str, fmt: str, draw: Callable[[], bytes]) -> bytes:
    if cache is None:
        return draw()
    path = cache / "figures" / key[:2] / f"{key}.{fmt}"
    if path.is_file():
        return path.read_bytes()
    data = draw()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, data)
    return data


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Bytes through a temporary file of its own renamed over `path` (as text is written)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
