"""Regenerate src/accompiler/spec/_grammar_tables.py from grammar/accard.lark (see
accompiler/spec/tables.py): run it after editing the grammar.

    python grammar/make_tables.py
"""

from __future__ import annotations

import sys

from accompiler._resources import grammar_path
from accompiler.spec.tables import TABLES_PATH, tables_source

if __name__ == "__main__":
    source = tables_source(grammar_path().read_text(encoding="utf-8"))
    TABLES_PATH.write_text(source, encoding="utf-8")
    print(f"wrote {TABLES_PATH} ({len(source)} bytes)", file=sys.stderr)
