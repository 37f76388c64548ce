"""The bundle manifest (schemas/bundle.v1.schema.json): what a submission bundle holds, and
the one rule for the paths inside it."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..problems import Problem
from ..span import Span

BUNDLE_VERSION = "1"
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20
MAX_PATH_CHARS = 4096
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True)
class FileEntry:
    """One file of a bundle: its path inside the bundle, size and sha256."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    """manifest.json: the bundle's format version, the tool that packed it, where the spec
    and the card are, and every file but the manifest itself."""

    tool_name: str
    tool_version: str
    spec: str
    card: str
    files: tuple[FileEntry, ...]
    bundle_version: str = BUNDLE_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle_version": self.bundle_version,
            "tool": {"name": self.tool_name, "version": self.tool_version},
            "spec": self.spec,
            "card": self.card,
            "files": [f.to_json() for f in self.files],
        }

    def entry(self, path: str) -> FileEntry | None:
        return next((f for f in self.files if f.path == path), None)


def path_fault(name: str) -> str:
    """'' when `name` is a safe relative POSIX path inside a bundle, else what is wrong."""
    if not name or len(name) > MAX_PATH_CHARS:
        return "is empty or longer than 4096 characters"
    if "\x00" in name or any(unicodedata.category(c) == "Cc" for c in name):
        return "holds a control character"
    if "\\" in name:
        return "holds a backslash (bundle paths are '/'-separated)"
    if name.startswith("/") or _DRIVE.match(name):
        return "is absolute"
    parts = name.split("/")
    if ".." in parts:
        return "leaves the bundle (`..`)"
    if any(p in ("", ".") for p in parts):
        return "has an empty or `.` component"
    return ""


def collision_key(name: str) -> str:
    """Names that would land on one file on a case-insensitive or normalising file system
    share this key (a bundle must unpack identically everywhere)."""
    return unicodedata.normalize("NFC", name).casefold()


def parse_manifest(data: bytes, display: str) -> tuple[Manifest | None, list[Problem]]:
    """The manifest from its bytes: JSON (no NaN), a version this accard reads, valid
    against schemas/bundle.v1.schema.json, its paths safe and distinct, spec and card
    listed."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import relevance

    from .._resources import load_schema

    def problem(summary: str, field: str = "") -> Problem:
        return Problem(summary, Span(display, 0), "", field)

    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        return None, [problem(f"the manifest is not JSON ({error})")]
    version = document.get("bundle_version") if isinstance(document, dict) else None
    if version != BUNDLE_VERSION:
        summary = f"bundle_version {version!r} is not one this accard reads (it reads 1)"
        return None, [problem(summary, "$.bundle_version")]
    validator = Draft202012Validator(load_schema("bundle.v1"))
    errors = sorted(validator.iter_errors(document), key=relevance)
    if errors:
        return None, [problem(f"{e.json_path}: {e.message}", e.json_path) for e in errors]
    manifest = _manifest(document)
    return manifest, _listing_problems(manifest, problem)


def _manifest(document: dict[str, Any]) -> Manifest:
    files = tuple(FileEntry(f["path"], f["size"], f["sha256"]) for f in document["files"])
    tool = document["tool"]
    return Manifest(tool["name"], tool["version"], document["spec"], document["card"], files)


def _listing_problems(manifest: Manifest, problem: Any) -> list[Problem]:
    problems = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(manifest.files):
        field = f"$.files[{index}].path"
        fault = path_fault(entry.path)
        if fault:
            problems.append(problem(f"the path {entry.path!r} {fault}", field))
        elif entry.path == MANIFEST:
            problems.append(problem("the manifest lists itself", field))
        key = collision_key(entry.path)
        if key in seen:
            problems.append(problem(f"{entry.path!r} is listed twice (as {seen[key]!r})", field))
        seen.setdefault(key, entry.path)
    for role, path in (("spec", manifest.spec), ("card", manifest.card)):
        if manifest.entry(path) is None:
            problems.append(problem(f"the {role} {path!r} is not among the files", f"$.{role}"))
    if not manifest.spec.endswith((".ac", ".yaml", ".yml")):
        problems.append(problem("the spec is not an .ac, .yaml or .yml file", "$.spec"))
    return problems


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a manifest may hold")
