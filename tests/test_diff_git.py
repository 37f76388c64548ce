"""`REV:PATH` sides and `accard log` on a temporary git repository: revisions are read
without touching the working tree, a spec's files at the same revision as the spec."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from accompiler._resources import load_schema
from accompiler.cli import main
from conftest import GOLDEN, ROOT, SPECS

EXAMPLE = SPECS / "example"
FLATTERY = '  transfer "flattery" {\n    file "data/oracle/flattery.jsonl"\n  }\n'
HISTORY = [
    "first claim",
    "drop flattery, lower tau_fresh",
    "fix a typo in a comment",
    "more fresh records",
    "a notebook beside the claim",
    "break the spec",
    "repair it",
]


def _git(repo: Path, *args: str) -> str:
    date = "2026-05-01T12:00:00+00:00"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A. Author",
        "GIT_AUTHOR_EMAIL": "author@example.org",
        "GIT_COMMITTER_NAME": "A. Author",
        "GIT_COMMITTER_EMAIL": "author@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository holding the oracle claim in claims/, revised commit by commit."""
    repo = tmp_path_factory.mktemp("git") / "paper"
    claims = repo / "claims"
    for part in ("data/oracle", "adapters/undefended", "adapters/oracle", "adapters/reference"):
        shutil.copytree(EXAMPLE / part, claims / part)
    _git(repo.parent, "init", "-q", "-b", "main", str(repo))
    spec = claims / "oracle.ac"
    text = (EXAMPLE / "oracle.ac").read_text()
    spec.write_text(text)
    _commit(repo, HISTORY[0])
    text = (
        text.replace(FLATTERY, "").removesuffix("}\n") + "  settings {\n    tau_fresh 0.3\n  }\n}\n"
    )
    spec.write_text(text)
    _commit(repo, HISTORY[1])
    spec.write_text(text.replace("# An attack-aware", "# The attack-aware"))
    _commit(repo, HISTORY[2])
    fresh = claims / "data" / "oracle" / "fresh.jsonl"
    fresh.write_text(fresh.read_text() + fresh.read_text().splitlines()[0] + "\n")
    _commit(repo, HISTORY[3])
    (claims / "notes.txt").write_text("not read by the claim\n")
    _commit(repo, HISTORY[4])
    spec.write_text(spec.read_text().replace("tau_fresh 0.3", "tau_fresh 3"))
    _commit(repo, HISTORY[5])
    spec.write_text(spec.read_text().replace("tau_fresh 3", "tau_fresh 0.3"))
    _commit(repo, HISTORY[6])
    return repo


def _status(repo: Path) -> str:
    return _git(repo, "status", "--porcelain", "--untracked-files=all")


def test_a_revision_against_the_working_tree(runner, monkeypatch, repo: Path) -> None:
    monkeypatch.chdir(repo / "claims")
    spec = repo / "claims" / "oracle.ac"
    spec.write_text(spec.read_text().replace("tiny-mc (simulated example)", "tiny-mc v2"))
    before = _status(repo)
    try:
        result = runner.invoke(main, ["diff", "HEAD~6:oracle.ac", "oracle.ac", "--json"])
    finally:
        _git(repo, "checkout", "-q", "--", "claims/oracle.ac")
    assert before == " M claims/oracle.ac\n", "the working tree is as the test left it"
    ids = [(c["id"], c["path"]) for c in json.loads(result.stdout)]
    assert ids == [
        ("transfer.removed", "$.datasets['transfer:flattery']"),
        ("settings.tau_fresh.lowered", "$.settings.thresholds.tau_fresh"),
        ("model.changed", "$.claim.model"),
        ("input.changed", "$.inputs['records/fresh']"),
    ]


def test_a_spec_from_git_reads_its_files_at_the_same_revision(
    runner, monkeypatch, repo: Path
) -> None:
    monkeypatch.chdir(repo)
    result = runner.invoke(
        main, ["diff", "HEAD~4:claims/oracle.ac", "HEAD~3:claims/oracle.ac", "--json"]
    )
    changes = json.loads(result.stdout)
    assert [c["id"] for c in changes] == ["input.changed"]
    committed = _git(repo, "show", "HEAD~4:claims/data/oracle/fresh.jsonl").encode()
    assert changes[0]["old"]["sha256"] == hashlib.sha256(committed).hexdigest()
    assert _status(repo) == ""


def test_a_card_from_git(runner, monkeypatch, repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(repo), str(clone))
    card = GOLDEN / "oracle.card.json"
    shutil.copyfile(card, clone / "card.json")
    _commit(clone, "the submitted card")
    tampered = json.loads(card.read_text())
    tampered["tool"]["version"] = "0.2.0"
    (clone / "card.json").write_text(json.dumps(tampered))
    _commit(clone, "a card from a newer accard")
    monkeypatch.chdir(clone)
    result = runner.invoke(main, ["diff", "HEAD~1:card.json", "HEAD:card.json"])
    assert result.exit_code == 1 and "tool.changed" in result.stdout, result.stderr
    same = runner.invoke(main, ["diff", "HEAD~1:card.json", str(card)])
    assert same.exit_code == 0


@pytest.mark.parametrize(
    ("side", "message"),
    [
        ("nope:claims/oracle.ac", "`nope` is not a revision of"),
        ("HEAD:claims/missing.ac", "claims/missing.ac is not there at that revision"),
        ("HEAD~6:claims", "HEAD~6:claims: a folder without manifest.json"),
        ("HEAD~1:claims/oracle.ac", "`tau_fresh` is out of range: 3"),
    ],
)
def test_bad_revisions_exit_2(runner, monkeypatch, repo: Path, side: str, message: str) -> None:
    monkeypatch.chdir(repo)
    result = runner.invoke(main, ["diff", side, "HEAD:claims/oracle.ac"])
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_outside_a_repository_exits_2(runner, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = runner.invoke(main, ["diff", "HEAD:oracle.ac", "HEAD:oracle.ac"])
    assert result.exit_code == 2 and "is not inside a git repository" in result.stderr
    log = runner.invoke(main, ["log", "oracle.ac"])
    assert log.exit_code == 2 and "is not inside a git repository" in log.stderr


def test_log_lists_every_commit_that_changed_the_claim(runner, monkeypatch, repo, golden) -> None:
    monkeypatch.chdir(repo)
    result = runner.invoke(main, ["log", "claims/oracle.ac"])
    assert result.exit_code == 0
    subjects = [line.split("  ")[2] for line in result.stdout.splitlines() if line[:1] != " "]
    assert subjects == [s for s in reversed(HISTORY) if s != "a notebook beside the claim"]
    golden(GOLDEN / "diff" / "log.txt", result.stdout)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"$ accard log claims/oracle.ac\n{result.stdout}```" in readme


def test_log_json_is_schema_valid(runner, monkeypatch, repo: Path) -> None:
    monkeypatch.chdir(repo / "claims")
    result = runner.invoke(main, ["log", "oracle.ac", "--json"])
    entries = json.loads(result.stdout)
    registry = Registry().with_resources(
        (load_schema(name)["$id"], Resource.from_contents(load_schema(name)))
        for name in ("diff.v1", "log.v1")
    )
    validator = Draft202012Validator(load_schema("log.v1"), registry=registry)
    assert list(validator.iter_errors(entries)) == []
    assert [e["state"] for e in entries] == [
        "unchanged",
        "invalid",
        "changed",
        "unchanged",
        "changed",
        "first",
    ]
    assert entries[1]["problem"] == "`tau_fresh` is out of range: 3"
    assert [c["id"] for c in entries[4]["changes"]] == [
        "transfer.removed",
        "settings.tau_fresh.lowered",
    ]


def test_log_of_a_spec_that_was_removed(runner, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git(tmp_path, "init", "-q", str(repo))
    spec = repo / "c.ac"
    spec.write_text((SPECS / "invalid" / "unknown_keyword.ac").read_text())
    _commit(repo, "a broken claim")
    spec.unlink()
    _commit(repo, "gone")
    result = runner.invoke(main, ["log", str(spec)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("gone  (the spec was removed)")
    assert "a broken claim  (the spec does not load: unknown keyword `setings`" in lines[1]


def test_a_folder_at_a_revision_goes_to_a_loader_that_takes_folders(
    monkeypatch, repo: Path
) -> None:
    from accompiler.diff import card_revision, open_side, sides

    listed = []

    def bundle(path: Path, label: str, notes: object) -> object:
        listed.append(sorted(p.name for p in path.iterdir()))
        return card_revision(json.loads((GOLDEN / "oracle.card.json").read_text()), label)

    entry = sides.Loader("bundle", (".zip",), False, bundle, directory=True)
    others = tuple(loader for loader in sides.LOADERS if loader.kind != "bundle")
    monkeypatch.setattr(sides, "LOADERS", (entry, *others))
    monkeypatch.chdir(repo)
    assert open_side("HEAD~6:claims").label == "HEAD~6:claims"
    assert listed == [["adapters", "data", "oracle.ac"]]
