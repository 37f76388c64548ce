"""Problems and results for machines: the JSON problems document (its schema), GitHub
annotations, `validate` of many cards, JUnit XML of the diagnostics, the bundled schemas."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from accompiler._resources import load_schema
from accompiler.canonical import dumps
from accompiler.cli import main
from accompiler.problems import Problem, format_problems, github_annotations
from accompiler.span import Span
from conftest import GOLDEN, SPECS

INVALID = SPECS / "invalid" / "unknown_keyword.ac"


@pytest.mark.parametrize("command", ["check", "plan"])
def test_spec_problems_as_a_json_document(command: str, runner) -> None:
    result = runner.invoke(main, [command, "--problems", "json", str(INVALID)])
    assert result.exit_code == 2 and result.stdout == ""
    document = json.loads(result.stderr)
    assert list(Draft202012Validator(load_schema("problems.v1")).iter_errors(document)) == []
    (problem,) = document["problems"]
    assert problem == {
        "severity": "error",
        "file": str(INVALID),
        "line": 12,
        "column": 3,
        "end_line": 12,
        "end_column": 10,
        "field": "claim.setings",
        "message": 'unknown keyword `setings` in `claim` (did you mean "settings"?)',
        "help": "known here: adapters, defense, fresh, heldout, model, records, settings, "
        "title, transfer",
    }


def test_spec_problems_as_github_annotations(runner) -> None:
    result = runner.invoke(main, ["check", "--problems", "github", str(INVALID)])
    assert result.exit_code == 2 and result.stderr == ""
    assert result.stdout == (
        f"::error title=accard%3A claim.setings,file={INVALID},line=12,col=3,endLine=12,"
        'endColumn=10::unknown keyword `setings` in `claim` (did you mean "settings"?)%0Ahelp: '
        "known here: adapters, defense, fresh, heldout, model, records, settings, title, "
        "transfer\n"
    )


def test_annotations_escape_what_github_would_misread() -> None:
    problem = Problem("50% off\r\nnext", Span("a,b:c.json", 3, 0), "", "$.x", "note")
    assert github_annotations([problem]) == (
        "::notice title=accard%3A $.x,file=a%2Cb%3Ac.json,line=3::50%25 off%0D%0Anext\n"
    )
    assert format_problems([problem], {}, "text").startswith("note: 50% off")


def test_validate_takes_many_cards_and_reports_each(runner, tmp_path: Path) -> None:
    good = GOLDEN / "oracle.card.json"
    card = json.loads((GOLDEN / "safelora.card.json").read_text())
    card["diagnostics"]["mechanism"]["status"] = "pass"
    forged = tmp_path / "forged.card.json"
    forged.write_text(dumps(card))
    result = runner.invoke(main, ["validate", str(good), str(forged), str(good)])
    assert result.exit_code == 2
    assert result.stdout.count(f"{good}: a valid Acceptance Card (version 1.1)") == 2
    assert f"--> {forged}:" in result.stderr and "$.diagnostics.mechanism.status" in result.stderr
    all_good = runner.invoke(main, ["validate", "--problems", "json", str(good), str(good)])
    assert all_good.exit_code == 0 and all_good.stdout == "" and all_good.stderr == ""


def test_a_newer_cards_note_follows_the_chosen_form(runner, tmp_path: Path) -> None:
    card = json.loads((GOLDEN / "oracle.card.json").read_text()) | {"card_version": "1.7"}
    path = tmp_path / "newer.card.json"
    path.write_text(dumps(card))
    text = runner.invoke(main, ["validate", str(path)])
    assert text.exit_code == 0 and text.stderr.startswith("note: card version 1.7 is newer")
    annotated = runner.invoke(main, ["validate", "--problems", "github", str(path)])
    assert annotated.exit_code == 0
    assert annotated.stdout.startswith("::notice title=accard%3A $.card_version,")


def test_check_writes_a_junit_report(runner, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    spec = SPECS / "example" / "safelora_relabel.ac"
    result = runner.invoke(main, ["check", str(spec), "--junit", str(report)])
    assert result.exit_code == 1
    root = ElementTree.parse(report).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "8", "4")
    strict, permissive = root.findall("testsuite")
    cases = {c.get("name"): c for c in strict.findall("testcase")}
    assert list(cases) == [
        "(a) reliability",
        "(b) fresh generalisation",
        "(c) mechanism",
        "(d) transfer",
    ]
    assert cases["(a) reliability"].find("failure") is None
    failure = cases["(c) mechanism"].find("failure")
    assert failure is not None and failure.get("message", "").startswith(
        "the adapters sign as shrinkage"
    )
    assert [c.find("failure") is None for c in permissive.findall("testcase")] == [
        True,
        False,
        True,
        True,
    ]
    properties = {p.get("name"): p.get("value") for p in strict.iter("property")}
    assert properties["verdict"] == "fail" and properties["passed"] == "1/4"


def test_a_not_evaluable_diagnostic_is_a_skipped_case() -> None:
    from accompiler.render.junit import card_junit

    card = json.loads((GOLDEN / "oracle.card.json").read_text())
    card["diagnostics"]["transfer"] |= {"status": "not_evaluable", "reason": "no target"}
    root = ElementTree.fromstring(card_junit(card))
    skipped = root.find("testsuite/testcase[@name='(d) transfer']/skipped")
    assert skipped is not None and skipped.get("message") == "not evaluable: no target"


@pytest.mark.parametrize("name", ["card", "claim", "plan", "spec", "bundle", "problems"])
def test_schema_prints_the_bundled_schema(name: str, runner) -> None:
    result = runner.invoke(main, ["schema", name])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{name}.v1")
