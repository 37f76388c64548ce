"""Canonical JSON: the one encoder of plans, claims and cards (stable bytes, no NaN)."""

from __future__ import annotations

import json
import math
from typing import Any

SIGNIFICANT_DIGITS = 12


def dumps(document: Any) -> str:
    """Insertion-ordered keys, two-space indent, UTF-8 text, no NaN, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def round_numbers(value: Any) -> Any:
    """Round floats to 12 significant digits, so the bytes do not depend on the last ulp of a
    platform's BLAS; NaN and infinity must never reach a document."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a non-finite number reached the card")
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") + 0.0
    if isinstance(value, dict):
        return {k: round_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [round_numbers(v) for v in value]
    return value
