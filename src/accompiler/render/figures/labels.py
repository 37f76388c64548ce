"""Label placement in pixels: each label at the first free spot beside its dot, else (far)
the free spot nearest to it on a grid over the plot; nothing ever overlaps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .style import GRID_CHUNK, LABEL_PAD, marker_radius


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float


def find_spots(
    anchors: np.ndarray, sizes: np.ndarray, area: Box, obstacles: np.ndarray, *, far: bool
) -> list[tuple[float, float, bool] | None]:
    """Greedy placement in pixels: each label at its first free candidate spot, or None.

    Candidates are the eight spots touching the dot, then (if `far`) a grid over the whole
    area nearest first. A spot is free when its padded box lies inside `area` and meets no
    obstacle (the dots) nor any label placed before. Returns centres and whether touching.
    """
    placed = obstacles.reshape(-1, 4)
    spots: list[tuple[float, float, bool] | None] = []
    for anchor, size in zip(anchors, sizes, strict=True):
        ring = ring_spots(anchor, size)
        candidates = np.vstack([ring, grid_spots(anchor, size, area)]) if far else ring
        index = first_free(label_boxes(candidates, size), area, placed)
        if index is None:
            spots.append(None)
            continue
        spots.append((float(candidates[index, 0]), float(candidates[index, 1]), index < 8))
        placed = np.vstack([placed, label_boxes(candidates[index : index + 1], size)])
    return spots


def ring_spots(anchor: np.ndarray, size: np.ndarray) -> np.ndarray:
    reach = size / 2 + marker_radius() + LABEL_PAD
    directions = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, 1], [1, -1], [-1, -1]])
    return np.asarray(anchor + directions * reach, dtype=float)


def grid_spots(anchor: np.ndarray, size: np.ndarray, area: Box) -> np.ndarray:
    xs = np.arange(area.x0 + size[0] / 2, area.x1 - size[0] / 2, size[0] / 3)
    ys = np.arange(area.y0 + size[1] / 2, area.y1 - size[1] / 2, size[1] / 3)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    order = np.lexsort((grid[:, 0], grid[:, 1], np.hypot(*(grid - anchor).T)))
    return np.asarray(grid[order])


def label_boxes(centres: np.ndarray, size: np.ndarray) -> np.ndarray:
    half = size / 2 + LABEL_PAD / 2
    return np.hstack([centres - half, centres + half])


def first_free(boxes: np.ndarray, area: Box, placed: np.ndarray) -> int | None:
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
