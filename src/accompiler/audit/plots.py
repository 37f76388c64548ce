"""The audit's cards -> the paper's two figures (render.figures), as jobs the executors run
beside the cells (one plane a job), and through the content-addressed cache: a figure is a
function of its points, its settings, accard's and matplotlib's versions."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from .._version import __version__
from .summary import figure_settings

FIGURES = ("bootstrap", "signature")


def plots_available() -> bool:
    """Whether matplotlib (`accard[plots]`) is installed."""
    return find_spec("matplotlib") is not None


def figure_jobs(
    summary: dict[str, Any], cards: dict[str, dict[str, Any]], formats: tuple[str, ...]
) -> list[dict[str, Any]]:
    """One job per plane, over the computed cells in the audit's order (none if none)."""
    from ..render.figures import cell_point_from_card

    rows = [r for r in summary["cells"] if r["cell"] in cards]
    if not rows:
        return []
    points = [cell_point_from_card(cards[r["cell"]], r["cell"], r["group"]) for r in rows]
    level, threshold = figure_settings([cards[r["cell"]] for r in rows])
    described = [dataclasses.asdict(p) for p in points]
    return [
        {
            "kind": "figure",
            "figure": name,
            "points": described,
            "confidence": level,
            "rho_threshold": threshold,
            "formats": list(formats),
        }
        for name in FIGURES
    ]


def run_figure(job: dict[str, Any]) -> dict[str, Any]:
    """Draw one plane in every format asked (worker side): {"files": {name: base64}}."""
    from ..render.figures import CellPoint, audit_planes

    points = [CellPoint(**_fields(p)) for p in job["points"]]
    drawn = audit_planes(
        points,
        confidence=job["confidence"],
        rho_threshold=job["rho_threshold"],
        formats=job["formats"],
        planes=(job["figure"],),
    )
    files = {name: base64.b64encode(data).decode("ascii") for name, data in drawn.items()}
    return {"status": "computed", "files": files}


def _fields(point: dict[str, Any]) -> dict[str, Any]:
    """A point's JSON fields; its intervals back as (estimate, ci_low, ci_high) tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in point.items()}


def figure_files(results: list[dict[str, Any]]) -> dict[str, bytes]:
    return {
        name: base64.b64decode(data)
        for result in results
        for name, data in result.get("files", {}).items()
    }


def job_key(job: dict[str, Any]) -> str:
    """The cache key of a figure job."""
    material = [__version__, version("matplotlib"), job]
    return hashlib.sha256(json.dumps(material).encode("utf-8")).hexdigest()


def cached(cache: Path, job: dict[str, Any]) -> dict[str, Any] | None:
    """A figure job's result from the cache, if every format of it is there."""
    key = job_key(job)
    paths = {f"{job['figure']}.{fmt}": _path(cache, key, fmt) for fmt in job["formats"]}
    if not all(p.is_file() for p in paths.values()):
        return None
    files = {name: base64.b64encode(p.read_bytes()).decode("ascii") for name, p in paths.items()}
    return {"status": "computed", "files": files}


def store(cache: Path, job: dict[str, Any], result: dict[str, Any]) -> None:
    key = job_key(job)
    for fmt in job["formats"]:
        data = base64.b64decode(result["files"][f"{job['figure']}.{fmt}"])
        path = _path(cache, key, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)


def _path(cache: Path, key: str, fmt: str) -> Path:
    return cache / "figures" / key[:2] / f"{key}.{fmt}"


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
