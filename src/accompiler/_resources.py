"""Locates the shipped grammar and schemas, in a wheel or in a source checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    wheel = _PACKAGE_DIR / "_data" / name
    if wheel.is_dir():
        return wheel
    return _PACKAGE_DIR.parent.parent / name


def grammar_path() -> Path:
    return _data_dir("grammar") / "accard.lark"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the parsed JSON Schema `schemas/<name>.schema.json`."""
    with open(_data_dir("schemas") / f"{name}.schema.json", encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def schema_names() -> list[str]:
    return sorted(p.name.removesuffix(".schema.json") for p in _data_dir("schemas").glob("*.json"))
