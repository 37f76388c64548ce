"""Shared fixtures: the CLI runner, repository paths and golden-file comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from accompiler.card.document import schema_problems

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite golden files from the current output; review the diff.",
    )


def validation_errors(card: dict) -> list[str]:
    """A card's schema violations as `$.path: message` lines, most relevant first."""
    return [p.summary for p in schema_problems(card, "card.json")]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    update = request.config.getoption("--update-golden")

    def compare(path: Path, actual: str) -> None:
        if update or not path.exists():
            if not update:
                pytest.fail(
                    f"missing golden file {path.relative_to(ROOT)}; run with --update-golden"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        assert actual == path.read_text(encoding="utf-8"), f"differs from {path.name}"

    return compare


@pytest.fixture(scope="session")
def example_audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of `accard audit specs/audit.ac --out DIR` (in this process, --jobs 1):
    every card, the summary in every format, both figures and report.html."""
    from accompiler.audit import audit

    out = tmp_path_factory.mktemp("example_audit") / "out"
    assert audit(SPECS / "audit.ac", out=out).complete
    return out
