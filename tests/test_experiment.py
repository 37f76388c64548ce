"""The installed-gap miniature: the committed example checks, and a reduced run end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accompiler.canonical import dumps
from accompiler.cli import main
from conftest import GOLDEN, ROOT, validation_errors

EXAMPLE = ROOT / "examples" / "installed_gap" / "example"
CELLS = sorted(p.name for p in EXAMPLE.iterdir() if (p / "claim.ac").exists())


def test_the_readme_subset_is_committed() -> None:
    assert CELLS == ["seed0_oracle_1", "seed0_safelora", "seed0_weight_decay_1"]
    size = sum(f.stat().st_size for f in EXAMPLE.rglob("*") if f.is_file())
    assert size < 5_000_000


@pytest.mark.parametrize("cell", CELLS)
def test_committed_cell_card(runner, cell: str, golden) -> None:
    result = runner.invoke(main, ["check", str(EXAMPLE / cell / "claim.ac"), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    card = json.loads(result.stdout)
    assert validation_errors(card) == []
    golden(GOLDEN / f"installed_gap_{cell}.card.json", dumps(card))


@pytest.mark.slow
def test_reduced_experiment_end_to_end(tmp_path: Path) -> None:
    """The experiment, then report.py: the audit file finds the cells it wrote, every card is
    valid, and REPORT.md is the audit summary's."""
    pytest.importorskip("peft")
    here = ROOT / "examples" / "installed_gap"
    subprocess.run(
        [sys.executable, str(here / "experiment.py"), "--quick", "--out", str(tmp_path / "out")],
        check=True,
        capture_output=True,
    )
    shutil.copyfile(here / "audit.ac", tmp_path / "audit.ac")
    report = tmp_path / "REPORT.md"
    subprocess.run(
        [sys.executable, str(here / "report.py"), "--audit", str(tmp_path / "audit.ac")]
        + ["--report", str(report), "--jobs", "1"],
        check=True,
        capture_output=True,
    )
    cells = json.loads((tmp_path / "out" / "cells" / "index.json").read_text())
    assert [c["cell"] for c in cells] == [
        "seed0_safelora",
        "seed0_weight_decay_1",
        "seed0_oracle_1",
    ]
    audit = tmp_path / "out" / "audit"
    summary = json.loads((audit / "summary.json").read_text())
    assert [row["cell"] for row in summary["cells"]] == [
        "seed0_safelora",
        "seed0_weight_decay_1",
        "seed0_oracle_1",
    ]
    assert [row["params"] for row in summary["cells"]] == [{}, {"decay": 1}, {"alpha": 1}]
    for cell in cells:
        card = json.loads((audit / "cards" / f"{cell['cell']}.card.json").read_text())
        assert validation_errors(card) == []
        assert card["precondition"]["installed"], "the attack must install a gap"
        assert card["diagnostics"]["mechanism"]["status"] != "not_evaluable"
    text = report.read_text()
    assert "| seed0_oracle_1 |" in text and "figures/bootstrap.svg" in text
    assert (tmp_path / "figures" / "signature.svg").read_bytes().startswith(b"<?xml")
    # The experiment applied SafeLoRA with dense matrices; accard's r x r statistic agrees.
    safelora = json.loads((audit / "cards" / "seed0_safelora.card.json").read_text())
    projected = safelora["diagnostics"]["mechanism"]["safelora"]["projected"]
    assert cells[0]["note"] == f"SafeLoRA projected {projected} of 12 modules"
