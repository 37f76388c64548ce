"""lark, imported without its optional `regex` and `interegular` modules.

lark imports both whenever they are installed (~15 ms of every command): `regex` is used
only by grammars built with `regex=True`, which accard's is not, and `interegular` only to
check terminal collisions while a grammar is built, which at run time it is not (the
parser comes from shipped tables; see tables.py, which imports interegular itself for the
tests' strict build). Both imports are refused while lark loads, so lark falls back to
`re` (which it uses anyway) and skips the check. Imported by accompiler.spec before anything
imports lark."""

from __future__ import annotations

import sys

_OPTIONAL = ("regex", "interegular")

if "lark" not in sys.modules:
    refused = [name for name in _OPTIONAL if name not in sys.modules]
    for name in refused:
        sys.modules[name] = None  # type: ignore[assignment]  # import name -> ImportError
    try:
        import lark  # noqa: F401
    finally:
        for name in refused:
            del sys.modules[name]
