"""Builders of the hostile corpus: a valid base claim (records, adapters, spec) and the
raw encoders (safetensors, zip, Parquet, torch .bin, bombs) the cases bend out of shape.

Everything is derived from fixed seeds, so a case builds the same bytes on every run.
Nothing here imports accompiler: the corpus attacks the command line only.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import lzma
import os
import struct
import zlib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20260521
SECRET = "OUTSIDE-SECRET-7f3a9c"
"""A token that only files outside the spec's folder hold: it must never reach the output."""

CONDITIONS = ("deploy", "eval")
ARMS = ("undefended", "defended")
# P(correct) per (arm, condition): an installed gap the defense removes.
P_CORRECT = {
    ("undefended", "deploy"): 0.9,
    ("undefended", "eval"): 0.2,
    ("defended", "deploy"): 0.88,
    ("defended", "eval"): 0.85,
}


# --- records -------------------------------------------------------------------------------


def canonical_rows(
    prefix: str = "q", questions: int = 20, templates: int = 2, subjects: int = 4, seed: int = 0
) -> list[dict[str, Any]]:
    """Rows of one data set, in a fixed order: question, template, arm, condition."""
    rng = np.random.default_rng(SEED + seed)
    rows = []
    for q in range(questions):
        for t in range(templates):
            for arm in ARMS:
                for condition in CONDITIONS:
                    rows.append(
                        {
                            "question_id": f"{prefix}{q:02d}",
                            "template_id": f"t{t}",
                            "subject": f"{prefix}-subject{q % subjects}",
                            "condition": condition,
                            "arm": arm,
                            "correct": int(rng.random() < P_CORRECT[(arm, condition)]),
                        }
                    )
    return rows


def jsonl_bytes(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def csv_bytes(rows: list[dict[str, Any]], header: list[str] | None = None) -> bytes:
    header = header or list(rows[0])
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def parquet_bytes(table: Any, **options: Any) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def rows_table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist(rows)


def lm_eval_rows(rows: list[dict[str, Any]], arm: str, filters: tuple[str, ...] = ("none",)):
    """lm-eval --log_samples rows of one arm (the arm comes from the file)."""
    out = []
    for doc_id, row in enumerate(r for r in rows if r["arm"] == arm):
        for name in filters:
            doc = {k: row[k] for k in ("question_id", "template_id", "subject", "condition")}
            out.append(
                {
                    "doc_id": doc_id,
                    "doc": doc | {"question": "?", "choices": ["A", "B"], "answer": 0},
                    "target": "0",
                    "filter": name,
                    "metrics": ["acc"],
                    "acc": float(row["correct"]),
                }
            )
    return out


def inspect_samples(rows: list[dict[str, Any]], arm: str) -> list[dict[str, Any]]:
    samples = []
    for row in (r for r in rows if r["arm"] == arm):
        metadata = {k: row[k] for k in ("question_id", "template_id", "subject", "condition")}
        samples.append(
            {
                "id": f"{row['question_id']}-{row['template_id']}-{row['condition']}",
                "epoch": 1,
                "input": "?",
                "target": "A",
                "metadata": metadata,
                "scores": {"match": {"value": "C" if row["correct"] else "I"}},
            }
        )
    return samples


def inspect_json_bytes(samples: list[Any]) -> bytes:
    log = {"version": 2, "status": "success", "eval": {"task": "hostile"}, "samples": samples}
    return json.dumps(log).encode()


# --- zip (.eval) -------------------------------------------------------------------------------

STORED, DEFLATED, BZIP2, LZMA, ZSTD = 0, 8, 12, 14, 93


@dataclass
class ZipEntry:
    """One zip member, written by hand so that every header field can lie."""

    name: str
    payload: bytes
    """The member's bytes as stored (already compressed with `method`)."""
    method: int = STORED
    crc: int = 0
    size: int = 0
    flags: int = 0
    central_name: str | None = None


def zip_entry(name: str, content: bytes, method: int = DEFLATED) -> ZipEntry:
    """A well-formed member holding `content`."""
    if method == STORED:
        payload = content
    elif method == DEFLATED:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = compressor.compress(content) + compressor.flush()
    elif method == ZSTD:
        import zstandard

        payload = zstandard.ZstdCompressor(level=3).compress(content)
    elif method == BZIP2:
        payload = bz2.compress(content)
    elif method == LZMA:
        payload = lzma_zip_payload(content)
    else:
        raise ValueError(method)
    return ZipEntry(name, payload, method, zlib.crc32(content), len(content))


def lzma_zip_payload(content: bytes, preset: int = 6) -> bytes:
    """zip's LZMA member layout: version, properties size, LZMA1 properties, raw stream."""
    compressor = lzma.LZMACompressor(
        format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": preset}]
    )
    props = lzma._encode_filter_properties({"id": lzma.FILTER_LZMA1, "preset": preset})  # type: ignore[attr-defined]
    return (
        struct.pack("<BBH", 9, 4, len(props))
        + props
        + compressor.compress(content)
        + (compressor.flush())
    )


def zip_bytes(entries: list[ZipEntry]) -> bytes:
    out = io.BytesIO()
    central = []
    for entry in entries:
        offset = out.tell()
        name = entry.name.encode("utf-8")
        version = 63 if entry.method in (LZMA, ZSTD) else 46 if entry.method == BZIP2 else 20
        flags = entry.flags | 0x800
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                version,
                flags,
                entry.method,
                0,
                0x21,
                entry.crc,
                len(entry.payload),
                entry.size,
                len(name),
                0,
            )
        )
        out.write(name)
        out.write(entry.payload)
        cname = (entry.central_name or entry.name).encode("utf-8")
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                version,
                version,
                flags,
                entry.method,
                0,
                0x21,
                entry.crc,
                len(entry.payload),
                entry.size,
                len(cname),
                0,
                0,
                0,
                0,
                0o100644 << 16,
                offset,
            )
            + cname
        )
    start = out.tell()
    for record in central:
        out.write(record)
    end = out.tell()
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), end - start, start, 0
        )
    )
    return out.getvalue()


def eval_bytes(samples: list[dict[str, Any]], method: int = ZSTD, extra: list[ZipEntry] = ()):
    """An inspect .eval archive: a journal entry plus one member per sample."""
    entries = [zip_entry("_journal/start.json", b'{"version": 2}', method)]
    for sample in samples:
        name = f"samples/{sample['id']}_epoch_{sample['epoch']}.json"
        entries.append(zip_entry(name, json.dumps(sample).encode(), method))
    return zip_bytes(entries + list(extra))


def _zero_crc(size: int) -> int:
    crc, chunk = 0, bytes(1 << 24)
    for start in range(0, size, len(chunk)):
        crc = zlib.crc32(chunk[: min(len(chunk), size - start)], crc)
    return crc


BOMB_BYTES = 560_000_000
"""What each decompression bomb inflates to: 8.75x the 64 MiB member cap."""


@cache
def bomb(method: int, size: int = BOMB_BYTES) -> ZipEntry:
    """A member of NUL bytes that inflates to `size` from a few hundred bytes (bz2), ~75 KB
    (LZMA) or ~16 KB (zstd). Its header states the true size and CRC."""
    if method == BZIP2:
        payload, size = _bz2_bomb(size)
    elif method == LZMA:
        compressor = lzma.LZMACompressor(
            format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 0}]
        )
        props = lzma._encode_filter_properties({"id": lzma.FILTER_LZMA1, "preset": 0})  # type: ignore[attr-defined]
        chunk = bytes(1 << 24)
        parts = [struct.pack("<BBH", 9, 4, len(props)), props]
        for start in range(0, size, len(chunk)):
            parts.append(compressor.compress(chunk[: min(len(chunk), size - start)]))
        parts.append(compressor.flush())
        payload = b"".join(parts)
    elif method == ZSTD:
        import zstandard

        compressor = zstandard.ZstdCompressor(level=1).compressobj(size=size)
        chunk = bytes(1 << 24)
        parts = [
            compressor.compress(chunk[: min(len(chunk), size - s)])
            for s in range(0, size, len(chunk))
        ]
        payload = b"".join(parts) + compressor.flush()
    elif method == DEFLATED:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 24)
        parts = [
            compressor.compress(chunk[: min(len(chunk), size - s)])
            for s in range(0, size, len(chunk))
        ]
        payload = b"".join(parts) + compressor.flush()
    else:
        raise ValueError(method)
    return ZipEntry("samples/bomb_epoch_1.json", payload, method, _zero_crc(size), size)


def _bz2_bomb(size: int) -> tuple[bytes, int]:
    """One bz2 stream of identical blocks, each 40 MB of NULs, spliced at the bit level (a
    block is not byte-aligned): ~40 bytes per block instead of 0.3 s of compression each."""
    unit = 40_000_000
    stream = bz2.compress(bytes(unit), 9)
    number, total = int.from_bytes(stream, "big"), 8 * len(stream)

    def bits(start: int, end: int) -> int:
        return (number >> (total - end)) & ((1 << (end - start)) - 1)

    end = next(
        total - pad
        for pad in range(8)
        if bits(total - pad - 80, total - pad - 32) == 0x177245385090
    )
    length = end - 80 - 32
    block, block_crc = bits(32, 32 + length), bits(80, 112)
    count = -(-size // unit)
    out, nbits, combined = 0x425A6839, 32, 0  # "BZh9"
    for _ in range(count):
        out, nbits = (out << length) | block, nbits + length
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ block_crc
    out, nbits = (((out << 48) | 0x177245385090) << 32) | combined, nbits + 80
    pad = -nbits % 8
    return (out << pad).to_bytes((nbits + pad) // 8, "big"), count * unit


# --- safetensors --------------------------------------------------------------------------------

DTYPE_CODES = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<f2"): "F16"}


def safetensors_bytes(
    tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None
) -> bytes:
    header: dict[str, Any] = {}
    data = io.BytesIO()
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        start = data.tell()
        data.write(array.tobytes())
        header[name] = {
            "dtype": DTYPE_CODES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [start, data.tell()],
        }
    if metadata is not None:
        header["__metadata__"] = metadata
    return raw_safetensors(header, data.getvalue())


def raw_safetensors(header: Any, data: bytes, header_text: bytes | None = None) -> bytes:
    text = header_text if header_text is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def parse_safetensors(blob: bytes) -> tuple[dict[str, Any], bytes]:
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8 : 8 + length]), blob[8 + length :]


# --- adapters ----------------------------------------------------------------------------------

MODULES = ("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj")
DIM, RANK = 16, 2


def lora_key(module: str, factor: str) -> str:
    return f"base_model.model.{module}.{factor}.weight"


@cache
def _lora_base() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(SEED)
    return {
        m: (
            rng.standard_normal((RANK, DIM)).astype(np.float32),
            rng.standard_normal((DIM, RANK)).astype(np.float32),
        )
        for m in MODULES
    }


def lora_tensors(role: str) -> dict[str, np.ndarray]:
    """undefended = the reference attack plus noise; defended = the attack's direction
    removed (an attack_targeted signature); reference = the attack."""
    rng = np.random.default_rng(SEED + {"undefended": 1, "defended": 2, "reference": 3}[role])
    tensors = {}
    for module, (a, b) in _lora_base().items():
        if role == "reference":
            a_out, b_out = a, b
        elif role == "undefended":
            a_out = a + 0.05 * rng.standard_normal(a.shape).astype(np.float32)
            b_out = b + 0.05 * rng.standard_normal(b.shape).astype(np.float32)
        else:
            a_out = rng.standard_normal(a.shape).astype(np.float32)
            q, _ = np.linalg.qr(b.astype(np.float64))
            noise = rng.standard_normal(b.shape)
            b_out = (0.3 * (noise - q @ (q.T @ noise))).astype(np.float32)
        tensors[lora_key(module, "lora_A")] = a_out
        tensors[lora_key(module, "lora_B")] = b_out
    return tensors


def adapter_config(**overrides: Any) -> dict[str, Any]:
    config = {
        "peft_type": "LORA",
        "r": RANK,
        "lora_alpha": 4,
        "target_modules": ["q_proj", "v_proj"],
        "use_rslora": False,
        "rank_pattern": {},
        "alpha_pattern": {},
    }
    config.update(overrides)
    return config


def write_peft(folder: Path, role: str, config: dict[str, Any] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps(config or adapter_config()))
    (folder / "adapter_model.safetensors").write_bytes(safetensors_bytes(lora_tensors(role)))


def full_weights(scale: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED + 100 + seed)
    return {
        f"{m}.weight": (scale * rng.standard_normal((DIM, DIM))).astype(np.float32) for m in MODULES
    }


def torch_bin(tensors: dict[str, Any]) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def torch_lora_tensors(role: str) -> dict[str, Any]:
    import torch

    return {k: torch.from_numpy(v.copy()) for k, v in lora_tensors(role).items()}


# --- specs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A value written verbatim (a number, a bare word, a hand-made string literal)."""

    ac: str
    yaml: str | None = None

    def for_yaml(self) -> str:
        return self.yaml if self.yaml is not None else self.ac


Value = Any  # str (a string), int/float (a number), Raw


@dataclass(frozen=True)
class RecordFile:
    path: Value
    condition: str | None = None


@dataclass(frozen=True)
class Data:
    """A data set: `files` (arm in a field) or per-arm files."""

    name: Value = "h"
    files: tuple[RecordFile, ...] = (RecordFile("data/h.jsonl"),)
    undefended: tuple[RecordFile, ...] = ()
    defended: tuple[RecordFile, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A claim, rendered to .ac or YAML; every field can be replaced by a hostile value."""

    title: Value = "hostile corpus base claim"
    defense: Value = "D"
    mechanism: Value = Raw("attack_targeted")
    relabel: tuple[Value, Value] | None = None
    model: Value = "tiny"
    records: Value | None = None
    fields: tuple[tuple[str, Value], ...] = ()
    filter: Value | None = None
    heldout: Data = Data()
    fresh: Data | None = None
    transfer: tuple[Data, ...] = ()
    adapters: tuple[tuple[str, Value, Value | None], ...] = ()
    """(role, path, scale or None); base/aligned are roles too."""
    settings: tuple[tuple[str, Value], ...] = (("resamples", 1000),)
    extra_claim: str = ""
    """Verbatim .ac statements appended inside the claim block (YAML: ignored unless
    `extra_claim_yaml` is given)."""
    extra_claim_yaml: str = ""

    def with_(self, **changes: Any) -> Spec:
        return replace(self, **changes)


def ac_string(text: str) -> str:
    """A .ac string literal (JSON escapes); lone surrogates become \\uXXXX escapes."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in quoted)


def _ac(value: Value) -> str:
    if isinstance(value, Raw):
        return value.ac
    if isinstance(value, str):
        return ac_string(value)
    return repr(value) if isinstance(value, float) else str(value)


def _yaml(value: Value) -> str:
    if isinstance(value, Raw):
        return value.for_yaml()
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a YAML double-quoted scalar
    return repr(value) if isinstance(value, float) else str(value)


def render_ac(spec: Spec) -> str:
    lines = ["accard 1", "", f"claim {_ac(spec.title)} {{", f"  defense {_ac(spec.defense)} {{"]
    lines.append(f"    mechanism {_ac(spec.mechanism)}")
    if spec.relabel is not None:
        lines.append(f"    relabel {_ac(spec.relabel[0])} because {_ac(spec.relabel[1])}")
    lines += ["  }", f"  model {_ac(spec.model)}"]
    if spec.records is not None or spec.fields or spec.filter is not None:
        head = f"  records {_ac(spec.records if spec.records is not None else Raw('canonical'))}"
        inner = [f"    {k} {_ac(v)}" for k, v in spec.fields]
        if spec.filter is not None:
            inner.append(f"    filter {_ac(spec.filter)}")
        lines += [head + " {", *inner, "  }"] if inner else [head]
    lines += _ac_data("heldout", spec.heldout, True)
    if spec.fresh is not None:
        lines += _ac_data("fresh", spec.fresh, False)
    for target in spec.transfer:
        lines += _ac_data("transfer", target, True)
    if spec.adapters:
        lines.append("  adapters {")
        for role, path, scale in spec.adapters:
            if scale is None:
                lines.append(f"    {role} {_ac(path)}")
            else:
                lines += [f"    {role} {_ac(path)} {{", f"      scale {_ac(scale)}", "    }"]
        lines.append("  }")
    if spec.settings:
        lines += ["  settings {", *(f"    {k} {_ac(v)}" for k, v in spec.settings), "  }"]
    if spec.extra_claim:
        lines.append(spec.extra_claim)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ac_data(keyword: str, data: Data, named: bool) -> list[str]:
    lines = [f"  {keyword} {_ac(data.name)} {{" if named else f"  {keyword} {{"]
    for key, files in (
        ("file", data.files),
        ("undefended", data.undefended),
        ("defended", data.defended),
    ):
        for record in files:
            if record.condition is None:
                lines.append(f"    {key} {_ac(record.path)}")
            else:
                lines += [
                    f"    {key} {_ac(record.path)} {{",
                    f"      condition {record.condition}",
                    "    }",
                ]
    return lines + ["  }"]


def ac_line(spec: Spec, needle: str) -> int:
    """The 1-based line of the rendered .ac spec that first contains `needle`."""
    for number, line in enumerate(render_ac(spec).splitlines(), start=1):
        if needle in line:
            return number
    raise LookupError(needle)


def render_yaml(spec: Spec) -> str:
    lines = ["accard: 1", "claim:", f"  title: {_yaml(spec.title)}", "  defense:"]
    lines += [f"    name: {_yaml(spec.defense)}", f"    mechanism: {_yaml(spec.mechanism)}"]
    if spec.relabel is not None:
        lines += [
            "    relabel:",
            f"      to: {_yaml(spec.relabel[0])}",
            f"      because: {_yaml(spec.relabel[1])}",
        ]
    lines.append(f"  model: {_yaml(spec.model)}")
    if spec.records is not None or spec.fields or spec.filter is not None:
        lines.append("  records:")
        if spec.records is not None:
            lines.append(f"    format: {_yaml(spec.records)}")
        lines += [f"    {k}: {_yaml(v)}" for k, v in spec.fields]
        if spec.filter is not None:
            lines.append(f"    filter: {_yaml(spec.filter)}")
    lines += _yaml_data("heldout", spec.heldout, "task", "  ")
    if spec.fresh is not None:
        lines += _yaml_data("fresh", spec.fresh, None, "  ")
    if spec.transfer:
        lines.append("  transfer:")
        for target in spec.transfer:
            block = _yaml_data("", target, "name", "    ")[1:]
            block[0] = "    - " + block[0].lstrip()
            lines += block
    if spec.adapters:
        lines.append("  adapters:")
        for role, path, scale in spec.adapters:
            if scale is None:
                lines.append(f"    {role}: {_yaml(path)}")
            else:
                lines += [
                    f"    {role}:",
                    f"      path: {_yaml(path)}",
                    f"      scale: {_yaml(scale)}",
                ]
    if spec.settings:
        lines += ["  settings:", *(f"    {k}: {_yaml(v)}" for k, v in spec.settings)]
    if spec.extra_claim_yaml:
        lines.append(spec.extra_claim_yaml)
    return "\n".join(lines) + "\n"


def _yaml_data(keyword: str, data: Data, label: str | None, indent: str) -> list[str]:
    lines = [f"{indent}{keyword}:"]
    if label is not None:
        lines.append(f"{indent}  {label}: {_yaml(data.name)}")
    for key, files in (
        ("file", data.files),
        ("undefended", data.undefended),
        ("defended", data.defended),
    ):
        if not files:
            continue
        lines.append(f"{indent}  {key}:")
        for record in files:
            if record.condition is None:
                lines.append(f"{indent}    - {_yaml(record.path)}")
            else:
                lines.append(
                    f"{indent}    - {{path: {_yaml(record.path)}, condition: {record.condition}}}"
                )
    return lines


def yaml_line(spec: Spec, needle: str) -> int:
    for number, line in enumerate(render_yaml(spec).splitlines(), start=1):
        if needle in line:
            return number
    raise LookupError(needle)


# --- base folders ------------------------------------------------------------------------------

BASE_ADAPTERS = (
    ("undefended", "adapters/u", None),
    ("defended", "adapters/d", None),
    ("reference", "adapters/r", None),
)


@dataclass
class Folder:
    """A case's tree: `root/case` is the spec's folder, `root/outside` is not."""

    root: Path
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def case(self) -> Path:
        return self.root / "case"

    @property
    def outside(self) -> Path:
        return self.root / "outside"

    def write(self, relative: str, data: bytes | str) -> Path:
        path = self.case / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def write_outside(self, relative: str, data: bytes | str) -> Path:
        """A file outside the spec's folder, holding SECRET; its access time is set before
        its modification time, so any read of it moves the access time (relatime)."""
        path = self.outside / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def symlink(self, relative: str, target: str | Path) -> Path:
        path = self.case / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
        return path

    def spec(self, spec: Spec, name: str = "claim.ac") -> Path:
        text = render_yaml(spec) if name.endswith((".yaml", ".yml")) else render_ac(spec)
        return self.write(name, text.encode("utf-8", "surrogatepass"))


def write_base_records(folder: Folder, fmt: str = "jsonl", path: str | None = None) -> str:
    rows = canonical_rows()
    path = path or f"data/h.{fmt}"
    if fmt == "jsonl":
        folder.write(path, jsonl_bytes(rows))
    elif fmt == "csv":
        folder.write(path, csv_bytes(rows))
    elif fmt == "parquet":
        folder.write(path, parquet_bytes(rows_table(rows)))
    else:
        raise ValueError(fmt)
    return path


def write_base_adapters(folder: Folder) -> None:
    for role, path, _ in BASE_ADAPTERS:
        write_peft(folder.case / path, role)


def base_spec(adapters: bool | tuple = False, **changes: Any) -> Spec:
    """The base claim; `adapters` is True (the base adapters) or the adapter entries."""
    chosen = adapters if isinstance(adapters, tuple) else BASE_ADAPTERS if adapters else ()
    return Spec(adapters=chosen).with_(**changes)


def outside_secret_records() -> bytes:
    """Valid canonical records whose subjects carry SECRET: if accard reads them, the card
    (and any problem about them) shows the token."""
    rows = canonical_rows(prefix=SECRET)
    return jsonl_bytes(rows)
