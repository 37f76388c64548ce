"""Compiling claims to plans: golden plans, identical across front-ends, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from accompiler._resources import load_schema, schema_names
from accompiler.canonical import dumps
from accompiler.claim import load_spec
from accompiler.plan import compile_plan, plan_to_json
from conftest import GOLDEN, SPECS

EXAMPLES = sorted(p.stem for p in (SPECS / "example").glob("*.ac"))


def _plan_text(spec: Path) -> str:
    claim, _ = load_spec(spec)
    plan, problems = compile_plan(claim, spec.parent)
    assert not problems
    return dumps(plan_to_json(plan))


@pytest.mark.parametrize("front_end", [".ac", ".yaml"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_plan(name: str, front_end: str, golden) -> None:
    golden(GOLDEN / f"{name}.plan.json", _plan_text(SPECS / "example" / f"{name}{front_end}"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_plan_is_schema_valid(name: str) -> None:
    plan = json.loads(_plan_text(SPECS / "example" / f"{name}.ac"))
    errors = list(Draft202012Validator(load_schema("plan.v1")).iter_errors(plan))
    assert errors == []


def test_every_schema_is_a_valid_2020_12_schema() -> None:
    assert set(schema_names()) == {
        "audit.v1",
        "bundle.v1",
        "card.v1",
        "diff.v1",
        "log.v1",
        "claim.v1",
        "plan.v1",
        "problems.v1",
        "spec.v1",
    }
    for name in schema_names():
        schema = load_schema(name)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(name)


def test_every_schema_field_has_a_description() -> None:
    def walk(node: object, path: str) -> list[str]:
        missing = []
        if isinstance(node, dict):
            for key, child in node.get("properties", {}).items():
                if "description" not in child:
                    missing.append(f"{path}.{key}")
            for key, child in node.items():
                missing += walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                missing += walk(child, f"{path}[{index}]")
        return missing

    for name in schema_names():
        assert walk(load_schema(name), name) == []


def test_missing_data_is_planned_as_not_evaluable(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_bytes((SPECS / "invalid" / "data" / "records.jsonl").read_bytes())
    spec = tmp_path / "c.ac"
    spec.write_text(
        'accard 1\nclaim "t" {\n  defense "D" {\n    mechanism shrinkage\n  }\n'
        '  model "m"\n  heldout "h" {\n    file "r.jsonl"\n  }\n}\n'
    )
    plan = json.loads(_plan_text(spec))
    statuses = {s["name"]: (s["status"], s["reason"]) for s in plan["steps"]}
    assert statuses["reliability"] == ("planned", "")
    assert statuses["fresh_generalization"] == (
        "not_evaluable",
        "the claim declares no fresh-subject records",
    )
    assert statuses["mechanism"] == ("not_evaluable", "the claim declares no adapters")
    assert statuses["transfer"] == ("not_evaluable", "the claim declares no transfer target")
    assert plan["settings"]["resamples"] == 5000 and plan["settings"]["seed"] == 0


def test_plan_records_every_input_with_its_hash() -> None:
    plan = json.loads(_plan_text(SPECS / "example" / "oracle.ac"))
    import hashlib

    for item in plan["inputs"]:
        data = (SPECS / "example" / item["path"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["size"] == len(data)
    assert {i["role"] for i in plan["inputs"]} >= {"records/heldout", "adapter/reference/weights"}


@pytest.mark.parametrize("path", sorted((SPECS / "example").glob("*.yaml")), ids=lambda p: p.stem)
def test_example_yaml_specs_match_the_spec_schema(path: Path) -> None:
    import yaml

    document = yaml.safe_load(path.read_text())
    assert list(Draft202012Validator(load_schema("spec.v1")).iter_errors(document)) == []


def test_spec_schema_rejects_what_the_decoder_rejects() -> None:
    import yaml

    validator = Draft202012Validator(load_schema("spec.v1"))
    for name in ("relabel_without_reason", "yaml_unknown_key"):
        document = yaml.safe_load((SPECS / "invalid" / f"{name}.yaml").read_text())
        assert list(validator.iter_errors(document)), name


def test_grammar_and_schemas_ship_with_the_package() -> None:
    """In CI accard is installed from a wheel: the data must come from inside the package."""
    import accompiler
    from accompiler._resources import grammar_path

    package = Path(accompiler.__file__).resolve().parent
    installed = "site-packages" in package.parts
    assert grammar_path().is_file()
    if installed:
        assert grammar_path().is_relative_to(package / "_data")
        assert (package / "_data" / "schemas" / "card.v1.schema.json").is_file()
