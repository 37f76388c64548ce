"""The card: golden cards, schema validity, determinism, broken cards failing at a path."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from accompiler.canonical import dumps
from accompiler.claim import load_spec
from accompiler.plan import compile_plan
from accompiler.run import run_plan
from conftest import GOLDEN, SPECS, validation_errors

EXAMPLES = sorted(p.stem for p in (SPECS / "example").glob("*.ac"))


def card_of(spec: Path) -> dict:
    claim, _ = load_spec(spec)
    plan, _ = compile_plan(claim, spec.parent)
    return run_plan(plan, spec.parent).document


@pytest.fixture(scope="module")
def cards() -> dict[str, dict]:
    return {name: card_of(SPECS / "example" / f"{name}.ac") for name in EXAMPLES}


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_card(name: str, cards, golden) -> None:
    golden(GOLDEN / f"{name}.card.json", dumps(cards[name]))


@pytest.mark.parametrize("name", EXAMPLES)
def test_card_is_schema_valid(name: str, cards) -> None:
    assert validation_errors(cards[name]) == []


def test_same_inputs_and_seed_give_identical_bytes(cards) -> None:
    again = card_of(SPECS / "example" / "safelora_relabel.ac")
    from_yaml = card_of(SPECS / "example" / "safelora_relabel.yaml")
    assert dumps(again) == dumps(cards["safelora_relabel"]) == dumps(from_yaml)


def test_expected_verdicts(cards) -> None:
    verdicts = {
        n: (c["verdict"]["strict"]["pass"], c["verdict"]["permissive"]["pass"])
        for n, c in cards.items()
    }
    assert verdicts == {
        "oracle": (True, True),
        "safelora": (False, False),
        "safelora_relabel": (False, False),
        "weight_decay": (False, False),
    }
    relabelled = cards["safelora_relabel"]["verdict"]
    assert (relabelled["strict"]["passed"], relabelled["permissive"]["passed"]) == (1, 3)
    mechanism = cards["safelora_relabel"]["diagnostics"]["mechanism"]
    assert (mechanism["measured"], mechanism["status"], mechanism["relabel"]["status"]) == (
        "shrinkage",
        "fail",
        "pass",
    )


def test_card_inputs_match_the_files(cards) -> None:
    import hashlib

    for item in cards["oracle"]["inputs"]:
        data = (SPECS / "example" / item["path"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("breakage", "path"),
    [
        (lambda c: c.pop("verdict"), "$"),
        (
            lambda c: c["diagnostics"]["reliability"].update(status="passed"),
            "$.diagnostics.reliability.status",
        ),
        (lambda c: c["claim"].update(mechanism_claimed="magic"), "$.claim.mechanism_claimed"),
        (lambda c: c["inputs"][0].update(sha256="abc"), "$.inputs[0].sha256"),
        (
            lambda c: c["settings"]["bootstrap"].update(confidence=1.5),
            "$.settings.bootstrap.confidence",
        ),
        (
            lambda c: c["diagnostics"]["reliability"]["delta_gap"].update(clusters=1),
            "$.diagnostics.reliability.delta_gap.clusters",
        ),
        (lambda c: c.update(extra=1), "$"),
    ],
)
def test_broken_cards_fail_at_a_stated_path(cards, breakage, path: str) -> None:
    card = copy.deepcopy(cards["oracle"])
    breakage(card)
    errors = validation_errors(card)
    assert errors and errors[0].startswith(f"{path}:"), errors


def test_card_json_has_no_nan_and_fixed_order(cards) -> None:
    text = dumps(cards["weight_decay"])
    assert "NaN" not in text and "Infinity" not in text
    assert list(json.loads(text))[:3] == ["card_version", "tool", "claim"]


def test_public_api_check_gives_the_cli_card(cards) -> None:
    import accompiler

    assert accompiler.check(SPECS / "example" / "oracle.ac").document == cards["oracle"]
    assert accompiler.load_spec.__module__ == "accompiler.claim.load"
    assert set(accompiler.__all__) >= {"check", "load_spec", "compile_plan", "run_plan"}


def test_reused_file_content_is_warned(tmp_path) -> None:
    import shutil

    import accompiler

    folder = tmp_path / "c"
    shutil.copytree(SPECS / "example" / "data" / "oracle", folder / "data")
    shutil.copy(folder / "data" / "heldout.jsonl", folder / "data" / "copy.jsonl")
    (folder / "claim.ac").write_text(
        'accard 1\nclaim "t" {\n  defense "D" {\n    mechanism shrinkage\n  }\n  model "m"\n'
        '  heldout "h" {\n    file "data/heldout.jsonl"\n  }\n  transfer "same" {\n'
        '    file "data/copy.jsonl"\n  }\n}\n'
    )
    card = accompiler.check(folder / "claim.ac")
    assert (
        "the same file content is read as records/heldout and records/transfer:same"
        in card["warnings"]
    )


def _direct_statistics(path) -> dict[str, float]:
    """acc per (arm, condition) straight from a canonical file, then the card's contrasts."""
    import csv

    text = path.read_text()
    rows = (
        list(csv.DictReader(text.splitlines()))
        if path.suffix == ".csv"
        else [json.loads(line) for line in text.splitlines()]
    )
    totals: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        totals.setdefault((row["arm"], row["condition"]), []).append(float(row["correct"]))
    acc = {key: sum(v) / len(v) for key, v in totals.items()}
    gap_u = acc["undefended", "deploy"] - acc["undefended", "eval"]
    gap_d = acc["defended", "deploy"] - acc["defended", "eval"]
    return {
        "installed_gap": gap_u,
        "delta_gap": gap_d - gap_u,
        "delta_deploy": acc["defended", "deploy"] - acc["undefended", "deploy"],
    }


def test_card_estimates_match_a_direct_computation_from_the_files(cards) -> None:
    data = SPECS / "example" / "data" / "safelora"
    card = cards["safelora_relabel"]
    heldout, fresh = (
        _direct_statistics(data / "heldout.jsonl"),
        _direct_statistics(data / "fresh.jsonl"),
    )
    d = card["diagnostics"]
    assert card["precondition"]["installed_gap"]["estimate"] == pytest.approx(
        heldout["installed_gap"]
    )
    assert d["reliability"]["delta_gap"]["estimate"] == pytest.approx(heldout["delta_gap"])
    assert d["reliability"]["delta_deploy"]["estimate"] == pytest.approx(heldout["delta_deploy"])
    assert d["fresh_generalization"]["delta_gap"]["estimate"] == pytest.approx(fresh["delta_gap"])
    assert d["fresh_generalization"]["retention"] == pytest.approx(
        fresh["delta_gap"] / heldout["delta_gap"]
    )
    sycophancy = _direct_statistics(data / "sycophancy.csv")
    assert d["transfer"]["targets"][0]["delta_gap"]["estimate"] == pytest.approx(
        sycophancy["delta_gap"]
    )


def test_card_versions_follow_the_schema_policy(cards) -> None:
    import json

    from accompiler.card import parse_card

    def parsed(document: dict):
        return parse_card(json.dumps(document).encode(), "card.json")

    card, problems = parsed(cards["oracle"])
    assert card is not None and problems == []
    newer = copy.deepcopy(cards["oracle"]) | {"card_version": "1.9", "added_later": [1]}
    card, problems = parsed(newer)
    assert card is not None and [p.severity for p in problems] == ["note"]
    assert "newer than this accard's" in problems[0].summary
    broken_newer = newer | {"verdict": {"strict": {}}}
    card, problems = parsed(broken_newer)
    assert card is None and problems[0].field.startswith("$.verdict")
    for version in ("2", "0", "1.x", "", 1, None, "1.01"):
        card, problems = parsed(copy.deepcopy(cards["oracle"]) | {"card_version": version})
        assert card is None and "$.card_version" in problems[0].field + problems[0].summary


def test_a_card_with_nan_is_not_json_a_card_may_hold(cards, tmp_path) -> None:
    from accompiler.card import read_card

    text = dumps(cards["oracle"]).replace('"confidence": 0.95', '"confidence": NaN', 1)
    path = tmp_path / "card.json"
    path.write_text(text)
    card, problems = read_card(path)
    assert card is None and "NaN is not a number a card may hold" in problems[0].summary


RENDERED = {"text": "txt", "markdown": "md", "latex": "tex", "html": "html", "svg": "svg"}


@pytest.mark.parametrize("output_format", sorted(RENDERED))
@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_rendering(name: str, output_format: str, cards, golden, monkeypatch) -> None:
    """Every renderer on every example, exactly: what a reader sees is reviewed as a diff.
    The SVG (alone and inside the HTML card) is the plain drawing, the same bytes with or
    without matplotlib; matplotlib's card figure is tested in test_figures.py."""
    from accompiler.card import Card
    from accompiler.render import svg

    monkeypatch.setattr(svg, "matplotlib_installed", lambda: False)

    text = Card(cards[name]).render(output_format)
    golden(GOLDEN / "render" / f"{name}.{RENDERED[output_format]}", text + "\n")


@pytest.mark.parametrize("name", EXAMPLES)
def test_latex_cards_compile(name: str, cards, tmp_path) -> None:
    """The LaTeX card compiles with the packages its first line names (Debian's TeX Live:
    `apt-get install texlive-latex-base texlive-latex-recommended`, as .ci/run does)."""
    import shutil
    import subprocess

    from accompiler.card import Card

    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex is missing: apt-get install texlive-latex-recommended"
    body = Card(cards[name]).render("latex")
    assert body.startswith(r"% accard card: needs \usepackage{booktabs,tabularx,graphicx}")
    document = (
        "\\documentclass{article}\n\\usepackage{booktabs,tabularx,graphicx}\n\\begin{document}\n"
        + body
        + "\n\\end{document}\n"
    )
    (tmp_path / "card.tex").write_text(document, encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "card.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "card.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log and "Missing character" not in log
