"""The audit file: its language (.ac and YAML, one tree), cells listed, globbed and multiplied
out, names and parameters, problems with file:line:col, and `accard plan AUDIT`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path, PurePosixPath

import pytest

from accompiler.audit import load_audit
from accompiler.audit.expand import derive_names
from accompiler.audit.template import captured, fill, glob_pattern, show
from accompiler.cli import main
from accompiler.problems import SpecError
from conftest import GOLDEN, SPECS

AUDIT = SPECS / "audit.ac"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def problems_of(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_audit(path, path.name)
    return caught.value.render()


# ---- the language ---------------------------------------------------------------------------


def test_the_example_audit_in_both_front_ends_plans_the_same(runner) -> None:
    plans = [
        runner.invoke(main, ["plan", str(SPECS / f"audit.{suffix}"), "--json"])
        for suffix in ("ac", "yaml")
    ]
    assert [p.exit_code for p in plans] == [0, 0], plans[0].output + plans[1].output
    assert plans[0].stdout == plans[1].stdout
    document = json.loads(plans[0].stdout)
    assert [c["cell"] for c in document["cells"]] == [
        "oracle_seed0",
        "oracle_seed1",
        "safelora_seed0",
        "safelora_seed1",
        "weight_decay_seed0",
        "weight_decay_seed1",
        "safelora_relabel",
    ]
    seeds = [c["plan"]["settings"]["bootstrap"]["seed"] for c in document["cells"][:6]]
    assert seeds == [0, 1, 0, 1, 0, 1], '`seed "{seed}"` fills a number setting'
    oracle = document["cells"][0]["plan"]
    assert oracle["claim"]["defense"] == {
        "name": "attack-aware oracle projection (alpha 1)",
        "mechanism": "attack_targeted",
    }
    assert oracle["inputs"][0]["path"] == "data/oracle/heldout.jsonl", "relative to `folder`"


def test_the_plan_text_shows_each_cell(runner) -> None:
    result = runner.invoke(main, ["plan", str(AUDIT)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "audit plan for: The simulated example: three defenses, two bootstrap seeds",
        "  7 cells, 7 planned, 0 with problems",
    ]
    assert "── cell safelora_seed1 (group SafeLoRA · defense=safelora · seed=1)" in lines
    assert result.stdout.count("\nplan for: ") == 7


def test_a_matrix_multiplies_its_axes_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "audit.ac",
        """
        accard 1
        audit "m" {
          matrix "{method}-lr{lr}-s{seed}" {
            group "{method} ({label})"
            folder "runs/{method}/{seed}"
            axes {
              method "a" {
                label "first"
              }
              method "b" {
                label "second"
              }
              lr 0.001
              lr 1e-2
              seed 7
            }
            claim "{method} {{literal}}" {
              defense "{method}" {
                mechanism shrinkage
              }
              model "m"
              heldout "t" {
                file "x.jsonl"
              }
            }
          }
        }
        """,
    )
    audit, _sources = load_audit(path)
    assert [c.name for c in audit.cells] == [
        "a-lr0.001-s7",
        "a-lr0.01-s7",
        "b-lr0.001-s7",
        "b-lr0.01-s7",
    ]
    first = audit.cells[0]
    assert first.group == "a (first)"
    assert first.folder == "runs/a/7"
    assert first.params == (("method", "a"), ("lr", 0.001), ("seed", 7))
    assert first.hyper_parameters == {"method": "a", "lr": 0.001}
    assert first.seed == 7
    assert first.values == {"label": "first", "method": "a", "lr": 0.001, "seed": 7}


def test_globs_capture_parameters_and_name_cells_by_what_differs(tmp_path: Path) -> None:
    for name in ("seed0_wd_0.1", "seed0_wd_10", "seed1_wd_1", "seed10_wd_1"):
        write(tmp_path, f"cells/{name}/claim.ac", "accard 1\n")
    write(tmp_path, "cells/notes/claim.txt", "not a claim")
    path = write(
        tmp_path,
        "audit.ac",
        """
        accard 1
        audit "g" {
          cells "cells/seed{seed}_wd_{decay}/claim.ac" {
            group "wd {decay}"
          }
        }
        """,
    )
    audit, _sources = load_audit(path, "audit.ac")
    assert [c.name for c in audit.cells] == [
        "seed0_wd_0.1",
        "seed0_wd_10",
        "seed1_wd_1",
        "seed10_wd_1",
    ], "ordered by the captured numbers, not as text"
    assert [c.params for c in audit.cells][:2] == [
        (("seed", 0), ("decay", 0.1)),
        (("seed", 0), ("decay", 10)),
    ]
    assert audit.cells[0].group == "wd 0.1"
    assert audit.cells[0].display == "cells/seed0_wd_0.1/claim.ac"


def test_listed_cells_take_a_name_group_and_parameters(tmp_path: Path) -> None:
    write(tmp_path, "a/claim.ac", "accard 1\n")
    write(tmp_path, "b/claim.yaml", "accard: 1\n")
    path = write(
        tmp_path,
        "audit.ac",
        """
        accard 1
        audit "l" {
          settings {
            resamples 2000
          }
          cell "a/claim.ac"
          cell "b/claim.yaml" {
            name "b-run"
            group "{lr}"
            params {
              lr 0.5
              seed 3
            }
          }
        }
        """,
    )
    audit, _sources = load_audit(path)
    assert [(c.name, c.group, c.params) for c in audit.cells] == [
        ("a", None, ()),
        ("b-run", "0.5", (("lr", 0.5), ("seed", 3))),
    ]
    assert audit.overrides == {"resamples": 2000}


@pytest.mark.parametrize(
    ("paths", "names"),
    [
        (["x/cells/a/claim.ac", "x/cells/b/claim.yaml"], ["a", "b"]),
        (["specs/a.ac", "specs/b.ac"], ["a", "b"]),
        (["a/claim.ac", "b.ac"], ["a/claim", "b"]),
        (["examples/run/seed0/claim.ac"], ["claim"]),
    ],
)
def test_names_are_derived_from_the_parts_that_differ(paths: list[str], names: list[str]) -> None:
    assert derive_names([PurePosixPath(p) for p in paths]) == names


def test_placeholders_fill_and_globs_capture() -> None:
    assert fill("{a}_{b}{{x}}", {"a": 0.5, "b": 10}) == "0.5_10{x}"
    assert [show(v) for v in (1, 1.0, 0.1, 1e-05, "s")] == ["1", "1.0", "0.1", "1e-05", "s"]
    glob, regex = glob_pattern("out/seed{seed}_{name}/**/*.ac")
    assert glob == "out/seed*_*/**/*.ac"
    match = regex.fullmatch("out/seed12_wd_0.1/deep/er/claim.ac")
    assert match is not None and match.groupdict() == {"seed": "12", "name": "wd_0.1"}
    texts = ("12", "0.1", "1e-3", "x1", "nan")
    assert [captured(t) for t in texts] == [12, 0.1, 0.001, "x1", "nan"]


# ---- problems ---------------------------------------------------------------------------------

INVALID = {
    "unknown_keyword": (
        'accard 1\naudit "t" {\n  cels "a/*.ac"\n}\n',
        'error: unknown keyword `cels` in `audit` (did you mean "cells"?)\n --> audit.ac:3:3',
    ),
    "no_cells": (
        'accard 1\naudit "t" {\n}\n',
        "error: the audit names no cells\n --> audit.ac:2:1",
    ),
    "placeholder": (
        'accard 1\naudit "t" {\n  matrix "{sed}" {\n    axes {\n      seed 0\n    }\n'
        '    claim "c" {\n    }\n  }\n}\n',
        'error: unknown placeholder `{sed}` (did you mean "seed"?)\n --> audit.ac:3:10',
    ),
    "template": (
        'accard 1\naudit "t" {\n  matrix "{seed}" {\n    axes {\n      seed 0\n    }\n'
        '    claim "c" {\n      modl "m"\n    }\n  }\n}\n',
        'error: unknown keyword `modl` in `claim` (did you mean "model"?)\n --> audit.ac:8:7',
    ),
    "duplicate_value": (
        'accard 1\naudit "t" {\n  matrix "{seed}" {\n    axes {\n      seed 0\n      seed 0\n'
        '    }\n    claim "c" {\n    }\n  }\n}\n',
        "error: `seed` has the value 0 twice\n --> audit.ac:6:12",
    ),
    "unbound_link": (
        'accard 1\naudit "t" {\n  matrix "{d}" {\n    axes {\n      d "a" {\n        m 1\n'
        '      }\n      d "b"\n    }\n    claim "c {m}" {\n    }\n  }\n}\n',
        "error: the values of axis `d` bind different placeholders\n --> audit.ac:8:9",
    ),
    "glob_matches_nothing": (
        'accard 1\naudit "t" {\n  cells "none/*/claim.ac"\n}\n',
        "error: `none/*/claim.ac` matches no claim file\n --> audit.ac:3:3",
    ),
    "outside": (
        'accard 1\naudit "t" {\n  cell "../x.ac"\n}\n',
        "error: `../x.ac` leaves the audit's folder (`..`)\n --> audit.ac:3:3",
    ),
    "duplicate_name": (
        'accard 1\naudit "t" {\n  matrix "same" {\n    axes {\n      seed 0\n      seed 1\n'
        '    }\n    claim "c" {\n      defense "d" {\n        mechanism shrinkage\n      }\n'
        '      model "m"\n      heldout "h" {\n        file "x.jsonl"\n      }\n    }\n  }\n}\n',
        "error: two cells are named `same`\n --> audit.ac:3:3",
    ),
    "yaml_version": (
        "accard: 2\naudit:\n  title: t\n  cells: [a/*.ac]\n",
        "error: unsupported language version\n --> audit.yaml:1:9",
    ),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_audit_problems_name_file_line_and_column(name: str, tmp_path: Path) -> None:
    text, expected = INVALID[name]
    path = write(tmp_path, "audit.yaml" if name.startswith("yaml") else "audit.ac", text)
    assert expected in problems_of(path)


def test_every_problem_of_an_audit_is_reported_at_once(tmp_path: Path, golden) -> None:
    path = write(
        tmp_path,
        "audit.ac",
        """
        accard 1
        audit "several mistakes" {
          setings {
            seed 1
          }
          settings {
            resamples 10
          }
          matrix "{defense}_s{sed}" {
            axes {
              defense "oracle"
              seed 0
            }
            claim "{defence} x" {
            }
          }
          cell "a.ac" {
            colour "red"
          }
        }
        """,
    )
    golden(GOLDEN / "audit" / "several_mistakes.problems.txt", problems_of(path))


def test_a_wrong_audit_exits_2_and_writes_nothing(runner, tmp_path: Path) -> None:
    path = write(tmp_path, "audit.ac", INVALID["glob_matches_nothing"][0])
    out = tmp_path / "out"
    result = runner.invoke(main, ["audit", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "matches no claim file" in result.stderr and result.stdout == ""
    assert not out.exists()


def test_an_audit_file_goes_alone(runner) -> None:
    result = runner.invoke(main, ["audit", str(AUDIT), str(SPECS / "example" / "oracle.ac")])
    assert result.exit_code == 2
    assert "is an audit file: give it alone" in result.stderr


def test_a_claim_path_that_does_not_exist_exits_2(runner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["audit", str(tmp_path / "missing.ac")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_a_wrong_override_exits_2(runner) -> None:
    result = runner.invoke(main, ["audit", str(AUDIT), "--set", "resamples=10"])
    assert result.exit_code == 2
    assert "`resamples` is out of range: 10" in result.stderr and "--set resamples" in result.stderr


def test_the_plan_of_an_audit_with_a_bad_cell_exits_1(runner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "audit.ac",
        """
        accard 1
        audit "t" {
          matrix "{seed}" {
            folder "run{seed}"
            axes {
              seed 0
            }
            claim "c" {
              defense "d" {
                mechanism shrinkage
              }
              model "m"
              heldout "h" {
                file "x.jsonl"
              }
            }
          }
        }
        """,
    )
    result = runner.invoke(main, ["plan", str(path)])
    assert result.exit_code == 1
    assert "  1 cells, 0 planned, 1 with problems" in result.stdout
    assert "the folder `run0` of cell `0` does not exist" in result.stdout


def test_the_readme_audit_example_is_an_audit() -> None:
    from accompiler.audit.decode import decode_audit
    from accompiler.spec import parse_spec

    text = (SPECS.parent / "README.md").read_text(encoding="utf-8")
    (block,) = [b.split("\n", 1)[1] for b in text.split("```")[1::2] if "\naudit " in b]
    tree, problems = parse_spec(block, "README.ac", ".ac")
    assert tree is not None and not problems
    audit_file, problems = decode_audit(tree)
    assert audit_file is not None, problems
    (matrix,) = audit_file.matrices
    assert [len(values) for _, values in matrix.axes] == [3, 2]
