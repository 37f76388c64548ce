"""Submission bundles: pack and verify round trips, the API other tools read bundles
through, and hostile bundles, each refused (exit 2) before anything is written outside the
temporary folder verify unpacks into."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from accompiler.bundle import LIMITS, Limits, open_bundle
from accompiler.canonical import dumps
from accompiler.cli import main
from accompiler.problems import SpecError
from conftest import SPECS
from test_tamper import _oracle

Members = dict[str, bytes]


@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> bytes:
    """The oracle claim's bundle (a zip), packed once."""
    from accompiler.bundle import pack

    folder = tmp_path_factory.mktemp("packed")
    out = folder / "submission.zip"
    pack(_oracle(folder), out)
    return out.read_bytes()


def members(archive: bytes) -> Members:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {info.filename: opened.read(info) for info in opened.infolist()}


def with_manifest(files: Members) -> Members:
    """`files` with a manifest that lists them all, as a consistent repack would."""
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in sorted(files.items())
        if name != "manifest.json"
    ]
    return files | {"manifest.json": dumps(manifest).encode()}


def write_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we want
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in entries:
                archive.writestr(info, data)
    return path


def entry(name: str, mode: int = 0o100644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    info.create_system = 3
    return info


# ------------------------------------------------------------------- round trips


def test_pack_and_verify_a_zip(packed: bytes, runner, tmp_path: Path) -> None:
    bundle = tmp_path / "submission.zip"
    bundle.write_bytes(packed)
    result = runner.invoke(main, ["verify", str(bundle)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{bundle}: VERIFIED\n")
    assert "strict PASS (4/4 pass), permissive PASS (4/4 pass) (reported, not gated)" in (
        result.stdout
    )
    report = json.loads(runner.invoke(main, ["verify", "--format", "json", str(bundle)]).stdout)
    assert report["verified"] and report["reproduction"]["byte_identical"]
    assert report["manifest"]["spec"] == "claim/oracle.ac"
    markdown = runner.invoke(main, ["verify", "--format", "markdown", str(bundle)]).stdout
    assert markdown.startswith(f"## Acceptance Card submission `{bundle}`: ✅ verified")


def test_a_packed_zip_is_byte_reproducible_and_complete(packed: bytes, tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    from accompiler._resources import load_schema
    from accompiler.bundle import pack

    again = tmp_path / "again.zip"
    pack(_oracle(tmp_path), again)
    assert again.read_bytes() == packed
    files = members(packed)
    manifest = json.loads(files.pop("manifest.json"))
    assert list(Draft202012Validator(load_schema("bundle.v1")).iter_errors(manifest)) == []
    assert {f["path"] for f in manifest["files"]} == set(files)
    card = json.loads(files["card.json"])
    assert {f"claim/{i['path']}" for i in card["inputs"]} | {"claim/oracle.ac", "card.json"} == (
        set(files)
    )


def test_a_directory_bundle_verifies(runner, tmp_path: Path) -> None:
    spec = _oracle(tmp_path)
    packed = runner.invoke(main, ["pack", str(spec), "--out", str(tmp_path / "bundle")])
    assert packed.exit_code == 0 and "a bundle of 12 files" in packed.stdout
    result = runner.invoke(main, ["verify", str(tmp_path / "bundle")])
    assert result.exit_code == 0, result.output


def test_pack_includes_a_given_card_only_when_made_from_these_files(runner, tmp_path: Path) -> None:
    spec = _oracle(tmp_path)
    card = tmp_path / "card.json"
    runner.invoke(main, ["check", str(spec), "--seed", "3", "--out", str(card)])
    out = tmp_path / "given.zip"
    assert (
        runner.invoke(main, ["pack", str(spec), "--card", str(card), "--out", str(out)]).exit_code
        == 0
    )
    assert members(out.read_bytes())["card.json"] == card.read_bytes()
    (tmp_path / "data" / "oracle" / "fresh.jsonl").write_text("")
    refused = runner.invoke(
        main, ["pack", str(spec), "--card", str(card), "--out", str(tmp_path / "x.zip")]
    )
    assert refused.exit_code == 2 and not (tmp_path / "x.zip").exists()
    assert "the card was not made from these files: the data changed since the card was made" in (
        refused.stderr
    )


def _verify(runner, tmp_path: Path, files: Members, *options: str):
    bundle = write_zip(tmp_path / "b.zip", list(with_manifest(files).items()))
    return runner.invoke(main, ["verify", *options, str(bundle)])


def test_a_forged_card_in_a_well_formed_bundle_is_not_verified(
    packed: bytes, runner, tmp_path: Path
) -> None:
    files = members(packed)
    card = json.loads(files["card.json"])
    card["verdict"]["strict"]["passed"] = 3
    files["card.json"] = dumps(card).encode()
    result = _verify(runner, tmp_path, files, "--problems", "github")
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.stdout
    assert "the card is not valid: inconsistent card: $.verdict.strict.passed is 3" in result.stdout
    assert "::error title=accard%3A $.verdict.strict.passed,file=" in result.stdout


def test_changed_data_in_a_well_formed_bundle_is_not_verified(
    packed: bytes, runner, tmp_path: Path
) -> None:
    files = members(packed)
    files["claim/data/oracle/sycophancy.csv"] += b"\n"
    result = _verify(runner, tmp_path, files, "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and not report["verified"]
    assert report["reproduction"]["input_changes"][0]["path"] == "data/oracle/sycophancy.csv"


def test_the_claims_verdict_is_gated_only_on_request(runner, tmp_path: Path) -> None:
    spec = tmp_path / "safelora.ac"
    example = SPECS / "example"
    spec.write_bytes((example / "safelora.ac").read_bytes())
    for part in ("data/safelora", "adapters/undefended", "adapters/safelora", "adapters/reference"):
        shutil.copytree(example / part, tmp_path / part)
    bundle = tmp_path / "s.zip"
    assert runner.invoke(main, ["pack", str(spec), "--out", str(bundle)]).exit_code == 0
    assert runner.invoke(main, ["verify", str(bundle)]).exit_code == 0
    gated = runner.invoke(main, ["verify", "--require-pass", str(bundle)])
    assert gated.exit_code == 1
    assert "the claim does not pass strictly (--require-pass)" in gated.stdout


def test_open_bundle_is_the_api(packed: bytes, tmp_path: Path) -> None:
    source = tmp_path / "s.zip"
    source.write_bytes(packed)
    bundle = open_bundle(source, tmp_path / "work")
    assert bundle.spec == tmp_path / "work" / "claim" / "oracle.ac" and bundle.spec.is_file()
    assert json.loads(bundle.card.read_text())["card_version"] == "1.1"
    assert bundle.manifest.entry("card.json") is not None and bundle.display("x") == f"{source}/x"
    with pytest.raises(SpecError, match="is not empty"):
        open_bundle(source, tmp_path / "work")


# ------------------------------------------------------------------- hostile bundles


def _lying_sizes(archive: bytes) -> bytes:
    """Every member's central-directory size patched to 4 GiB - 16: a declared bomb."""
    data = bytearray(archive)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24 : at + 28] = struct.pack("<I", 0xFFFFFFF0)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def _central(archive: bytes, name: bytes, offset: int, value: int) -> bytes:
    """One member's central-directory field at `offset` set to `value` (2 or 4 bytes)."""
    data = bytearray(archive)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + length] == name:
            size = 2 if offset == 8 else 4
            data[at + offset : at + offset + size] = value.to_bytes(size, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def _lying_size(files: Members, folder: Path) -> Path:
    """A member that declares (in the archive and the manifest) 10 bytes and holds more."""
    listed = with_manifest(files)
    manifest = json.loads(listed["manifest.json"])
    for item in manifest["files"]:
        if item["path"] == "claim/oracle.ac":
            item["size"] = 10
    listed["manifest.json"] = dumps(manifest).encode()
    path = write_zip(folder / "hostile.zip", list(listed.items()))
    path.write_bytes(_central(path.read_bytes(), b"claim/oracle.ac", 24, 10))
    return path


Hostile = Callable[[Members, Path], Path]


def _zip(extra: list[tuple[zipfile.ZipInfo | str, bytes]], drop: tuple[str, ...] = ()) -> Hostile:
    def build(files: Members, folder: Path) -> Path:
        kept = [(name, data) for name, data in with_manifest(files).items() if name not in drop]
        return write_zip(folder / "hostile.zip", kept + extra)

    return build


def _listed(extra: Members) -> Hostile:
    """Members added *and* listed in the manifest (a bundle that lies consistently)."""

    def build(files: Members, folder: Path) -> Path:
        return write_zip(folder / "hostile.zip", list(with_manifest(files | extra).items()))

    return build


def _patched(patch: Callable[[bytes], bytes]) -> Hostile:
    def build(files: Members, folder: Path) -> Path:
        path = write_zip(folder / "plain.zip", list(with_manifest(files).items()))
        hostile = folder / "hostile.zip"
        hostile.write_bytes(patch(path.read_bytes()))
        path.unlink()
        return hostile

    return build


def _manifest(edit: Callable[[dict], object]) -> Hostile:
    def build(files: Members, folder: Path) -> Path:
        listed = with_manifest(files)
        manifest = json.loads(listed["manifest.json"])
        edit(manifest)
        listed["manifest.json"] = dumps(manifest).encode()
        return write_zip(folder / "hostile.zip", list(listed.items()))

    return build


def _raw(data: bytes) -> Hostile:
    def build(files: Members, folder: Path) -> Path:
        path = folder / "hostile.zip"
        path.write_bytes(data)
        return path

    return build


def _directory(add: Callable[[Path], object]) -> Hostile:
    def build(files: Members, folder: Path) -> Path:
        root = folder / "hostile"
        for name, data in with_manifest(files).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        add(root)
        return root

    return build


ESCAPE = Path(tempfile.gettempdir()) / f"accard-escaped-{os.getpid()}.txt"
HOSTILE: list[tuple[str, Hostile, str]] = [
    ("traversal", _zip([("../escaped.txt", b"x")]), "'../escaped.txt' leaves the bundle (`..`)"),
    (
        "nested traversal",
        _zip([("claim/../../escaped.txt", b"x")]),
        "'claim/../../escaped.txt' leaves the bundle",
    ),
    ("absolute path", _zip([(str(ESCAPE), b"x")]), f"'{ESCAPE}' is absolute"),
    ("drive letter", _zip([("C:/escaped.txt", b"x")]), "'C:/escaped.txt' is absolute"),
    ("backslash", _zip([("..\\escaped.txt", b"x")]), "holds a backslash"),
    (
        "symlink member",
        _zip([(entry("claim/link", stat.S_IFLNK | 0o777), b"/etc/passwd")]),
        "'claim/link' is a symbolic link",
    ),
    (
        "special file member",
        _zip([(entry("claim/fifo", stat.S_IFIFO | 0o644), b"")]),
        "'claim/fifo' is a special file",
    ),
    (
        "encrypted member",
        _patched(lambda data: _central(data, b"claim/oracle.ac", 8, 0x1)),
        "'claim/oracle.ac' is encrypted",
    ),
    ("duplicate names", _zip([("card.json", b"{}")]), "'card.json' appears twice"),
    ("names that differ by case", _zip([("CARD.json", b"{}")]), "'CARD.json' appears twice"),
    (
        "a file that is also a folder",
        _listed({"claim/oracle.ac/x": b"x"}),
        "'claim/oracle.ac/x' is a file and a folder of another member",
    ),
    ("no manifest", _zip([], drop=("manifest.json",)), "has no manifest.json at its root"),
    (
        "a listed file missing",
        _zip([], drop=("claim/data/oracle/fresh.jsonl",)),
        "claim/data/oracle/fresh.jsonl: listed in the manifest but missing from the bundle",
    ),
    (
        "an unlisted file",
        _zip([("claim/extra.txt", b"x")]),
        "claim/extra.txt: in the bundle but not listed",
    ),
    (
        "a file edited after packing",
        _manifest(lambda m: m["files"][0].update(sha256="0" * 64)),
        "bytes with sha256 000000000000",
    ),
    ("a declared zip bomb", _patched(_lying_sizes), "unpacks to"),
    ("sizes that lie", _lying_size, "'claim/oracle.ac' cannot be read (Bad CRC-32"),
    (
        "an unknown bundle version",
        _manifest(lambda m: m.update(bundle_version="2")),
        "bundle_version '2' is not one this accard reads",
    ),
    (
        "a manifest path that escapes",
        _manifest(lambda m: m["files"][0].update(path="../x")),
        "$.files[0].path: '../x' does not match",
    ),
    (
        "a spec the manifest does not list",
        _manifest(lambda m: m.update(spec="claim/other.ac")),
        "the spec 'claim/other.ac' is not among the files",
    ),
    ("not a zip", _raw(b"not a zip at all"), "not a bundle: neither a zip archive nor a directory"),
    (
        "a symlink in a directory bundle",
        _directory(lambda root: os.symlink("/etc/hostname", root / "claim" / "link")),
        "'claim/link' is a symbolic link",
    ),
    (
        "a fifo in a directory bundle",
        _directory(lambda root: os.mkfifo(root / "claim" / "fifo")),
        "'claim/fifo' is a special file",
    ),
]


def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize(("name", "build", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_bundle_exits_2_and_writes_nothing_outside_a_temporary_folder(
    name: str, build: Hostile, message: str, packed: bytes, runner, tmp_path, monkeypatch
) -> None:
    (tmp_path / "made").mkdir()
    bundle = build(members(packed), tmp_path / "made")
    scratch, work = tmp_path / "scratch", tmp_path / "work"
    scratch.mkdir()
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.chdir(work)
    before = _snapshot(tmp_path)
    result = runner.invoke(main, ["verify", "--problems", "json", str(bundle)])
    assert result.exit_code == 2, result.output
    messages = [p["message"] for p in json.loads(result.stderr)["problems"]]
    assert any(message in m for m in messages), messages
    assert _snapshot(tmp_path) == before  # the temporary folder is gone, nothing else is new
    assert not ESCAPE.exists() and not (tmp_path / "escaped.txt").exists()


def test_the_hostile_corpus_covers_the_issue() -> None:
    assert len(HOSTILE) >= 20


def test_caps_are_checked_before_anything_is_written(packed: bytes, tmp_path: Path) -> None:
    files = with_manifest(members(packed) | {"claim/zeros.bin": bytes(32 << 20)})
    bomb = write_zip(tmp_path / "bomb.zip", list(files.items()))
    assert bomb.stat().st_size < 2 << 20  # 32 MiB of zeros deflate to ~32 KiB
    for limits, message in (
        (
            Limits(max_file_bytes=1 << 20),
            "'claim/zeros.bin' is 33554432 bytes; the limit is 1048576",
        ),
        (Limits(max_total_bytes=16 << 20), "unpacks to"),
        (Limits(max_files=5), f"holds {len(files)} files; the limit is 5"),
    ):
        with pytest.raises(SpecError) as caught:
            open_bundle(bomb, tmp_path / "work", limits)
        assert any(message in p.summary for p in caught.value.problems)
        assert not (tmp_path / "work").exists()
    assert LIMITS.max_file_bytes == 1 << 30
