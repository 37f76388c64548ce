"""Settings are declared once (claim/settings.py): the decoder, the CLI, the schemas and the
README follow that declaration, and a command-line override is checked like the spec."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from accompiler._resources import load_schema
from accompiler.claim.settings import SETTINGS, Setting, Settings, apply_overrides
from accompiler.cli import main
from conftest import ROOT, SPECS

CONSTRAINTS = ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _schema_node(schema_name: str, setting: Setting) -> dict:
    if schema_name in ("claim.v1", "plan.v1"):
        path = ["properties", "settings", "properties", setting.name]
    elif schema_name == "spec.v1":
        path = ["properties", "claim", "properties", "settings", "properties", setting.name]
    else:
        group = setting.rule.card
        path = ["properties", "settings", "properties"]
        path += [group, "properties", setting.name] if group else [setting.name]
    node = load_schema(schema_name)
    for key in path:
        node = node[key]
    return node


@pytest.mark.parametrize("schema_name", ["claim.v1", "plan.v1", "spec.v1", "card.v1"])
@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_schema_states_the_declared_range(schema_name: str, setting: Setting) -> None:
    expected = setting.json_schema()
    if setting.optional and schema_name != "spec.v1":  # documents write an unset value as null
        expected["type"] = [expected["type"], "null"]
    node = _schema_node(schema_name, setting)
    assert {k: node[k] for k in CONSTRAINTS if k in node} == expected


def _readme_row(setting: Setting) -> str:
    default = "unset" if setting.default is None else json.dumps(setting.default)
    kind = "whole number" if setting.integer else "number"
    group = f"`{setting.rule.card}`" if setting.rule.card else "top level"
    return (
        f"| `{setting.name}` | {default} | {kind} in {setting.range_text()} | {group} "
        f"| {setting.rule.help} |"
    )


def test_the_readme_settings_table_is_the_declaration() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if re.match(r"\| `[a-z_]+` \| ", line)]
    documented = [r for r in rows if r.split("`")[1] in {s.name for s in SETTINGS}]
    assert documented == [_readme_row(s) for s in SETTINGS]


def test_the_declaration_is_the_settings_dataclass() -> None:
    assert [s.name for s in SETTINGS] == list(vars(Settings()))
    for setting in SETTINGS:
        assert getattr(Settings(), setting.name) == setting.default
        assert setting.default is None or not setting.fault(setting.default)


def _just_outside(setting: Setting) -> list[float | int]:
    step = 1 if setting.integer else 1e-9
    outside = []
    if setting.rule.low is not None:
        outside.append(setting.rule.low if setting.rule.low_open else setting.rule.low - step)
    if setting.rule.high is not None:
        outside.append(setting.rule.high if setting.rule.high_open else setting.rule.high + step)
    return [int(v) if setting.integer else float(v) for v in outside]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_fault_follows_the_declared_range(setting: Setting) -> None:
    for value in _just_outside(setting):
        assert "out of range" in setting.fault(value), value
    assert "must be" in setting.fault("text")
    assert "must be" in setting.fault(True)
    assert setting.fault(math.nan) and setting.fault(math.inf)
    if setting.integer:
        assert "whole number" in setting.fault(2.5)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_the_decoder_refuses_what_the_declaration_refuses(
    setting: Setting, tmp_path: Path, runner
) -> None:
    shutil.copytree(SPECS / "example" / "data" / "oracle", tmp_path / "data")
    for value in _just_outside(setting):
        spec = tmp_path / "c.ac"
        spec.write_text(
            'accard 1\nclaim "t" {\n  defense "D" {\n    mechanism shrinkage\n  }\n  model "m"\n'
            '  heldout "h" {\n    file "data/heldout.jsonl"\n  }\n  settings {\n'
            f"    {setting.name} {value!r}\n  }}\n}}\n"
        )
        result = runner.invoke(main, ["plan", str(spec)])
        assert result.exit_code == 2, (value, result.output)
        assert f"claim.settings.{setting.name}" in result.stderr
        assert setting.help_text() in result.stderr


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--seed", "9223372036854775808"], "--seed"),
        (["--seed", "-1"], "--seed"),
        (["--resamples", "1000001"], "--resamples"),
        (["--resamples", "10"], "--resamples"),
        (["--set", "rho_at=0"], "--set rho_at"),
        (["--set", "confidence=1"], "--set confidence"),
        (["--set", "tau_fresh=high"], "--set tau_fresh"),
        (["--set", "nonsense=1"], "--set nonsense"),
    ],
)
def test_command_line_overrides_are_checked_like_the_spec(
    runner, tmp_path: Path, arguments: list[str], named: str
) -> None:
    out = tmp_path / "card.json"
    result = runner.invoke(
        main, ["check", str(SPECS / "example" / "oracle.ac"), "--out", str(out), *arguments]
    )
    assert result.exit_code == 2, result.output
    assert f"field: {named}" in result.stderr
    assert result.stdout == "" and not out.exists()


def test_a_set_override_reaches_the_card(runner) -> None:
    result = runner.invoke(
        main,
        [
            "check",
            str(SPECS / "example" / "oracle.ac"),
            "--format",
            "json",
            "--set",
            "tau_fresh=0.9",
            "--set",
            "resamples=2000",
        ],
    )
    card = json.loads(result.stdout)
    assert card["settings"]["thresholds"]["tau_fresh"] == 0.9
    assert card["settings"]["bootstrap"]["resamples"] == 2000
    assert card["diagnostics"]["fresh_generalization"]["tau_fresh"] == 0.9


def test_apply_overrides_applies_all_or_nothing() -> None:
    settings, faults = apply_overrides(Settings(), {"seed": 3, "confidence": 2.0})
    assert settings == Settings() and list(faults) == ["confidence"]
    settings, faults = apply_overrides(Settings(), {"seed": 3, "rho_at": 1})
    assert faults == {} and (settings.seed, settings.rho_at) == (3, 1.0)
    assert isinstance(settings.rho_at, float)
