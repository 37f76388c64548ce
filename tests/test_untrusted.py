"""Untrusted files and values, unit by unit: files.py's confinement (every symlink resolved
inside the spec's folder, regular files only, caps), the portable path rule, safetensors
headers against the safetensors library itself, and PEFT pattern keys against PEFT's own
regular expression."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accompiler.adapters import AdapterError
from accompiler.adapters.peft import parse_config
from accompiler.adapters.safetensors import parse_safetensors_header
from accompiler.claim.paths import path_fault
from accompiler.files import InputError, find, read_confined, read_regular, sha256_confined


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/case (the spec's folder) and root/outside, with links of every kind."""
    case, outside = tmp_path / "case", tmp_path / "outside"
    (case / "data").mkdir(parents=True)
    (case / "store").mkdir()
    outside.mkdir()
    (case / "store" / "h.jsonl").write_bytes(b"inside\n")
    (outside / "secret.jsonl").write_bytes(b"secret\n")
    os.symlink("../store/h.jsonl", case / "data" / "in.jsonl")
    os.symlink(str(case / "store" / "h.jsonl"), case / "data" / "absolute_in.jsonl")
    os.symlink("../../outside/secret.jsonl", case / "data" / "out.jsonl")
    os.symlink(str(outside / "secret.jsonl"), case / "data" / "absolute_out.jsonl")
    os.symlink("../outside", case / "away")
    os.symlink("loop.jsonl", case / "data" / "loop.jsonl")
    os.symlink("/dev/zero", case / "data" / "zero.jsonl")
    os.mkfifo(case / "data" / "fifo.jsonl")
    return case


@pytest.mark.parametrize("name", ["store/h.jsonl", "data/in.jsonl", "data/absolute_in.jsonl"])
def test_links_that_stay_inside_are_read(tree: Path, name: str) -> None:
    read = read_confined(tree, name, 1 << 20)
    assert read.data == b"inside\n" and read.real == "store/h.jsonl"
    assert sha256_confined(tree, name, 1 << 20) == (read.sha256, 7)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("data/out.jsonl", "outside"),
        ("data/absolute_out.jsonl", "outside"),
        ("away/secret.jsonl", "outside"),
        ("data/loop.jsonl", "loop"),
        ("data/zero.jsonl", "outside"),
        ("data/fifo.jsonl", "FIFO"),
        ("data", "folder"),
        ("../outside/secret.jsonl", "leaves"),
        ("/etc/passwd", "absolute"),
        ("data/missing.jsonl", "does not exist"),
    ],
)
def test_anything_else_is_refused_before_it_is_read(tree: Path, name: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        read_confined(tree, name, 1 << 20)
    with pytest.raises(InputError, match=why):
        sha256_confined(tree, name, 1 << 20)


def test_find_names_folders_and_resolves_links(tree: Path) -> None:
    assert find(tree, "data/in.jsonl").real == "store/h.jsonl"
    assert find(tree, "data").is_dir
    with pytest.raises(InputError, match="outside"):
        find(tree, "away")


def test_a_file_over_its_cap_is_refused_from_its_size(tree: Path) -> None:
    with open(tree / "big.jsonl", "wb") as handle:
        handle.truncate((1 << 30) + 1)  # sparse: nothing is read
    with pytest.raises(InputError, match="limit is 1 GiB"):
        read_confined(tree, "big.jsonl", 1 << 30)
    with pytest.raises(InputError, match="limit is 1 GiB"):
        sha256_confined(tree, "big.jsonl", 1 << 30)


def test_a_card_is_a_regular_file(tree: Path) -> None:
    with pytest.raises(InputError, match="FIFO"):
        read_regular(tree / "data" / "fifo.jsonl", 1 << 20, "card")
    with pytest.raises(InputError, match="device"):
        read_regular(tree / "data" / "zero.jsonl", 1 << 20, "card")


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("data/h.jsonl", ""),
        ("données/ü.jsonl", ""),
        ("runs/*/samples_[ab]_?.jsonl", ""),
        ("data\\h.jsonl", "backslash"),
        ("data/h\x00.jsonl", "NUL"),
        ("data/\ud800.jsonl", "lone surrogate"),
        ("data/h\x1b.jsonl", "control character"),
        ("data/h\x85.jsonl", "control character"),
        ("/etc/passwd", "absolute"),
        ("C:/x.jsonl", "absolute"),
        ("a/../../x.jsonl", "leaves"),
        ("", "empty"),
        ("d/" + "n" * 256, "name of 256 bytes"),
        ("d/" + "é" * 128, "name of 256 bytes"),
        ("/".join(["d" * 200] * 21), "4,096"),
    ],
)
def test_the_portable_path_rule(path: str, why: str) -> None:
    fault = path_fault(path)
    assert (why in fault) if why else fault == ""


# --- safetensors: as strict as the library ---------------------------------------------------

_LIBRARY_DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1}


def _blob(header: object, data: bytes, raw: bytes | None = None) -> bytes:
    text = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@st.composite
def safetensors_files(draw: st.DrawFn) -> bytes:
    """A valid two-tensor file, then one hostile edit of its header or data."""
    shapes = [[draw(st.integers(0, 4)), draw(st.integers(0, 4))] for _ in range(2)]
    dtypes = [draw(st.sampled_from(["F32", "BF16", "F64"])) for _ in range(2)]
    header: dict[str, object] = {}
    position = 0
    for index, (shape, dtype) in enumerate(zip(shapes, dtypes, strict=True)):
        size = shape[0] * shape[1] * _LIBRARY_DTYPES[dtype]
        header[f"t{index}"] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [position, position + size],
        }
        position += size
    data = bytes(position)
    edit = draw(st.integers(0, 11))
    entry = header["t0"]
    assert isinstance(entry, dict)
    values = [-1, 0, 1, 2, 3, 2**64, True, 2.0, None, "2"]
    if edit == 1:
        entry["shape"] = [draw(st.sampled_from(values)), 2]
    elif edit == 2:
        entry["data_offsets"] = [draw(st.sampled_from(values)), entry["data_offsets"][1]]
    elif edit == 3:
        entry["data_offsets"] = entry["data_offsets"][::-1]
    elif edit == 4:
        data += b"\0" * draw(st.integers(1, 9))
    elif edit == 5:
        data = data[: max(0, len(data) - draw(st.integers(1, 9)))]
    elif edit == 6:
        entry["dtype"] = draw(st.sampled_from(["I64", "U8", "X", 3]))
    elif edit == 7:
        header["__metadata__"] = draw(st.sampled_from([{"a": "b"}, {"a": 1}, None, [], "x"]))
    elif edit == 8:
        header["t1"] = dict(entry)  # two tensors sharing bytes
    elif edit == 9:
        entry["extra"] = draw(st.sampled_from([1, "x", None]))
    elif edit == 10:
        return _blob(None, data, json.dumps(header).replace("[", "[NaN, ", 1).encode())
    elif edit == 11:
        return _blob(
            None, data, json.dumps(header).encode() + draw(st.sampled_from([b" ", b"\0", b"\n"]))
        )
    return _blob(header, data)


@settings(max_examples=400, deadline=None)
@given(safetensors_files())
def test_safetensors_headers_are_as_strict_as_the_library(blob: bytes) -> None:
    """Whatever the safetensors library refuses, accard refuses; what it accepts, accard
    accepts too, except for the dtypes a LoRA factor cannot have (documented)."""
    from safetensors import SafetensorError, deserialize

    try:
        library = {name: info["dtype"] for name, info in deserialize(blob)}
    except SafetensorError:
        library = None
    try:
        parse_safetensors_header(blob, "x")
        ours = True
    except AdapterError:
        ours = False
    if library is None:
        assert not ours, "the library refuses this file"
    elif all(dtype in ("F64", "F32", "F16", "BF16") for dtype in library.values()):
        assert ours, "the library reads this file"


# --- PEFT's pattern keys ------------------------------------------------------------------

MODULES = [
    "model.layers.0.self_attn.q_proj",
    "model.layers.1.self_attn.q_proj",
    "model.layers.10.self_attn.q_proj",
    "model.layers.0.mlp.down_proj",
    "model.layersX0.mlp.down_proj",
    "q_proj",
    "model.decoder.layers.0.encoder_attn.k_proj",
]
KEYS = st.lists(
    st.sampled_from(
        [
            "q_proj",
            "self_attn.q_proj",
            "layers.0.self_attn.q_proj",
            "layers\\.0\\.mlp\\.down_proj",
            "layers.0.mlp.down_proj",
            "^model.layers.1.self_attn.q_proj",
            "^q_proj$",
            "down_proj$",
            "proj",
            "0.mlp.down_proj",
            "^model.decoder.layers.0.encoder_attn.k_proj",
            "model",
        ]
    ),
    max_size=6,
    unique=True,
)


def _peft(patterns: dict[str, int], module: str, default: int) -> int:
    """PEFT's get_pattern_key (peft/utils/other.py) and the lookup it feeds."""
    for key in patterns:
        if re.match(rf"(.*\.)?({key})$", module):
            return patterns[key]
    return default


@settings(max_examples=300, deadline=None)
@given(KEYS, st.sampled_from(MODULES))
def test_pattern_keys_match_as_peft_matches_them(keys: list[str], module: str) -> None:
    patterns = {key: index + 3 for index, key in enumerate(keys)}
    config = {"r": 2, "lora_alpha": 4, "rank_pattern": patterns, "alpha_pattern": patterns}
    parsed = parse_config(json.dumps(config).encode(), "c")
    assert parsed["rank_pattern"].value(module, 2.0) == _peft(patterns, module, 2)
    assert parsed["alpha_pattern"].value(module, 4.0) == _peft(patterns, module, 4)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rank_pattern": {"(a+)+b": 2}}, "regular expression pattern accard does not match"),
        ({"rank_pattern": {"q_proj(": 2}}, "regular expression pattern accard does not match"),
        ({"rank_pattern": {f"m.{i}": 2 for i in range(1025)}}, "at most 1024"),
        ({"rank_pattern": {"q_proj": 2.5}}, "positive whole number"),
        ({"rank_pattern": {"q_proj": True}}, "positive whole number"),
        ({"alpha_pattern": {"q_proj": "8"}}, "positive number"),
        ({"alpha_pattern": {"q_proj": 0}}, "positive finite number"),
        ({"use_rslora": "false"}, "true or false"),
        ({"r": 1e400}, "positive finite number"),
    ],
)
def test_config_values_are_checked_by_type(config: dict[str, object], message: str) -> None:
    with pytest.raises(AdapterError, match=re.escape(message)):
        parse_config(json.dumps({"r": 2, "lora_alpha": 4} | config).encode(), "c")


def test_a_5000_digit_rank_is_named() -> None:
    with pytest.raises(
        AdapterError, match="`r` must be a positive finite number, not a number of 5000 digits"
    ):
        parse_config(b'{"r": ' + b"9" * 5000 + b', "lora_alpha": 4}', "c")


def test_pattern_lookup_time_is_bounded() -> None:
    """1,024 keys of distinct shapes against a module of 200 dots answer at once."""
    import time

    keys = {"." * (i % 200) + "x" * (i // 200 + 1): 2 for i in range(1024)}
    parsed = parse_config(json.dumps({"r": 2, "lora_alpha": 4, "rank_pattern": keys}).encode(), "c")
    start = time.perf_counter()
    parsed["rank_pattern"].value("a." * 200 + "q", 2.0)
    assert time.perf_counter() - start < 2.0
    assert np.isfinite(parsed["r"])
