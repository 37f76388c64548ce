"""Start-up: `accard check` of a canonical-records claim imports nothing it does not use.
Measured with `python -X importtime` in a fresh interpreter (issue 13, item 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SPECS

HEAVY = ("torch", "scipy", "pyarrow", "matplotlib")
README_EXAMPLE = ROOT / "examples/installed_gap/example/seed0_safelora/claim.ac"


def imported_packages(spec: Path, *options: str) -> set[str]:
    """Top-level packages `accard check SPEC` imports, from -X importtime's report."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "accompiler", "check", spec.name, *options],
        cwd=spec.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.split("|")[2].strip().split(".")[0])
    return names


@pytest.mark.parametrize(
    "spec",
    [README_EXAMPLE, SPECS / "example" / "safelora.ac", SPECS / "example" / "oracle.ac"],
    ids=["readme_example", "safelora", "oracle"],
)
def test_check_imports_no_heavy_module(spec: Path) -> None:
    imported = imported_packages(spec)
    assert {"accompiler", "numpy"} <= imported  # the report was read
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    assert "yaml" not in imported  # a .ac spec needs no YAML parser
    # lark's optional modules, never used at run time (spec/_lark.py: importtime lists
    # the refused attempts, so what was loaded is read from sys.modules), and difflib,
    # needed only to suggest a spelling in a problem
    assert not loaded_modules(spec) & {"regex", "interegular", "difflib"}


def loaded_modules(spec: Path) -> set[str]:
    """sys.modules after `accard check SPEC` ran in a fresh interpreter."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['accard', 'check', {spec.name!r}]\n"
        "try:\n    runpy.run_module('accompiler', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('\\n'.join(n for n, m in sys.modules.items() if m is not None))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=spec.parent, capture_output=True, text=True, timeout=300
    )
    return {line.split(".")[0] for line in result.stderr.splitlines()}


def test_the_shipped_parser_tables_are_loaded() -> None:
    """`accard check` parses with the shipped LALR tables, not a parser built from the
    grammar, whenever the installed lark is the one that built them (after a lark upgrade:
    `python grammar/make_tables.py`). Measured by the parser's own provenance in a fresh
    interpreter."""
    code = (
        "from accompiler.spec.dsl import _parser; import lark; "
        "from accompiler.spec import _grammar_tables as t; "
        "print(_parser().source_path == '<deserialized>', t.LARK_VERSION == lark.__version__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded, same_lark = result.stdout.split()
    assert loaded == same_lark, result.stderr[-2000:]


def test_the_measurement_sees_a_lazy_import(tmp_path: Path) -> None:
    """The same measurement catches a heavy import where one is due: a Parquet record
    file is read with pyarrow (so the test above can fail)."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    rows = [json.loads(line) for line in (SPECS / "example/data/safelora/heldout.jsonl").open()]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "heldout.parquet")
    spec = tmp_path / "claim.ac"
    spec.write_text(
        'accard 1\nclaim "parquet" {\n  defense "d" {\n    mechanism shrinkage\n  }\n'
        '  model "m"\n  heldout "h" {\n    file "heldout.parquet"\n  }\n}\n',
        encoding="utf-8",
    )
    imported = imported_packages(spec, "--format", "json")
    assert "pyarrow" in imported
    assert not imported & {"torch", "scipy", "matplotlib"}
