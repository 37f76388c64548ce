"""lark, imported without the `regex` module.

lark imports the third-party `regex` module whenever it is installed (~10 ms of every
command), but uses it only for grammars built with `regex=True`, which accard's is not: the
import is refused while lark loads, so lark falls back to `re`, which it uses anyway.
Imported by accompiler.spec before anything imports lark."""

from __future__ import annotations

import sys

if "lark" not in sys.modules and "regex" not in sys.modules:
    sys.modules["regex"] = None  # type: ignore[assignment]  # import regex -> ImportError
    try:
        import lark  # noqa: F401
    finally:
        del sys.modules["regex"]
