"""The CI a journal copies: the pre-commit hooks, run by pre-commit itself on a temporary
repository, and the documented GitHub Actions workflow, parsed and its shell steps run
locally on good and forged submissions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from accompiler.canonical import dumps
from conftest import GOLDEN, ROOT, SPECS

WORKFLOW = ROOT / "docs" / "ci" / "accard-submissions.yml"
PACKAGE = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "grammar", "schemas", "src")


def git(folder: Path, *args: str) -> str:
    env = os.environ | {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(
        ["git", *args], cwd=folder, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def forged_card(folder: Path) -> Path:
    card = json.loads((GOLDEN / "safelora_relabel.card.json").read_text())
    card["verdict"]["strict"]["pass"] = True
    path = folder / "forged.card.json"
    path.write_text(dumps(card))
    return path


def test_pre_commit_runs_the_hooks(tmp_path: Path) -> None:
    hooks = tmp_path / "accard"
    for name in PACKAGE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, hooks / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (hooks / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, hooks / name)
    git(hooks, "init", "-q")
    git(hooks, "add", ".")
    git(hooks, "commit", "-qm", "accard")
    repo = tmp_path / "paper"
    repo.mkdir()
    git(repo, "init", "-q")
    config = {
        "repos": [
            {
                "repo": str(hooks),
                "rev": git(hooks, "rev-parse", "HEAD"),
                "hooks": [{"id": "accard-fmt"}, {"id": "accard-validate"}],
            }
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(SPECS / "example" / "oracle.ac", repo / "claim.ac")
    shutil.copy(GOLDEN / "oracle.card.json", repo / "oracle.card.json")
    (repo / "sloppy.ac").write_text((SPECS / "example" / "oracle.ac").read_text() + "\n\n")
    forged_card(repo)
    git(repo, "add", ".")
    env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "run", "--color", "never", "--files"]
        return subprocess.run(
            [*command, *files], cwd=repo, env=env, capture_output=True, text=True, timeout=600
        )

    good = run("claim.ac", "oracle.card.json")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "accard fmt --check" in good.stdout and "accard validate" in good.stdout
    assert good.stdout.count("Passed") == 2
    bad = run("sloppy.ac", "forged.card.json")
    assert bad.returncode == 1
    assert bad.stdout.count("Failed") == 2
    assert "sloppy.ac: not in canonical layout (run `accard fmt sloppy.ac`)" in bad.stdout
    assert "inconsistent card: $.verdict.strict.pass is true" in bad.stdout


def test_the_workflow_is_well_formed() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["pull_request"]["paths"] == ["submissions/**"]
    steps = workflow["jobs"]["verify"]["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps[:2]] == [
        "actions/checkout",
        "actions/setup-python",
    ]
    install = next(s for s in steps if s.get("name") == "Install accard")
    assert install["run"].startswith('python -m pip install "accard==')


def _run_steps(repo: Path, summary: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every `run` step but the install, as GitHub runs it (bash -eo pipefail)."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["verify"]["steps"]
    env = os.environ | {
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    results = {}
    for step in steps:
        if "run" in step and step["name"] != "Install accard":
            results[step["name"]] = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=repo,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
    return results


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    from accompiler.bundle import pack
    from test_tamper import _oracle

    folder = tmp_path_factory.mktemp("bundle")
    pack(_oracle(folder), folder / "oracle.zip")
    return folder / "oracle.zip"


def test_the_workflow_passes_good_submissions(bundle: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    (submissions / "cards").mkdir(parents=True)
    shutil.copy(bundle, submissions / "oracle.zip")
    shutil.copy(GOLDEN / "oracle.card.json", submissions / "cards" / "oracle.card.json")
    summary = tmp_path / "summary.md"
    results = _run_steps(tmp_path, summary)
    assert {name: r.returncode for name, r in results.items()} == {
        "Validate every card": 0,
        "Verify every bundle": 0,
    }, {name: r.stdout + r.stderr for name, r in results.items()}
    assert "## Acceptance Card submission `submissions/oracle.zip`: ✅ verified" in (
        summary.read_text()
    )


def test_the_workflow_fails_forged_submissions(bundle: Path, tmp_path: Path) -> None:
    from test_bundle import members, with_manifest, write_zip

    submissions = tmp_path / "submissions"
    submissions.mkdir()
    forged_card(submissions)
    (submissions / "broken.zip").write_bytes(b"not a zip")
    files = members(bundle.read_bytes())
    files["claim/data/oracle/fresh.jsonl"] += b"\n"  # well-formed, but not what the card read
    write_zip(submissions / "edited.zip", list(with_manifest(files).items()))
    summary = tmp_path / "summary.md"
    results = _run_steps(tmp_path, summary)
    validate, verify = results["Validate every card"], results["Verify every bundle"]
    assert validate.returncode == 2
    assert validate.stdout.startswith("::error title=accard%3A $.verdict.strict.pass,file=")
    assert verify.returncode == 1
    assert "::error title=accard,file=submissions/broken.zip::not a bundle" in verify.stdout
    assert (
        "::error title=accard%3A $.inputs['records/fresh'],file=submissions/edited.zip/"
        "card.json::the data changed since the card was made" in verify.stdout
    )
    assert "`submissions/edited.zip`: ❌ not verified" in summary.read_text()
