"""The revision corpus (tests/revisions/corpus.yaml): every pair's changes classified as
expected, its text output golden, its JSON valid against schemas/diff.v1.schema.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from jsonschema import Draft202012Validator

from accompiler._resources import load_schema
from accompiler.canonical import dumps
from accompiler.diff import Revision, compare, open_side
from accompiler.diff import render as show
from accompiler.pipeline import check
from conftest import GOLDEN, ROOT, SPECS

CORPUS = yaml.safe_load((Path(__file__).parent / "revisions" / "corpus.yaml").read_text())
EXAMPLE = SPECS / "example"


class Workspace:
    """Builds the corpus's sides in a copy of specs/example/ (a side that changes files gets
    its own copy); cards are computed once per distinct spec, folder and overrides."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shared = root / "shared"
        shutil.copytree(EXAMPLE, self.shared)
        self.cards: dict[tuple[str, str, str], str] = {}

    def side(self, name: str, side: dict[str, Any]) -> Revision:
        if "card_file" in side:
            return open_side(str(ROOT / side["card_file"]))
        folder = self._folder(name, side)
        spec = folder / f"{name}.{side.get('front_end', 'ac')}"
        spec.write_text(_spec_text(side), encoding="utf-8")
        if not side.get("card"):
            return open_side(str(spec))
        card = folder / f"{name}.json"
        card.write_text(self._card(spec, side), encoding="utf-8")
        return open_side(str(card))

    def _folder(self, name: str, side: dict[str, Any]) -> Path:
        if not (side.get("copy") or side.get("flip")):
            return self.shared
        folder = self.root / name
        shutil.copytree(EXAMPLE, folder)
        for destination, source in side.get("copy", {}).items():
            shutil.copyfile(folder / source, folder / destination)
        for data, rows in side.get("flip", {}).items():
            _flip(folder / data, rows)
        return folder

    def _card(self, spec: Path, side: dict[str, Any]) -> str:
        overrides = side.get("set", {})
        key = (spec.read_text(), str(spec.parent), json.dumps(overrides, sort_keys=True))
        if key not in self.cards:
            self.cards[key] = check(spec, overrides=overrides).to_json()
        document = json.loads(self.cards[key])
        for dotted, value in side.get("document", {}).items():
            *parents, last = dotted.split(".")
            target = document
            for part in parents:
                target = target[part]
            target[last] = value
        return dumps(document)


def _spec_text(side: dict[str, Any]) -> str:
    text = (EXAMPLE / f"{side['spec']}.{side.get('front_end', 'ac')}").read_text()
    for old, new in side.get("edit", []):
        assert text.count(old) == 1, f"{old!r} must occur once in {side['spec']}"
        text = text.replace(old, new)
    if side.get("settings"):
        lines = "".join(f"    {name} {value}\n" for name, value in side["settings"].items())
        head, _, tail = text.rpartition("}")
        text = f"{head}  settings {{\n{lines}  }}\n}}{tail}"
    return text


def _flip(path: Path, rows: int) -> None:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for row in lines[-rows:]:
        row["correct"] = 1 - row["correct"]
    path.write_text("".join(json.dumps(row) + "\n" for row in lines))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("revisions"))


def test_the_corpus_has_at_least_30_pairs_each_named_once() -> None:
    names = [pair["name"] for pair in CORPUS]
    assert len(names) >= 30 and len(set(names)) == len(names)


@pytest.mark.parametrize("pair", CORPUS, ids=[pair["name"] for pair in CORPUS])
def test_every_change_is_classified_as_expected(pair: dict[str, Any], workspace, golden) -> None:
    old = workspace.side(f"{pair['name']}_old", pair["old"])
    new = workspace.side(f"{pair['name']}_new", pair["new"])
    changes = show.grouped(compare(old, new))
    assert [[c.id, c.path] for c in changes] == pair["expect"], pair["what"]
    text = click.unstyle(show.text(changes, "v1", "v2"))
    golden(GOLDEN / "diff" / f"{pair['name']}.txt", text + "\n")
    document = json.loads(show.as_json(changes))
    assert list(Draft202012Validator(load_schema("diff.v1")).iter_errors(document)) == []
    assert compare(new, new) == [] and compare(old, old) == []


def test_the_readme_counts_the_corpus() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"corpus.yaml` holds {len(CORPUS)} revision pairs" in readme
