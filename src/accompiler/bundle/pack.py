"""A spec -> a submission bundle: the spec, every input its plan reads (at the same paths
relative to the spec), the card and a manifest; a zip (byte-reproducible: fixed times and
modes, sorted members) or a directory, written atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from .._version import __version__
from ..problems import Problem, SpecError
from ..span import Span
from .manifest import MANIFEST, FileEntry, Manifest

CLAIM_FOLDER = "claim"
CARD_NAME = "card.json"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def pack(
    spec: Path,
    out: Path,
    *,
    card_path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    option_names: Mapping[str, str] | None = None,
) -> Manifest:
    """Write the bundle of `spec` to `out` (`.zip`: an archive; else a new directory).

    Args:
        spec: the claim spec.
        out: where to write the bundle.
        card_path: the card to include (it must be valid and made from these very files);
            by default the card is computed.
        overrides: settings for the computed card (as `accard check --set`).
        option_names: how problems name each override.

    Raises:
        SpecError: the spec, an input or the given card is wrong; nothing is written.
        OSError: `out` cannot be written.
    """
    from ..claim import load_spec
    from ..plan import compile_plan

    claim, sources = load_spec(spec)
    kept: dict[str, bytes] = {}
    plan, _ = compile_plan(claim, spec.parent, kept)
    card_bytes = _card_bytes(
        spec, card_path, [i.to_json() for i in plan.inputs], overrides, option_names
    )
    files = {f"{CLAIM_FOLDER}/{spec.name}": spec.read_bytes(), CARD_NAME: card_bytes}
    for item in plan.inputs:
        files[f"{CLAIM_FOLDER}/{PurePosixPath(item.path).as_posix()}"] = kept[item.path]
    manifest = Manifest(
        "accard",
        __version__,
        f"{CLAIM_FOLDER}/{spec.name}",
        CARD_NAME,
        tuple(
            FileEntry(path, len(data), hashlib.sha256(data).hexdigest())
            for path, data in sorted(files.items())
        ),
    )
    contents = {MANIFEST: manifest_bytes(manifest)} | dict(sorted(files.items()))
    if out.suffix.lower() == ".zip":
        _write_zip(out, contents)
    else:
        _write_directory(out, contents)
    return manifest


def manifest_bytes(manifest: Manifest) -> bytes:
    from ..canonical import dumps

    return dumps(manifest.to_json()).encode("utf-8")


def _card_bytes(
    spec: Path,
    card_path: Path | None,
    inputs: list[dict[str, Any]],
    overrides: Mapping[str, Any] | None,
    option_names: Mapping[str, str] | None,
) -> bytes:
    """The given card's own bytes (valid, and made from these files), or a computed one."""
    if card_path is None:
        from ..pipeline import check

        return check(spec, overrides=overrides, option_names=option_names).to_json().encode()
    from ..card import read_card
    from ..card.document import card_bytes
    from ..card.reproduce import input_changes

    card, problems = read_card(card_path)
    if card is None:
        raise SpecError(problems)
    changes = input_changes(card["inputs"], inputs)
    if changes:
        raise SpecError(
            [
                Problem(
                    f"the card was not made from these files: {c.describe()}",
                    Span(str(card_path), 0),
                    "recompute it (`accard check SPEC --out CARD`) or pack without --card",
                    "$.inputs",
                )
                for c in changes
            ]
        )
    return card_bytes(card_path)


def _write_zip(out: Path, contents: Mapping[str, bytes]) -> None:
    """A deterministic archive: members sorted (the manifest first), fixed time and mode."""
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            for name, data in contents.items():
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.external_attr = 0o100644 << 16
                info.create_system = 3
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=6)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_directory(out: Path, contents: Mapping[str, bytes]) -> None:
    """A new directory, built beside `out` and renamed into place."""
    if out.exists():
        raise FileExistsError(
            17, "already exists (a bundle is a new .zip file, or a new directory)", str(out)
        )
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, data in contents.items():
            target = temporary.joinpath(*name.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.replace(temporary, out)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
