"""The hostile corpus: every case is built at test time into its own folder from fixed
seeds, and declares what a careful security reviewer expects accard to do with it.

Categories follow issue #14: `confine` (files outside the spec's folder), `hang`,
`memory`, `internal` (inputs that used to crash with exit 3; split by reader), `output`
(what is written). Acceptance cases (exit 0/1) are the controls that prove the base data
is valid, and the inputs that must NOT be refused (e.g. U+2028 inside a JSONL string).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import build as b
from .build import (
    BASE_ADAPTERS,
    BZIP2,
    DEFLATED,
    LZMA,
    SECRET,
    ZSTD,
    Data,
    Folder,
    Raw,
    RecordFile,
    Spec,
    ZipEntry,
)
from .harness import Case, Where

REPO = Path(__file__).resolve().parents[2]
GOLDEN_CARD = REPO / "tests" / "golden" / "safelora.card.json"

CHECK = ("check", "claim.ac", "--out", "card.json")
CHECK_YAML = ("check", "claim.yaml", "--out", "card.json")
PLAN = ("plan", "claim.ac", "--json")
PLAN_YAML = ("plan", "claim.yaml", "--json")
CARD = ("card.json",)

OUTSIDE_SPEC_HINT = r"outside|symlink|leaves|escape|confin"
TOO_LARGE = r"too (large|big|long|many)|limit|exceed|cap\b|at most|bytes"

CASES: list[Case] = []


def case(**fields: Any) -> Case:
    made = Case(**fields)
    assert made.name not in {c.name for c in CASES}, made.name
    CASES.append(made)
    return made


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ac_value(value: Any) -> str:
    return b._ac(value)


def _yaml_value(value: Any) -> str:
    return b._yaml(value)


# --- building blocks ---------------------------------------------------------------------------


def base(
    spec: Spec | None = None,
    *,
    adapters: bool = False,
    records: str = "jsonl",
    spec_name: str = "claim.ac",
    then: Callable[[Folder], None] | None = None,
) -> Callable[[Folder], None]:
    """Base records (data/h.<records>), optional base adapters, `then`, then the spec."""
    spec = spec or b.base_spec(adapters=adapters)
    if records != "jsonl" and spec.heldout.files == (RecordFile("data/h.jsonl"),):
        spec = spec.with_(heldout=Data(files=(RecordFile(f"data/h.{records}"),)))

    def make(folder: Folder) -> None:
        b.write_base_records(folder, records)
        if adapters:
            b.write_base_adapters(folder)
        if then is not None:
            then(folder)
        folder.spec(spec, spec_name)

    return make


def spec_problem(
    name: str,
    spec: Spec,
    value: Any,
    field: str,
    message: str | None,
    *,
    category: str = "internal",
    fmt: str = "ac",
    adapters: bool = False,
    then: Callable[[Folder], None] | None = None,
    command: str = "check",
    note: str = "",
) -> Case:
    """A spec whose field holds `value`; the problem must point at the line showing it."""
    spec_name = "claim.ac" if fmt == "ac" else "claim.yaml"
    rendered = _ac_value(value) if fmt == "ac" else _yaml_value(value)
    line = (b.ac_line if fmt == "ac" else b.yaml_line)(spec, rendered)
    args = (
        ("check", spec_name, "--out", "card.json")
        if command == "check"
        else ("plan", spec_name, "--json")
    )
    return case(
        name=name,
        category=category,
        reader="spec",
        command=args,
        build=base(spec, adapters=adapters, spec_name=spec_name, then=then),
        message=message,
        where=Where(spec_name, line, field=field),
        note=note,
    )


def both_fronts(name: str, spec: Spec, value: Any, field: str, message: str | None, **kw: Any):
    spec_problem(f"{name}.ac", spec, value, field, message, fmt="ac", **kw)
    spec_problem(f"{name}.yaml", spec, value, field, message, fmt="yaml", **kw)


def accept(
    name: str,
    category: str,
    reader: str,
    make: Callable[[Folder], None],
    command: tuple[str, ...] = CHECK,
    note: str = "",
    **kw: Any,
) -> Case:
    creates = kw.pop("creates", CARD if command[0] == "check" and "--out" in command else ())
    exits = (0,) if command[0] in ("plan", "validate", "fmt") else (0, 1)
    if command[0] == "diff":
        exits = (0,)
    return case(
        name=name,
        category=category,
        reader=reader,
        command=command,
        build=make,
        exit=exits,
        creates=creates,
        note=note,
        **kw,
    )


def rows_with(changes: dict[int, dict[str, Any]], rows: list[dict] | None = None) -> list[dict]:
    rows = [dict(r) for r in (rows or b.canonical_rows())]
    for index, change in changes.items():
        rows[index].update(change)
    return rows


def records_problem(
    name: str,
    data: bytes | Callable[[], bytes],
    fmt: str,
    line: int | None,
    field: str | None,
    message: str | None,
    *,
    reader: str | None = None,
    category: str = "internal",
    member: str | None = None,
    spec: Spec | None = None,
    path: str | None = None,
    rss_mib: int | None = None,
    command: tuple[str, ...] = CHECK,
    note: str = "",
    exit: tuple[int, ...] = (2,),
) -> Case:
    """Held-out records in `data` (at data/h.<fmt> unless `path`); no adapters."""
    path = path or f"data/h.{fmt}"
    spec = spec or b.base_spec(heldout=Data(files=(RecordFile(path),)))

    def make(folder: Folder) -> None:
        folder.write(path, data() if callable(data) else data)
        folder.spec(spec)

    extra: dict[str, Any] = {}
    if rss_mib is not None:
        extra["rss_mib"] = rss_mib
    if exit != (2,):
        return accept(name, category, reader or fmt, make, command, note, **extra)
    return case(
        name=name,
        category=category,
        reader=reader or fmt,
        command=command,
        build=make,
        message=message,
        where=Where(path, line, member, field),
        note=note,
        **extra,
    )


# ================================================================================================
# 1. Confinement: nothing outside the spec's folder is read, hashed or shown.
# ================================================================================================


def _outside_records(folder: Folder) -> None:
    folder.write_outside("secret.jsonl", b.outside_secret_records())


SECRET_RECORDS_SHA = sha_of(b.outside_secret_records())


def _outside_peft(folder: Folder, role: str = "undefended") -> Path:
    target = folder.outside / "peft"
    b.write_peft(target, role)
    config = b.adapter_config(note=SECRET)
    (target / "adapter_config.json").write_text(json.dumps(config))
    return target


OUTSIDE_CONFIG = json.dumps(b.adapter_config(note=SECRET)).encode()
OUTSIDE_WEIGHTS = b.safetensors_bytes(b.lora_tensors("undefended"), {"note": SECRET})
OUTSIDE_FULL_WEIGHTS = b.safetensors_bytes(b.full_weights(), {"note": SECRET})
SAFELORA_ADAPTERS = BASE_ADAPTERS + (
    ("base", "weights/base.safetensors", None),
    ("aligned", "weights/aligned.safetensors", None),
)


def _write_weights(folder: Folder) -> None:
    folder.write("weights/base.safetensors", b.safetensors_bytes(b.full_weights(seed=0)))
    folder.write("weights/aligned.safetensors", b.safetensors_bytes(b.full_weights(seed=1)))


def _confine_cases() -> None:
    heldout_line = b.ac_line(b.base_spec(), '"data/h.jsonl"')
    records_where = Where("claim.ac", heldout_line, field="claim.heldout.file[0]")
    forbid = (SECRET, SECRET_RECORDS_SHA)

    def records_link(target: str) -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            _outside_records(folder)
            folder.symlink("data/h.jsonl", target)
            folder.spec(b.base_spec())

        return make

    for command, tag in ((CHECK, "check"), (PLAN, "plan")):
        case(
            name=f"confine/records_symlink_relative.{tag}",
            category="confine",
            reader="jsonl",
            command=command,
            build=records_link("../../outside/secret.jsonl"),
            message=OUTSIDE_SPEC_HINT,
            where=records_where,
            forbid=forbid,
        )
    case(
        name="confine/records_symlink_absolute.check",
        category="confine",
        reader="jsonl",
        command=CHECK,
        build=lambda f: records_link(str(f.outside / "secret.jsonl"))(f),
        message=OUTSIDE_SPEC_HINT,
        where=records_where,
        forbid=forbid,
    )

    def records_dir_link(folder: Folder) -> None:
        _outside_records(folder)
        folder.symlink("data", "../outside")
        folder.spec(b.base_spec(heldout=Data(files=(RecordFile("data/secret.jsonl"),))))

    line = b.ac_line(b.base_spec(heldout=Data(files=(RecordFile("data/secret.jsonl"),))), "secret")
    case(
        name="confine/records_parent_dir_symlink.plan",
        category="confine",
        reader="jsonl",
        command=PLAN,
        build=records_dir_link,
        message=OUTSIDE_SPEC_HINT,
        where=Where("claim.ac", line, field="claim.heldout.file[0]"),
        forbid=forbid,
    )

    def chain(folder: Folder) -> None:
        _outside_records(folder)
        folder.symlink("links/x.jsonl", "../../outside/secret.jsonl")
        folder.symlink("data/h.jsonl", "../links/x.jsonl")
        folder.spec(b.base_spec())

    case(
        name="confine/records_symlink_chain_inside_then_out.check",
        category="confine",
        reader="jsonl",
        command=CHECK,
        build=chain,
        message=OUTSIDE_SPEC_HINT,
        where=records_where,
        forbid=forbid,
    )

    def proc_environ(folder: Folder) -> None:
        folder.symlink("data/h.jsonl", "/proc/self/environ")
        folder.spec(b.base_spec())

    case(
        name="confine/records_symlink_proc_environ.check",
        category="confine",
        reader="jsonl",
        command=CHECK,
        build=proc_environ,
        message=OUTSIDE_SPEC_HINT,
        where=records_where,
        forbid=(SECRET,),
        note="the environment of the reviewer's shell must not leak",
    )

    # Adapter directories and the files inside them.
    adapter_line = b.ac_line(b.base_spec(adapters=True), '"adapters/u"')
    adapter_where = Where("claim.ac", adapter_line, field="claim.adapters.undefended.path")

    def adapter_dir_link(folder: Folder) -> None:
        _outside_peft(folder)
        folder.symlink("adapters/u", "../../outside/peft")

    for command, tag in ((CHECK, "check"), (PLAN, "plan")):
        case(
            name=f"confine/adapter_dir_symlink.{tag}",
            category="confine",
            reader="adapter_config",
            command=command,
            build=base(
                adapters=True, then=lambda f: (_unlink_tree(f, "adapters/u"), adapter_dir_link(f))
            ),
            message=OUTSIDE_SPEC_HINT,
            where=adapter_where,
            forbid=(SECRET, sha_of(OUTSIDE_CONFIG)),
        )

    def inner_link(name: str, content: bytes, also_remove: str | None = None):
        def make(folder: Folder) -> None:
            folder.write_outside(f"stolen/{name}", content)
            (folder.case / "adapters/u" / name).unlink(missing_ok=True)
            if also_remove:
                (folder.case / "adapters/u" / also_remove).unlink()
            folder.symlink(f"adapters/u/{name}", f"../../../outside/stolen/{name}")

        return make

    inner = (
        ("adapter_config.json", OUTSIDE_CONFIG, None, "adapter_config"),
        ("adapter_model.safetensors", OUTSIDE_WEIGHTS, None, "safetensors"),
    )
    for name, content, remove, reader in inner:
        for command, tag in ((CHECK, "check"), (PLAN, "plan")):
            case(
                name=f"confine/adapter_inner_{name}_symlink.{tag}",
                category="confine",
                reader=reader,
                command=command,
                build=base(adapters=True, then=inner_link(name, content, remove)),
                message=OUTSIDE_SPEC_HINT,
                where=Where(f"adapters/u/{name}"),
                forbid=(SECRET, sha_of(content)),
            )
    bin_bytes_holder: dict[str, bytes] = {}

    def bin_link(folder: Folder) -> None:
        data = b.torch_bin(b.torch_lora_tensors("undefended") | {})
        bin_bytes_holder["bin"] = data
        inner_link("adapter_model.bin", data, "adapter_model.safetensors")(folder)

    case(
        name="confine/adapter_inner_bin_symlink.check",
        category="confine",
        reader="bin",
        command=CHECK,
        build=base(adapters=True, then=bin_link),
        message=OUTSIDE_SPEC_HINT,
        where=Where("adapters/u/adapter_model.bin"),
    )

    def config_environ(folder: Folder) -> None:
        (folder.case / "adapters/u/adapter_config.json").unlink()
        folder.symlink("adapters/u/adapter_config.json", "/proc/self/environ")

    case(
        name="confine/adapter_config_symlink_proc_environ.plan",
        category="confine",
        reader="adapter_config",
        command=PLAN,
        build=base(adapters=True, then=config_environ),
        message=OUTSIDE_SPEC_HINT,
        where=Where("adapters/u/adapter_config.json"),
        forbid=(SECRET,),
    )

    # Plain .safetensors adapters and base/aligned weights.
    plain = b.base_spec(adapters=False).with_(
        adapters=(("undefended", "plain/u.safetensors", 2.0),) + BASE_ADAPTERS[1:]
    )

    def plain_link(folder: Folder) -> None:
        folder.write_outside("u.safetensors", OUTSIDE_WEIGHTS)
        folder.symlink("plain/u.safetensors", "../../outside/u.safetensors")

    case(
        name="confine/plain_adapter_symlink.check",
        category="confine",
        reader="safetensors",
        command=CHECK,
        build=base(plain, adapters=True, then=plain_link),
        message=OUTSIDE_SPEC_HINT,
        where=Where(
            "claim.ac", b.ac_line(plain, "plain/u"), field="claim.adapters.undefended.path"
        ),
        forbid=(SECRET, sha_of(OUTSIDE_WEIGHTS)),
    )
    safelora = b.base_spec(adapters=True).with_(adapters=SAFELORA_ADAPTERS)
    for role, command, tag in (("base", CHECK, "check"), ("aligned", PLAN, "plan")):

        def weights_link(folder: Folder, role: str = role) -> None:
            _write_weights(folder)
            folder.write_outside(f"{role}.safetensors", OUTSIDE_FULL_WEIGHTS)
            (folder.case / f"weights/{role}.safetensors").unlink()
            folder.symlink(f"weights/{role}.safetensors", f"../../outside/{role}.safetensors")

        case(
            name=f"confine/{role}_weights_symlink.{tag}",
            category="confine",
            reader="weights",
            command=command,
            build=base(safelora, adapters=True, then=weights_link),
            message=OUTSIDE_SPEC_HINT,
            where=Where(
                "claim.ac", b.ac_line(safelora, f"weights/{role}"), field=f"claim.adapters.{role}"
            ),
            forbid=(SECRET, sha_of(OUTSIDE_FULL_WEIGHTS)),
        )

    # The spec itself.
    outside_spec = b.base_spec(title=f"title {SECRET}")

    def spec_link(target: str | None, yaml: bool = False):
        def make(folder: Folder) -> None:
            b.write_base_records(folder)
            text = b.render_yaml(outside_spec) if yaml else b.render_ac(outside_spec)
            folder.write_outside("claim.yaml" if yaml else "claim.ac", text)
            name = "claim.yaml" if yaml else "claim.ac"
            folder.symlink(name, target or f"../outside/{name}")

        return make

    for command, tag in ((CHECK, "check"), (PLAN, "plan")):
        case(
            name=f"confine/spec_symlink_outside.{tag}",
            category="confine",
            reader="spec",
            command=command,
            build=spec_link(None),
            message=OUTSIDE_SPEC_HINT,
            where=Where("claim.ac"),
            forbid=(SECRET,),
            note="the spec is read through a symlink to another folder: its text (shown in "
            "problem snippets and the card) is outside content",
        )
    case(
        name="confine/spec_symlink_outside_yaml.check",
        category="confine",
        reader="spec",
        command=CHECK_YAML,
        build=spec_link(None, yaml=True),
        message=OUTSIDE_SPEC_HINT,
        where=Where("claim.yaml"),
        forbid=(SECRET,),
    )
    case(
        name="confine/spec_symlink_proc_environ.check",
        category="confine",
        reader="spec",
        command=CHECK,
        build=spec_link("/proc/self/environ"),
        message=OUTSIDE_SPEC_HINT,
        where=Where("claim.ac"),
        forbid=(SECRET,),
        note="a problem snippet would print the reviewer's environment",
    )

    # Backslashes: checked as `/`, opened as a literal name.
    def backslash(symlinked: bool, spec_name: str):
        def make(folder: Folder) -> None:
            b.write_base_records(folder, path="sub/h.jsonl")
            if symlinked:
                _outside_records(folder)
                folder.symlink("sub\\h.jsonl", "../outside/secret.jsonl")
            else:
                folder.write("sub\\h.jsonl", b.jsonl_bytes(b.canonical_rows()))
            folder.spec(backslash_spec, spec_name)

        return make

    backslash_spec = b.base_spec(heldout=Data(files=(RecordFile("sub\\h.jsonl"),)))
    for symlinked, fmt in ((True, "ac"), (False, "ac"), (False, "yaml")):
        spec_name = f"claim.{fmt}"
        line = (b.ac_line if fmt == "ac" else b.yaml_line)(backslash_spec, "sub\\\\h")
        case(
            name=f"confine/backslash_path{'_symlink' if symlinked else ''}.{fmt}",
            category="confine",
            reader="spec",
            command=("check", spec_name, "--out", "card.json"),
            build=backslash(symlinked, spec_name),
            message=r"backslash|\\",
            where=Where(spec_name, line, field="claim.heldout.file[0]"),
            forbid=(SECRET, SECRET_RECORDS_SHA),
            note="a backslash is checked as `/` but opened as a literal file name; refuse it",
        )

    # Symlink loops.
    def loop(relative: str, target: str, spec: Spec | None = None, adapters: bool = False):
        def make(folder: Folder) -> None:
            path = folder.case / relative
            if path.is_dir() and not path.is_symlink():
                _unlink_tree(folder, relative)
            elif path.exists():
                path.unlink()
            folder.symlink(relative, target)

        return base(spec, adapters=adapters, then=make)

    case(
        name="confine/symlink_loop_records.check",
        category="confine",
        reader="jsonl",
        command=CHECK,
        build=loop("data/h.jsonl", "h.jsonl"),
        message=r"loop|symlink|levels",
        where=records_where,
    )
    case(
        name="confine/symlink_loop_pair_records.plan",
        category="confine",
        reader="jsonl",
        command=PLAN,
        build=lambda f: (_pair_loop(f), f.spec(b.base_spec())),
        message=r"loop|symlink|levels",
        where=records_where,
    )
    case(
        name="confine/symlink_loop_adapter_dir.check",
        category="confine",
        reader="adapter_config",
        command=CHECK,
        build=loop("adapters/u", "u", adapters=True),
        message=r"loop|symlink|levels",
        where=adapter_where,
    )
    case(
        name="confine/symlink_loop_adapter_config.check",
        category="confine",
        reader="adapter_config",
        command=CHECK,
        build=loop("adapters/u/adapter_config.json", "adapter_config.json", adapters=True),
        message=r"loop|symlink|levels|not a PEFT",
        where=Where("adapters/u/"),
    )
    case(
        name="confine/symlink_loop_adapter_weights.plan",
        category="confine",
        reader="safetensors",
        command=PLAN,
        build=loop(
            "adapters/u/adapter_model.safetensors", "adapter_model.safetensors", adapters=True
        ),
        message=r"loop|symlink|levels|not a PEFT",
        where=Where("adapters/u/"),
    )

    # Inside links are fine: acceptance controls.
    def inside_links(folder: Folder) -> None:
        (folder.case / "data/h.jsonl").unlink()
        b.write_base_records(folder, path="store/h.jsonl")
        folder.symlink("data/h.jsonl", "../store/h.jsonl")
        b.write_peft(folder.case / "store/u", "undefended")
        folder.symlink("adapters/u", "../store/u")

    accept(
        "confine/inside_symlinks_accepted",
        "confine",
        "jsonl",
        base(
            b.base_spec(adapters=True),
            adapters=False,
            then=lambda f: (
                inside_links(f),
                b.write_peft(f.case / "adapters/d", "defended"),
                b.write_peft(f.case / "adapters/r", "reference"),
            ),
        ),
        note="symlinks that stay inside the spec's folder are legitimate",
    )


def _unlink_tree(folder: Folder, relative: str) -> None:
    import shutil

    path = folder.case / relative
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _pair_loop(folder: Folder) -> None:
    folder.symlink("data/h.jsonl", "g.jsonl")
    folder.symlink("data/g.jsonl", "h.jsonl")


# ================================================================================================
# 2. Hangs: FIFOs, regex patterns, work that grows without bound.
# ================================================================================================


def _fifo(folder: Folder, relative: str) -> None:
    path = folder.case / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def _card_text() -> str:
    return GOLDEN_CARD.read_text(encoding="utf-8")


def _hang_cases() -> None:
    not_regular = r"regular file|not a file|FIFO|pipe|device|special"
    for spec_name, command in (("claim.ac", CHECK), ("claim.yaml", PLAN_YAML)):
        case(
            name=f"hang/spec_fifo.{spec_name}",
            category="hang",
            reader="spec",
            command=command,
            build=lambda f, n=spec_name: (b.write_base_records(f), _fifo(f, n)),
            message=not_regular,
            where=Where(spec_name),
        )
    case(
        name="hang/spec_fifo.plan_text",
        category="hang",
        reader="spec",
        command=("plan", "claim.ac"),
        build=lambda f: _fifo(f, "claim.ac"),
        message=not_regular,
        where=Where("claim.ac"),
    )
    for command in ("validate", "show"):
        case(
            name=f"hang/card_fifo.{command}",
            category="hang",
            reader="card",
            command=(command, "card.json"),
            build=lambda f: _fifo(f, "card.json"),
            message=not_regular,
            where=Where("card.json"),
        )
    case(
        name="hang/card_fifo.diff",
        category="hang",
        reader="card",
        command=("diff", "old.json", "card.json"),
        build=lambda f: (f.write("old.json", _card_text()), _fifo(f, "card.json")),
        message=not_regular,
        where=Where("card.json"),
    )

    # rank_pattern / alpha_pattern keys are regexes in PEFT.
    def pattern_config(key: str, patterns: dict[str, Any]) -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            config = b.adapter_config(**{key: patterns})
            (folder.case / "adapters/u/adapter_config.json").write_text(json.dumps(config))

        return make

    config_where = lambda key: Where("adapters/u/adapter_config.json", field=key)  # noqa: E731
    for key in ("rank_pattern", "alpha_pattern"):
        value = 2 if key == "rank_pattern" else 4
        case(
            name=f"hang/{key}_invalid_regex",
            category="hang",
            reader="adapter_config",
            command=CHECK,
            build=base(adapters=True, then=pattern_config(key, {"q_proj(": value})),
            message=r"pattern|regex|regular expression",
            where=config_where(key),
        )
        many = {f"model.layers.{i}.mlp.gate_proj": value for i in range(200_000)}
        case(
            name=f"hang/{key}_200k_keys",
            category="hang",
            reader="adapter_config",
            command=CHECK,
            build=base(adapters=True, then=pattern_config(key, many)),
            message=TOO_LARGE + r"|pattern",
            where=config_where(key),
            note="200,000 pattern keys (a real config has one per adapted module at most); "
            "refusing past a documented count, or matching them without a regex per key, "
            "both answer in time — the expectation is a located refusal",
        )

    # Catastrophic backtracking: module names of 40 `a`s, pattern (a+)+b.
    modules = ("model.layers.0." + "a" * 40, "model.layers.1." + "a" * 40)

    def redos(key: str) -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            rng = np.random.default_rng(b.SEED)
            for role in ("u", "d", "r"):
                tensors = {}
                for module in modules:
                    tensors[b.lora_key(module, "lora_A")] = rng.standard_normal((2, 16)).astype(
                        np.float32
                    )
                    tensors[b.lora_key(module, "lora_B")] = rng.standard_normal((16, 2)).astype(
                        np.float32
                    )
                folder.write(
                    f"adapters/{role}/adapter_model.safetensors", b.safetensors_bytes(tensors)
                )
                value = 2 if key == "rank_pattern" else 4
                config = b.adapter_config(**({key: {"(a+)+b": value}} if role == "u" else {}))
                folder.write(f"adapters/{role}/adapter_config.json", json.dumps(config))

        return make

    for key in ("rank_pattern", "alpha_pattern"):
        case(
            name=f"hang/{key}_catastrophic_backtracking",
            category="hang",
            reader="adapter_config",
            command=CHECK,
            build=base(adapters=False, spec=b.base_spec(adapters=True), then=redos(key)),
            message=r"pattern|regex|regular expression",
            where=config_where(key),
            note="(a+)+b against a 40-character module name backtracks for hours; a pattern "
            "accard cannot match in bounded time must be refused, located",
        )

    # Bootstrap work: B x G.
    many_clusters = b.canonical_rows(questions=20_000, templates=1, subjects=40)
    big = b.base_spec(settings=(("resamples", 1_000_000),))
    case(
        name="hang/resamples_1e6_x_20k_clusters",
        category="hang",
        reader="spec",
        command=CHECK,
        build=lambda f: (f.write("data/h.jsonl", b.jsonl_bytes(many_clusters)), f.spec(big)),
        message=r"resamples|" + TOO_LARGE,
        where=Where("claim.ac", b.ac_line(big, "1000000"), field="claim.settings.resamples"),
        note="2e10 cluster draws: hours of work; refuse what cannot finish (a work budget "
        "on resamples x clusters), at the resamples line",
    )
    case(
        name="hang/resamples_option_1e6_x_20k_clusters",
        category="hang",
        reader="spec",
        command=CHECK + ("--resamples", "1000000"),
        build=lambda f: (
            f.write("data/h.jsonl", b.jsonl_bytes(many_clusters)),
            f.spec(b.base_spec()),
        ),
        message=r"resamples|" + TOO_LARGE,
        where=Where("--resamples"),
        note="the command-line override is the input at fault; the problem names it",
    )
    ten_thousand = b.canonical_rows(questions=10_000, templates=1, subjects=40)
    accept(
        "hang/bootstrap_10k_clusters_default_resamples",
        "hang",
        "jsonl",
        lambda f: (
            f.write("data/h.jsonl", b.jsonl_bytes(ten_thousand)),
            f.spec(b.base_spec(settings=(("resamples", 5000),))),
        ),
        rss_mib=384,
        note="judgment: 10,000 questions (MMLU has 14k) x B = 5000 is a legitimate claim; "
        "the (B, G) float64 multiplicity matrix is 400 MB if materialised at once, where "
        "batches of it need a few MB: 384 MiB peak",
    )
    targets = tuple(Data(name=f"t{i}", files=(RecordFile("data/h.jsonl"),)) for i in range(2000))
    flood = b.base_spec(transfer=targets, settings=(("resamples", 1_000_000),))
    case(
        name="hang/2000_transfer_targets_x_1e6_resamples",
        category="hang",
        reader="spec",
        command=CHECK,
        build=base(flood),
        message=r"resamples|transfer|" + TOO_LARGE,
        where=Where("claim.ac"),
        note="2,000 targets x 1e6 resamples: a work budget must refuse it up front",
    )

    # Big-but-legal spec text.
    junk = b.base_spec(extra_claim="\n".join(f"  junk{i} {i}" for i in range(30_000)))
    case(
        name="hang/30k_unknown_keywords.ac",
        category="hang",
        reader="spec",
        command=CHECK,
        build=base(junk),
        message=r"unknown",
        where=Where("claim.ac", b.ac_line(junk, "junk0 "), field="claim.junk0"),
    )

    def yaml_flow(folder: Folder) -> None:
        b.write_base_records(folder)
        text = b.render_yaml(b.base_spec())
        text += "  junk: [" + ",".join("0" for _ in range(480_000)) + "]\n"
        folder.write("claim.yaml", text)

    case(
        name="hang/yaml_480k_node_flow_sequence",
        category="hang",
        reader="spec",
        command=PLAN_YAML,
        build=yaml_flow,
        message=None,
        where=Where("claim.yaml"),
        note="a 1 MiB YAML spec of 480k nodes must be refused within the time limit",
    )


# ================================================================================================
# 3. Unbounded memory: decompression bombs, dictionary bombs, endless or huge files.
# ================================================================================================


def _sparse(folder: Folder, relative: str, size: int) -> None:
    path = folder.case / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)


INSPECT_SPEC = b.base_spec(
    records=Raw("inspect"),
    heldout=Data(
        files=(), undefended=(RecordFile("data/u.eval"),), defended=(RecordFile("data/d.eval"),)
    ),
)
INSPECT_JSON_SPEC = b.base_spec(
    records=Raw("inspect"),
    heldout=Data(
        files=(), undefended=(RecordFile("data/u.json"),), defended=(RecordFile("data/d.json"),)
    ),
)


def inspect_folder(
    u_extra: list[ZipEntry] = (),
    u_samples: list[dict] | None = None,
    method: int = ZSTD,
    u_bytes: Callable[[], bytes] | None = None,
) -> Callable[[Folder], None]:
    rows = b.canonical_rows()

    def make(folder: Folder) -> None:
        samples = u_samples if u_samples is not None else b.inspect_samples(rows, "undefended")
        data = u_bytes() if u_bytes else b.eval_bytes(samples, method, list(u_extra))
        folder.write("data/u.eval", data)
        folder.write("data/d.eval", b.eval_bytes(b.inspect_samples(rows, "defended"), method))
        folder.spec(INSPECT_SPEC)

    return make


def _memory_cases() -> None:
    member = "samples/bomb_epoch_1.json"
    for method, label in ((BZIP2, "bzip2"), (LZMA, "lzma"), (ZSTD, "zstd"), (DEFLATED, "deflate")):
        case(
            name=f"memory/eval_member_bomb_{label}",
            category="memory",
            reader="inspect_eval",
            command=CHECK,
            build=lambda f, m=method: inspect_folder([b.bomb(m)])(f),
            message=TOO_LARGE + r"|inflat",
            where=Where("data/u.eval", member=member),
            rss_mib=400,
            note="control: the member states its true size (560 MB), refused before inflating",
        )
    for method, label in ((BZIP2, "bzip2"), (LZMA, "lzma"), (ZSTD, "zstd"), (DEFLATED, "deflate")):
        case(
            name=f"memory/eval_member_bomb_{label}_lying_size",
            category="memory",
            reader="inspect_eval",
            command=CHECK,
            build=lambda f, m=method: inspect_folder([replace(b.bomb(m), size=100)])(f),
            message=TOO_LARGE + r"|inflat|size",
            where=Where("data/u.eval", member=member),
            rss_mib=400,
            note="the header says 100 bytes, the data inflates to 560 MB: the cap must hold "
            "while inflating (bz2, LZMA and zstd members are decompressed in one call)",
        )

    def dict_bomb(store_schema: bool) -> Callable[[], bytes]:
        def make() -> bytes:
            import pyarrow as pa

            n = 4_000_000
            column = pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int32)), pa.array(["x" * 256])
            )
            small = lambda v: pa.DictionaryArray.from_arrays(  # noqa: E731
                pa.array(np.zeros(n, dtype=np.int32)), pa.array([v])
            )
            table = pa.table(
                {
                    "question_id": column,
                    "template_id": small("t0"),
                    "subject": small("s"),
                    "condition": small("deploy"),
                    "arm": small("undefended"),
                    "correct": pa.array(np.zeros(n)),
                }
            )
            return b.parquet_bytes(
                table, store_schema=store_schema, row_group_size=n, compression="zstd"
            )

        return make

    for store_schema, tag in ((False, "plain"), (True, "arrow_dictionary")):
        records_problem(
            f"memory/parquet_dictionary_bomb_{tag}",
            dict_bomb(store_schema),
            "parquet",
            None,
            None,
            TOO_LARGE + r"|rows|memory",
            category="memory",
            rss_mib=1024,
            note="~600 KB of Parquet: 4 M rows of one 256-byte dictionary string "
            "decode to 1 GiB as Arrow strings and far more as Python objects; "
            "refuse before decoding (row count x width from the metadata)",
        )

    def dev_zero_spec(folder: Folder) -> None:
        b.write_base_records(folder)
        folder.symlink("claim.ac", "/dev/zero")

    case(
        name="memory/spec_symlink_dev_zero.check",
        category="memory",
        reader="spec",
        command=CHECK,
        build=dev_zero_spec,
        message=r"regular file|not a file|device|" + OUTSIDE_SPEC_HINT,
        where=Where("claim.ac"),
    )
    case(
        name="memory/spec_symlink_dev_zero.plan",
        category="memory",
        reader="spec",
        command=PLAN,
        build=dev_zero_spec,
        message=r"regular file|not a file|device|" + OUTSIDE_SPEC_HINT,
        where=Where("claim.ac"),
    )
    case(
        name="memory/card_symlink_dev_zero.show",
        category="memory",
        reader="card",
        command=("show", "card.json"),
        build=lambda f: f.symlink("card.json", "/dev/zero"),
        message=r"regular file|not a file|device|" + TOO_LARGE,
        where=Where("card.json"),
    )
    case(
        name="memory/records_symlink_dev_zero.check",
        category="memory",
        reader="jsonl",
        command=CHECK,
        build=lambda f: (f.symlink("data/h.jsonl", "/dev/zero"), f.spec(b.base_spec())),
        message=r"regular file|not a file|device|" + OUTSIDE_SPEC_HINT,
        where=Where(
            "claim.ac", b.ac_line(b.base_spec(), "data/h.jsonl"), field="claim.heldout.file[0]"
        ),
    )

    # Sizes: sparse files cost no disk and no time to make.
    over = (1 << 30) + 1
    for fmt, reader in (("jsonl", "jsonl"), ("csv", "csv"), ("parquet", "parquet")):
        records_problem(
            f"memory/records_over_1GiB_sparse.{fmt}",
            b"",
            fmt,
            None,
            None,
            TOO_LARGE,
            reader=reader,
            category="memory",
            rss_mib=512,
            note="1 GiB + 1 byte (sparse): refused from its size, without reading it",
        )
        CASES[-1] = replace(CASES[-1], build=_sparse_records(fmt, over))
    records_problem(
        "memory/records_64GiB_sparse.plan",
        b"",
        "jsonl",
        None,
        None,
        TOO_LARGE,
        category="memory",
        command=PLAN,
        rss_mib=512,
        note="plan must not hash 64 GiB (a minute of I/O) of a file check refuses",
    )
    CASES[-1] = replace(CASES[-1], build=_sparse_records("jsonl", 64 << 30))
    records_problem(
        "memory/inspect_eval_64GiB_sparse",
        b"",
        "eval",
        None,
        None,
        TOO_LARGE,
        reader="inspect_eval",
        category="memory",
        rss_mib=512,
        spec=INSPECT_SPEC,
        path="data/u.eval",
    )
    CASES[-1] = replace(
        CASES[-1], build=lambda f: (inspect_folder()(f), _sparse(f, "data/u.eval", 64 << 30))
    )
    near = 600 << 20
    records_problem(
        "memory/jsonl_600MB_of_NULs_under_cap",
        b"",
        "jsonl",
        1,
        None,
        r"JSON|NUL|control|invalid|" + TOO_LARGE,
        category="memory",
        rss_mib=960,
        note="under the 1 GiB cap, one 600 MB line of NULs: memory must stay "
        "near the file's size (960 MiB budget: no second whole copy as text), and the "
        "problem is line 1",
    )
    CASES[-1] = replace(CASES[-1], build=_sparse_records("jsonl", near))
    records_problem(
        "memory/csv_600MB_of_NULs_under_cap",
        b"",
        "csv",
        1,
        None,
        r"NUL|CSV|invalid|" + TOO_LARGE,
        category="memory",
        rss_mib=960,
    )
    CASES[-1] = replace(CASES[-1], build=_sparse_records("csv", near))

    for role, tag in (("adapters/u/adapter_model.safetensors", "adapter"),):
        case(
            name=f"memory/{tag}_weights_64GiB_sparse",
            category="memory",
            reader="safetensors",
            command=CHECK,
            build=base(adapters=True, then=lambda f, r=role: _sparse(f, r, 64 << 30)),
            message=r"safetensors|header|" + TOO_LARGE,
            where=Where(role),
            rss_mib=512,
            note="a 64 GiB (sparse) weights file must be refused from its size or header, "
            "not read into memory",
        )
    safelora = b.base_spec(adapters=True).with_(adapters=SAFELORA_ADAPTERS)
    case(
        name="memory/base_weights_64GiB_sparse",
        category="memory",
        reader="weights",
        command=CHECK,
        build=base(
            safelora,
            adapters=True,
            then=lambda f: (_write_weights(f), _sparse(f, "weights/base.safetensors", 64 << 30)),
        ),
        message=r"safetensors|header|" + TOO_LARGE,
        where=Where("weights/base.safetensors"),
        rss_mib=512,
    )
    for command in (("validate", "card.json"), ("show", "card.json")):
        case(
            name=f"memory/card_64GiB_sparse.{command[0]}",
            category="memory",
            reader="card",
            command=command,
            build=lambda f: _sparse(f, "card.json", 64 << 30),
            message=TOO_LARGE + r"|JSON",
            where=Where("card.json"),
            rss_mib=512,
            note="a card is a few KB; a 64 GiB one is refused from its size",
        )


def _sparse_records(fmt: str, size: int) -> Callable[[Folder], None]:
    def make(folder: Folder) -> None:
        _sparse(folder, f"data/h.{fmt}", size)
        folder.spec(b.base_spec(heldout=Data(files=(RecordFile(f"data/h.{fmt}"),))))

    return make


# ================================================================================================
# 4. Spec fields: inputs that crash (exit 3) or slip through must be located problems.
# ================================================================================================

SURROGATE = "title \ud800 here"
ESCAPE = "red \x1b[31m\x1b]0;owned\x07 text"
TOO_LONG_COMPONENT = "data/" + "n" * 300 + ".jsonl"
TOO_LONG_PATH = "/".join(["d" * 200] * 25) + "/h.jsonl"
HUGE = "9" * 5000


def _spec_cases() -> None:
    text_fields = (
        ("title", "claim.title", lambda v: b.base_spec(title=v)),
        ("model", "claim.model", lambda v: b.base_spec(model=v)),
        ("defense_name", "claim.defense.name", lambda v: b.base_spec(defense=v)),
        (
            "relabel_reason",
            "claim.defense.relabel.because",
            lambda v: b.base_spec(relabel=(Raw("shrinkage"), v)),
        ),
        ("heldout_task", "claim.heldout.task", lambda v: b.base_spec(heldout=Data(name=v))),
        (
            "transfer_name",
            "claim.transfer[0].name",
            lambda v: b.base_spec(transfer=(Data(name=v),)),
        ),
        (
            "records_field_map",
            "claim.records.subject",
            lambda v: b.base_spec(fields=(("subject", v),)),
        ),
    )
    for tag, field, make in text_fields:
        both_fronts(
            f"spec/lone_surrogate_{tag}",
            make(SURROGATE),
            SURROGATE,
            field,
            r"surrogate|unicode|UTF-8|invalid|character",
            note="a lone surrogate cannot be written as UTF-8: it crashed output "
            "(exit 3) and left an empty temporary file",
        )
    filter_spec = b.base_spec(
        records=Raw("lm_eval"),
        filter=SURROGATE,
        heldout=Data(
            files=(),
            undefended=(RecordFile("data/u.jsonl"),),
            defended=(RecordFile("data/d.jsonl"),),
        ),
    )
    both_fronts(
        "spec/lone_surrogate_lm_eval_filter",
        filter_spec,
        SURROGATE,
        "claim.records.filter",
        r"surrogate|unicode|UTF-8|invalid|character",
        then=_lm_eval_files,
    )
    for tag, field, make in text_fields[:3]:
        both_fronts(
            f"spec/nul_in_{tag}",
            make("a\x00b"),
            "a\x00b",
            field,
            r"NUL|null|control|character|invalid",
            note="judgment: control characters have no place in claim text (NUL "
            "truncates C consumers, the LaTeX and terminal renderings)",
        )
    both_fronts(
        "spec/terminal_escape_in_title",
        b.base_spec(title=ESCAPE),
        ESCAPE,
        "claim.title",
        r"control|escape|character|invalid",
        note="judgment: ESC/BEL in a title would drive the reviewer's terminal when the "
        "card is printed; refuse control characters in claim text",
    )
    both_fronts(
        "spec/terminal_escape_in_relabel_reason",
        b.base_spec(relabel=(Raw("shrinkage"), ESCAPE)),
        ESCAPE,
        "claim.defense.relabel.because",
        r"control|escape|character|invalid",
    )

    # Paths.
    path_fields = (
        (
            "heldout_file",
            "claim.heldout.file[0]",
            lambda v: b.base_spec(heldout=Data(files=(RecordFile(v),))),
        ),
        (
            "fresh_file",
            "claim.fresh.file[0]",
            lambda v: b.base_spec(fresh=Data(name="fresh", files=(RecordFile(v),))),
        ),
        (
            "adapter_path",
            "claim.adapters.undefended.path",
            lambda v: b.base_spec(adapters=(("undefended", v, None),) + BASE_ADAPTERS[1:]),
        ),
        (
            "base_weights",
            "claim.adapters.base",
            lambda v: b.base_spec(
                adapters=BASE_ADAPTERS
                + (("base", v, None), ("aligned", "weights/aligned.safetensors", None))
            ),
        ),
    )
    hostile_paths = (
        ("nul", "data/h\x00.jsonl", r"NUL|null|character|invalid"),
        ("lone_surrogate", "data/\ud800.jsonl", r"surrogate|unicode|UTF-8|invalid|character"),
        ("component_over_255_bytes", TOO_LONG_COMPONENT, r"long|255|" + TOO_LARGE),
        ("path_over_4096_bytes", TOO_LONG_PATH, r"long|4096|" + TOO_LARGE),
        ("backslash", "data\\h.jsonl", r"backslash|\\"),
    )
    for ptag, path, message in hostile_paths:
        for ftag, field, make in path_fields:
            fronts = ("ac", "yaml") if ftag == "heldout_file" else ("ac",)
            for fmt in fronts:
                spec_problem(
                    f"spec/path_{ptag}_{ftag}.{fmt}",
                    make(path),
                    path,
                    field,
                    message,
                    fmt=fmt,
                    adapters=ftag in ("adapter_path", "base_weights"),
                    then=_weights_if(ftag),
                )

    def non_utf8_name(folder: Folder) -> None:
        rows = b.jsonl_bytes(b.canonical_rows())
        (folder.case / "data").mkdir(parents=True, exist_ok=True)
        with open(os.path.join(os.fsencode(folder.case / "data"), b"\x80.jsonl"), "wb") as handle:
            handle.write(rows)

    escaped = "data/\udc80.jsonl"
    spec_problem(
        "spec/path_surrogateescape_names_non_utf8_file.ac",
        b.base_spec(heldout=Data(files=(RecordFile(escaped),))),
        escaped,
        "claim.heldout.file[0]",
        r"surrogate|unicode|UTF-8|invalid|character",
        then=non_utf8_name,
        note="\\udc80 is how Python spells the byte 0x80 in a file name; the file "
        "exists, but its path cannot be written into a UTF-8 card",
    )

    # Huge integers (Python refuses int() of > 4300 digits).
    numbers = (
        ("seed", lambda v: b.base_spec(settings=(("seed", v),)), "claim.settings.seed"),
        (
            "resamples",
            lambda v: b.base_spec(settings=(("resamples", v),)),
            "claim.settings.resamples",
        ),
        (
            "min_clusters",
            lambda v: b.base_spec(settings=(("min_clusters", v),)),
            "claim.settings.min_clusters",
        ),
        (
            "confidence",
            lambda v: b.base_spec(settings=(("confidence", v),)),
            "claim.settings.confidence",
        ),
        (
            "scale",
            lambda v: b.base_spec(
                adapters=(("undefended", "plain/u.safetensors", v),) + BASE_ADAPTERS[1:]
            ),
            "claim.adapters.undefended.scale",
        ),
    )
    for tag, make, field in numbers:
        for fmt in ("ac", "yaml"):
            spec_problem(
                f"spec/5000_digit_{tag}.{fmt}",
                make(Raw(HUGE)),
                Raw(HUGE),
                field,
                r"range|number|digits|large|integer",
                fmt=fmt,
                adapters=tag == "scale",
                then=_plain_adapter if tag == "scale" else None,
            )
    negative = Raw("-" + HUGE)
    spec_problem(
        "spec/5000_digit_negative_seed.ac",
        b.base_spec(settings=(("seed", negative),)),
        negative,
        "claim.settings.seed",
        r"range|number|digits|large|integer",
    )

    def huge_version(fmt: str) -> Case:
        spec_name = f"claim.{fmt}"

        def make(folder: Folder) -> None:
            b.write_base_records(folder)
            text = b.render_ac(b.base_spec()) if fmt == "ac" else b.render_yaml(b.base_spec())
            key = "accard 1" if fmt == "ac" else "accard: 1"
            folder.write(spec_name, text.replace(key, key[:-1] + HUGE, 1))

        return case(
            name=f"spec/5000_digit_language_version.{fmt}",
            category="internal",
            reader="spec",
            command=("check", spec_name, "--out", "card.json"),
            build=make,
            message=r"version|number|digits|large",
            where=Where(spec_name, 1, field="accard"),
        )

    huge_version("ac")
    huge_version("yaml")
    bare = b.base_spec(title=Raw(HUGE))
    spec_problem(
        "spec/5000_digit_bare_title.ac",
        bare,
        Raw(HUGE),
        "claim.title",
        r"string|number|digits|large",
    )

    def yaml_surrogate_key(folder: Folder) -> None:
        b.write_base_records(folder)
        text = b.render_yaml(b.base_spec()) + '  "\\ud800key": 1\n'
        folder.write("claim.yaml", text)

    case(
        name="spec/yaml_lone_surrogate_in_key",
        category="internal",
        reader="spec",
        command=CHECK_YAML,
        build=yaml_surrogate_key,
        message=r"surrogate|unicode|UTF-8|invalid|character|unknown",
        where=Where("claim.yaml", b.render_yaml(b.base_spec()).count("\n") + 1),
    )

    # Controls: limits that already hold, and text that must be accepted.
    deep_yaml = "accard: 1\nclaim: " + "[" * 5000 + "]" * 5000 + "\n"
    case(
        name="spec/yaml_5000_deep",
        category="internal",
        reader="spec",
        command=PLAN_YAML,
        build=lambda f: f.write("claim.yaml", deep_yaml),
        message=r"nested|deep",
        where=Where("claim.yaml"),
    )
    deep_ac = "accard 1\n" + "".join(f"{' ' * i}a{i} {{\n" for i in range(40))
    case(
        name="spec/ac_40_deep_blocks",
        category="internal",
        reader="spec",
        command=PLAN,
        build=lambda f: f.write("claim.ac", deep_ac),
        message=r"nested|deep",
        where=Where("claim.ac", 18),
    )
    both_fronts(
        "spec/confidence_infinity",
        b.base_spec(settings=(("confidence", Raw("1e999", ".inf")),)),
        Raw("1e999", ".inf"),
        "claim.settings.confidence",
        r"range|finite|number",
    )

    def comment_u2028(folder: Folder) -> None:
        b.write_base_records(folder)
        text = b.render_ac(b.base_spec()).replace("accard 1\n", "accard 1  # a\u2028b\u2029c\n")
        folder.write("claim.ac", text)

    accept(
        "spec/u2028_in_comment_accepted",
        "internal",
        "spec",
        comment_u2028,
        note="U+2028/U+2029 in a comment are text, not line breaks",
    )
    accept(
        "spec/unicode_title_accepted",
        "internal",
        "spec",
        base(b.base_spec(title="Δgap ≤ 0 — 安全 \u2028 ok")),
        note="non-ASCII text (and a U+2028 inside a string) is a legitimate title",
    )
    accept(
        "spec/base_claim_ac",
        "internal",
        "spec",
        base(adapters=True),
        note="control: the base claim, records and adapters are valid",
    )
    accept(
        "spec/base_claim_yaml",
        "internal",
        "spec",
        base(b.base_spec(adapters=True), adapters=True, spec_name="claim.yaml"),
        command=CHECK_YAML,
    )
    accept("spec/base_plan_ac", "internal", "spec", base(adapters=True), command=PLAN)


def _lm_eval_files(folder: Folder) -> None:
    rows = b.canonical_rows()
    folder.write("data/u.jsonl", b.jsonl_bytes(b.lm_eval_rows(rows, "undefended")))
    folder.write("data/d.jsonl", b.jsonl_bytes(b.lm_eval_rows(rows, "defended")))


def _plain_adapter(folder: Folder) -> None:
    folder.write("plain/u.safetensors", b.safetensors_bytes(b.lora_tensors("undefended")))


def _weights_if(tag: str) -> Callable[[Folder], None] | None:
    if tag != "base_weights":
        return None
    return _write_weights


# ================================================================================================
# 5. Record readers.
# ================================================================================================


def _records_cases() -> None:
    rows = b.canonical_rows()
    # JSONL: only "\n" ends a line.
    for char, tag in (("\u2028", "u2028"), ("\u2029", "u2029"), ("\u0085", "nel")):
        changed = rows_with({i: {"template_id": f"t{char}x"} for i in range(4, 8)})
        records_problem(
            f"records/jsonl_raw_{tag}_in_string_accepted",
            b.jsonl_bytes(changed),
            "jsonl",
            None,
            None,
            None,
            exit=(0, 1),
            note=f"JSON allows a raw {tag.upper()} inside a string; JSONL lines end "
            "only at \\n, so the row must be read (str.splitlines splits there)",
        )
    shifted = rows_with({1: {"subject": rows[1]["subject"]}, 3: {"correct": 7}})
    text = b.jsonl_bytes(shifted).decode().splitlines(keepends=True)
    for index in range(4):
        text[index] = text[index].replace('"t0"', '"t0\u2028\u2028\u2028"', 1)
    records_problem(
        "records/jsonl_line_numbers_after_u2028",
        "".join(text).encode(),
        "jsonl",
        4,
        "correct",
        r"score|outside|\[0, 1\]",
        note="a bad score on line 4, after rows holding raw U+2028: the problem "
        "names line 4 (lines are counted at \\n only)",
    )
    for field, indices in (
        ("question_id", range(8)),
        ("subject", range(8)),
        ("template_id", range(4)),
    ):
        records_problem(
            f"records/jsonl_lone_surrogate_{field}",
            _json_surrogate_rows(rows_with({i: {field: "x\ud800"} for i in indices})),
            "jsonl",
            1,
            field,
            r"surrogate|unicode|UTF-8|invalid|character",
            note="judgment: a \\ud800 escape decodes to a string UTF-8 cannot "
            "write (a subject goes into the card, ids into problems and plans); "
            "every row of the question carries it, so nothing else is wrong",
        )
    duplicate = rows_with({0: {"template_id": "t\udc00"}})
    duplicate.insert(2, dict(duplicate[0]))
    records_problem(
        "records/jsonl_duplicate_item_with_surrogate_id",
        _json_surrogate_rows(duplicate),
        "jsonl",
        1,
        "template_id",
        r"surrogate|unicode|UTF-8|invalid|character",
        note="the duplicate-item message quotes the id; the id itself is the "
        "problem, at its first row",
    )
    controls = (
        ("nan_score", {2: {"correct": float("nan")}}, 3, "correct", r"NaN|score"),
        ("infinite_score", {2: {"correct": Raw("1e400")}}, 3, "correct", r"score|number|finite"),
        ("score_out_of_range", {2: {"correct": 1.5}}, 3, "correct", r"outside|\[0, 1\]"),
        ("bad_condition", {2: {"condition": "prod"}}, 3, "condition", r"condition"),
        ("bad_arm", {2: {"arm": "both"}}, 3, "arm", r"arm"),
        ("list_question_id", {2: {"question_id": [1, 2]}}, 3, "question_id", r"question_id"),
    )
    for tag, change, line, field, message in controls:
        records_problem(
            f"records/jsonl_{tag}", _raw_jsonl(rows_with(change)), "jsonl", line, field, message
        )
    lines = b.jsonl_bytes(rows).decode().splitlines(keepends=True)
    raw_lines = {
        "5000_digit_integer": lines[:2] + ['{"question_id": ' + HUGE + "}\n"] + lines[2:],
        "100k_deep_nesting": lines[:2] + ["[" * 100_000 + "]" * 100_000 + "\n"] + lines[2:],
        "row_is_array": lines[:2] + ["[1, 2]\n"] + lines[2:],
        "truncated_row": lines[:2] + ['{"question_id": "q\n'] + lines[2:],
    }
    for tag, content in raw_lines.items():
        records_problem(
            f"records/jsonl_{tag}",
            "".join(content).encode(),
            "jsonl",
            3,
            None,
            r"JSON|object|digits|deep|nest",
        )
    records_problem(
        "records/jsonl_invalid_utf8",
        b.jsonl_bytes(rows)[:100] + b"\xff\xfe" + b.jsonl_bytes(rows)[100:],
        "jsonl",
        None,
        None,
        r"UTF-8",
    )
    records_problem("records/jsonl_empty_file", b"", "jsonl", None, None, r"empty")
    records_problem(
        "records/jsonl_10k_bad_rows_stop_at_20",
        b.jsonl_bytes([{"question_id": "q"}] * 10_000),
        "jsonl",
        1,
        "template_id",
        r"template_id",
    )
    crlf = b.jsonl_bytes(rows).replace(b"\n", b"\r\n")
    records_problem(
        "records/jsonl_bom_crlf_accepted",
        b"\xef\xbb\xbf" + crlf,
        "jsonl",
        None,
        None,
        None,
        exit=(0, 1),
    )
    records_problem(
        "records/jsonl_bool_scores_accepted",
        b.jsonl_bytes([r | {"correct": bool(r["correct"])} for r in rows]),
        "jsonl",
        None,
        None,
        None,
        exit=(0, 1),
    )

    # CSV.
    csv_base = b.csv_bytes(rows)
    header, *body = csv_base.decode().splitlines(keepends=True)
    records_problem(
        "records/csv_duplicate_header_column",
        (
            "question_id,template_id,subject,condition,arm,correct,correct\n"
            + "".join(line.rstrip("\n") + ",1\n" for line in body)
        ).encode(),
        "csv",
        1,
        "correct",
        r"duplicate|column|header",
        note="judgment: a header naming `correct` twice makes the score ambiguous; "
        "csv.DictReader silently keeps the last column",
    )
    records_problem(
        "records/csv_nul_byte_in_question_id",
        (header + "".join(ln.replace("q00,", "q\x0000,", 1) for ln in body)).encode(),
        "csv",
        2,
        "question_id",
        r"NUL|null|control|character|invalid",
        note="judgment: Python 3.11's csv reads NUL as data; an id holding NUL is "
        "refused at its first row (every row of the question has it, so nothing "
        "else is wrong)",
    )
    records_problem(
        "records/csv_field_over_limit",
        (
            header + body[0] + "q," + "x" * 200_000 + ",s,deploy,undefended,1\n" + "".join(body[1:])
        ).encode(),
        "csv",
        3,
        None,
        r"CSV|field|limit|large",
    )
    records_problem(
        "records/csv_nan_score",
        (
            header
            + body[0]
            + body[1].replace(",1\n", ",nan\n").replace(",0\n", ",nan\n")
            + "".join(body[2:])
        ).encode(),
        "csv",
        3,
        "correct",
        r"NaN|score",
    )
    quoted = body[0].replace("q-subject0", '"q-sub\nject0"')
    records_problem(
        "records/csv_quoted_newline_then_bad_row",
        (header + quoted + body[1].replace(",eval,", ",prod,") + "".join(body[2:])).encode(),
        "csv",
        4,
        "condition",
        r"condition",
        note="row 2 spans lines 2-3; the bad row starts (and ends) on line 4",
    )
    records_problem(
        "records/csv_u2028_in_field_accepted",
        (header + "".join(ln.replace("q-subject0", "q-sub\u2028ject0") for ln in body)).encode(),
        "csv",
        None,
        None,
        None,
        exit=(0, 1),
    )
    records_problem(
        "records/csv_bom_crlf_accepted",
        b"\xef\xbb\xbf" + csv_base.replace(b"\n", b"\r\n"),
        "csv",
        None,
        None,
        None,
        exit=(0, 1),
    )

    # Parquet.
    _parquet_cases(rows)
    _lm_eval_cases(rows)
    _inspect_cases(rows)


def _raw_jsonl(rows: list[dict]) -> bytes:
    lines = []
    for row in rows:
        lines.append(
            "{"
            + ", ".join(
                f"{json.dumps(k)}: {v.ac if isinstance(v, Raw) else json.dumps(v)}"
                for k, v in row.items()
            )
            + "}\n"
        )
    return "".join(lines).encode()


def _json_surrogate_rows(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()  # ensure_ascii escapes them


def _parquet_cases(rows: list[dict]) -> None:

    def table(changes: Callable[[Any], Any]) -> Callable[[], bytes]:
        def make() -> bytes:
            return b.parquet_bytes(changes(b.rows_table(rows)))

        return make

    def replace_column(name: str, array_of: Callable[[int], Any]) -> Callable[[Any], Any]:
        def change(tbl: Any) -> Any:
            index = tbl.schema.get_field_index(name)
            return tbl.set_column(index, name, array_of(tbl.num_rows))

        return change

    def temporal(kind: Any, good: Any, bad: Any) -> Callable[[int], Any]:
        import pyarrow as pa

        def make(n: int) -> Any:
            values = [good] * n
            values[2] = bad
            return pa.array(values, kind)

        return make

    import pyarrow as pa

    temporal_cases = (
        ("timestamp_s", "subject", pa.timestamp("s"), 0, 10**15),
        ("date32_max", "question_id", pa.date32(), 0, 2**31 - 1),
        ("timestamp_ns", "template_id", pa.timestamp("ns"), 0, -(2**62)),
        ("duration_s", "correct", pa.duration("s"), 0, 10**17),
    )
    for tag, column, kind, good, bad in temporal_cases:
        records_problem(
            f"records/parquet_temporal_out_of_range_{tag}",
            table(replace_column(column, temporal(kind, good, bad))),
            "parquet",
            1,
            column,
            rf"{column}|temporal|date|time|range|number",
            note="Python's datetime cannot hold the value; every row of that "
            "column is wrong-typed anyway, so row 1 is named first",
        )

    def invalid_utf8(n: int) -> Any:
        values = [b"q00"] * n
        values[2] = b"q\xff\xfe"
        return pa.array(values, pa.binary()).view(pa.string())

    records_problem(
        "records/parquet_string_with_invalid_utf8",
        table(replace_column("question_id", invalid_utf8)),
        "parquet",
        3,
        "question_id",
        r"UTF-8|unicode|invalid|question_id",
    )
    records_problem(
        "records/parquet_bad_score_row_3",
        table(lambda t: b.rows_table(rows_with({2: {"correct": 2.0}}))),
        "parquet",
        3,
        "correct",
        r"outside|\[0, 1\]|score",
    )
    records_problem(
        "records/parquet_struct_score",
        lambda: b.parquet_bytes(
            b.rows_table(rows_with({i: {"correct": {"x": 1}} for i in range(len(rows))}))
        ),
        "parquet",
        1,
        "correct",
        r"score|number",
    )

    def corrupt_pages() -> bytes:
        data = bytearray(b.parquet_bytes(b.rows_table(rows), compression="snappy"))
        rng = np.random.default_rng(b.SEED)
        for position in rng.integers(8, len(data) // 2, 64):
            data[position] ^= 0xFF
        return bytes(data)

    records_problem(
        "records/parquet_corrupt_pages",
        corrupt_pages,
        "parquet",
        None,
        None,
        r"Parquet|corrupt|invalid|read",
    )
    records_problem(
        "records/parquet_truncated",
        lambda: b.parquet_bytes(b.rows_table(rows))[:-40],
        "parquet",
        None,
        None,
        r"Parquet|corrupt|invalid|read",
    )
    records_problem(
        "records/parquet_not_parquet",
        b"PAR1" + b"\0" * 100 + b"PAR1",
        "parquet",
        None,
        None,
        r"Parquet|corrupt|invalid|read",
    )
    records_problem(
        "records/parquet_zero_rows",
        lambda: b.parquet_bytes(b.rows_table(rows).slice(0, 0)),
        "parquet",
        None,
        None,
        r"empty",
    )
    records_problem(
        "records/parquet_accepted",
        lambda: b.parquet_bytes(b.rows_table(rows)),
        "parquet",
        None,
        None,
        None,
        exit=(0, 1),
    )


def _lm_eval_cases(rows: list[dict]) -> None:
    spec = b.base_spec(
        records=Raw("lm_eval"),
        heldout=Data(
            files=(),
            undefended=(RecordFile("data/u.jsonl"),),
            defended=(RecordFile("data/d.jsonl"),),
        ),
    )
    good = b.lm_eval_rows(rows, "undefended")

    def lm(
        name: str,
        samples: list[Any],
        line: int | None,
        field: str | None,
        message: str | None,
        exit: tuple[int, ...] = (2,),
        filter_spec: Spec | None = None,
        note: str = "",
        defended: list[Any] | None = None,
    ) -> None:
        def make(folder: Folder, samples: list[Any] = samples) -> None:
            # ensure_ascii escapes lone surrogates; accepted cases keep raw characters
            folder.write(
                "data/u.jsonl",
                b.jsonl_bytes(samples) if exit != (2,) else _json_surrogate_rows(samples),
            )
            folder.write(
                "data/d.jsonl", _json_surrogate_rows(defended or b.lm_eval_rows(rows, "defended"))
            )
            folder.spec(filter_spec or spec)

        if exit != (2,):
            accept(name, "internal", "lm_eval", make, note=note)
        else:
            case(
                name=name,
                category="internal",
                reader="lm_eval",
                command=CHECK,
                build=make,
                message=message,
                where=Where("data/u.jsonl", line, field=field),
                note=note,
            )

    def with_doc(index: int, **doc: Any) -> list[Any]:
        samples = [json.loads(json.dumps(s)) for s in good]
        samples[index]["doc"].update(doc)
        return samples

    odd = rows_with({i: {"subject": "s\ud800"} for i in range(8)}, rows)
    lm(
        "records/lm_eval_lone_surrogate_subject",
        b.lm_eval_rows(odd, "undefended"),
        1,
        "doc.subject",
        r"surrogate|unicode|UTF-8|invalid|character",
        defended=b.lm_eval_rows(odd, "defended"),
        note="every doc of question q00 (both arms) has the subject: the subject reaches the "
        "card, which UTF-8 cannot encode",
    )
    u2028 = with_doc(2, question="what\u2028is\u2029this")
    lm(
        "records/lm_eval_raw_u2028_in_question_accepted",
        u2028,
        None,
        None,
        None,
        exit=(0, 1),
        note="lm-eval writes prompts verbatim; a raw U+2028 in one must not break the line",
    )
    nan = [json.loads(json.dumps(s)) for s in good]
    nan[2]["acc"] = float("nan")
    lm("records/lm_eval_nan_acc", nan, 3, "acc", r"NaN|score")
    doc_string = [json.loads(json.dumps(s)) for s in good]
    doc_string[2]["doc"] = "not a dict"
    lm("records/lm_eval_doc_not_object", doc_string, 3, "doc.question_id", r"question_id")
    two = b.lm_eval_rows(rows, "undefended", filters=("strict-match", "flexible-extract"))
    lm("records/lm_eval_two_filters_undeclared", two, 2, None, r"duplicate")
    filtered = b.base_spec(records=Raw("lm_eval"), filter="strict-match", heldout=spec.heldout)
    no_filter = [{k: v for k, v in s.items() if k != "filter"} for s in good]
    lm(
        "records/lm_eval_filter_declared_rows_without_it",
        no_filter,
        1,
        "filter",
        r"filter",
        filter_spec=filtered,
    )


def _inspect_cases(rows: list[dict]) -> None:
    samples = b.inspect_samples(rows, "undefended")
    first = f"samples/{samples[0]['id']}_epoch_1.json"

    def archive(mutate: Callable[[list[ZipEntry]], None]) -> Callable[[], bytes]:
        def make() -> bytes:
            entries = [b.zip_entry("_journal/start.json", b"{}", DEFLATED)]
            for sample in samples:
                entries.append(
                    b.zip_entry(
                        f"samples/{sample['id']}_epoch_1.json",
                        json.dumps(sample).encode(),
                        DEFLATED,
                    )
                )
            mutate(entries)
            return b.zip_bytes(entries)

        return make

    def on_first(**changes: Any) -> Callable[[list[ZipEntry]], None]:
        def mutate(entries: list[ZipEntry]) -> None:
            entries[1] = replace(entries[1], **changes)

        return mutate

    def corrupt(entries: list[ZipEntry]) -> None:
        payload = bytearray(entries[1].payload)
        payload[0:8] = b"\xff" * 8
        entries[1] = replace(entries[1], payload=bytes(payload))

    def corrupt_zstd(entries: list[ZipEntry]) -> None:
        content = json.dumps(samples[0]).encode()
        import zstandard

        payload = bytearray(zstandard.ZstdCompressor().compress(content))
        payload[6:14] = b"\xa5" * 8
        entries[1] = ZipEntry(
            entries[1].name, bytes(payload), ZSTD, zlib_crc(content), len(content)
        )

    def duplicate(entries: list[ZipEntry]) -> None:
        twin = dict(samples[0])
        twin["scores"] = {
            "match": {"value": "I" if samples[0]["scores"]["match"]["value"] == "C" else "C"}
        }
        entries.append(b.zip_entry(entries[1].name, json.dumps(twin).encode(), DEFLATED))

    zip_cases = (
        ("encrypted_member", on_first(flags=1), r"encrypt|password"),
        ("unknown_compression_method", on_first(method=99), r"compression|method|supported"),
        ("corrupt_deflate_data", corrupt, r"corrupt|invalid|decompress|zip|error"),
        ("crc_mismatch", on_first(crc=0xDEADBEEF), r"CRC|checksum|corrupt"),
        (
            "local_and_central_names_differ",
            on_first(central_name=first.replace(".json", "_x.json")),
            r"name|header|differ|corrupt",
        ),
        ("corrupt_zstd_data", corrupt_zstd, r"corrupt|invalid|decompress|zstd|zip|error"),
        ("duplicate_member_name", duplicate, r"duplicate|twice|more than once"),
    )
    for tag, mutate, message in zip_cases:
        member = (
            first.replace(".json", "_x.json") if tag == "local_and_central_names_differ" else first
        )
        records_problem(
            f"records/eval_{tag}",
            archive(mutate),
            "eval",
            None,
            None,
            message,
            reader="inspect_eval",
            member=member,
            spec=INSPECT_SPEC,
            path="data/u.eval",
            note="duplicate names: accard reads one member of the name, other "
            "tools another; judgment: refuse the ambiguity"
            if tag == "duplicate_member_name"
            else "",
        )
        CASES[-1] = replace(CASES[-1], build=_inspect_with(archive(mutate)))
    records_problem(
        "records/eval_truncated_archive",
        b"",
        "eval",
        None,
        None,
        r"zip|archive|corrupt|truncated",
        reader="inspect_eval",
        spec=INSPECT_SPEC,
        path="data/u.eval",
    )
    CASES[-1] = replace(CASES[-1], build=_inspect_with(lambda: archive(lambda e: None)()[:-30]))
    odd = rows_with({i: {"subject": "s\ud800"} for i in range(8)}, rows)

    def odd_archives(folder: Folder) -> None:
        folder.write("data/u.eval", b.eval_bytes(b.inspect_samples(odd, "undefended")))
        folder.write("data/d.eval", b.eval_bytes(b.inspect_samples(odd, "defended")))
        folder.spec(INSPECT_SPEC)

    case(
        name="records/eval_lone_surrogate_in_metadata",
        category="internal",
        reader="inspect_eval",
        command=CHECK,
        build=odd_archives,
        message=r"surrogate|unicode|UTF-8|invalid|character",
        where=Where("data/u.eval", member=first, field="metadata.subject"),
    )
    deep = b.zip_entry("samples/deep_epoch_1.json", b"[" * 100_000 + b"]" * 100_000, ZSTD)
    records_problem(
        "records/eval_member_100k_deep",
        b"",
        "eval",
        None,
        None,
        r"JSON|deep|nest",
        reader="inspect_eval",
        member="samples/deep_epoch_1.json",
        spec=INSPECT_SPEC,
        path="data/u.eval",
    )
    CASES[-1] = replace(CASES[-1], build=inspect_folder([deep]))
    accept(
        "records/eval_zstd_accepted",
        "internal",
        "inspect_eval",
        inspect_folder(),
        note="control: an inspect .eval archive as inspect writes it (zstd members)",
    )

    # inspect .json logs.
    def json_log(samples_u: Any, samples_d: Any = None) -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            log = {"version": 2, "status": "success", "eval": {"task": "t"}, "samples": samples_u}
            folder.write("data/u.json", json.dumps(log))
            folder.write(
                "data/d.json",
                b.inspect_json_bytes(samples_d or b.inspect_samples(rows, "defended")),
            )
            folder.spec(INSPECT_JSON_SPEC)

        return make

    odd_q = rows_with({i: {"question_id": "q\udfff"} for i in range(8)}, rows)
    case(
        name="records/inspect_json_lone_surrogate_question_id",
        category="internal",
        reader="inspect_json",
        command=CHECK,
        build=json_log(
            b.inspect_samples(odd_q, "undefended"), b.inspect_samples(odd_q, "defended")
        ),
        message=r"surrogate|unicode|UTF-8|invalid|character",
        where=Where("data/u.json", member="samples[0]", field="metadata.question_id"),
        note="judgment: every sample of the question carries the id, so nothing else is "
        "wrong; an id UTF-8 cannot encode is refused where it is read",
    )
    nan_scores = json.loads(json.dumps(samples))
    nan_scores[1]["scores"]["match"]["value"] = float("nan")
    case(
        name="records/inspect_json_nan_score",
        category="internal",
        reader="inspect_json",
        command=CHECK,
        build=json_log(nan_scores),
        message=r"NaN|score",
        where=Where("data/u.json", member="samples[1]", field="scores.match.value"),
    )
    case(
        name="records/inspect_json_samples_not_a_list",
        category="internal",
        reader="inspect_json",
        command=CHECK,
        build=json_log({"a": 1}),
        message=r"samples",
        where=Where("data/u.json"),
    )
    u2028 = json.loads(json.dumps(samples))
    u2028[0]["input"] = "a\u2028b"
    accept(
        "records/inspect_json_accepted",
        "internal",
        "inspect_json",
        json_log(u2028),
        note="control: an inspect .json log (a raw U+2028 in one input)",
    )


def zlib_crc(data: bytes) -> int:
    import zlib

    return zlib.crc32(data)


def _inspect_with(u_bytes: Callable[[], bytes]) -> Callable[[Folder], None]:
    return inspect_folder(u_bytes=u_bytes)


# ================================================================================================
# 6. Adapters: adapter_config.json, safetensors, legacy .bin, base/aligned weights.
# ================================================================================================

CONFIG = "adapters/u/adapter_config.json"
WEIGHTS = "adapters/u/adapter_model.safetensors"


def _adapter_cases() -> None:
    def config_case(
        name: str,
        changes: dict[str, Any],
        field: str,
        message: str,
        note: str = "",
        raw: str | None = None,
    ) -> None:
        def make(folder: Folder) -> None:
            text = raw if raw is not None else json.dumps(b.adapter_config(**changes))
            (folder.case / CONFIG).write_text(text)

        case(
            name=f"adapters/config_{name}",
            category="internal",
            reader="adapter_config",
            command=CHECK,
            build=base(adapters=True, then=make),
            message=message,
            where=Where(CONFIG, field=field),
            note=note,
        )

    q = b.MODULES[0]
    for key, value in (
        ("string", "8"),
        ("list", [8]),
        ("negative", -4),
        ("zero", 0),
        ("nan", float("nan")),
        ("bool", True),
    ):
        config_case(
            f"alpha_pattern_value_{key}",
            {"alpha_pattern": {q: value}},
            "alpha_pattern",
            r"alpha_pattern|alpha|positive|number",
            note="alpha_pattern values are positive numbers; a string was silently "
            "float()ed, a list crashed, zero/negative/NaN gave a meaningless scale",
        )
    for key, value in (("string", "2"), ("zero", 0), ("float", 2.5), ("negative", -2)):
        config_case(
            f"rank_pattern_value_{key}",
            {"rank_pattern": {q: value}},
            "rank_pattern",
            r"rank_pattern|rank|positive|integer|number",
        )
    config_case(
        "r_infinite",
        {},
        "r",
        r"\br\b|rank|finite|positive",
        raw=json.dumps(b.adapter_config()).replace('"r": 2', '"r": 1e400'),
    )
    config_case(
        "lora_alpha_nan",
        {},
        "lora_alpha",
        r"lora_alpha|finite|NaN|positive",
        raw=json.dumps(b.adapter_config()).replace('"lora_alpha": 4', '"lora_alpha": NaN'),
    )
    config_case(
        "lora_alpha_infinity",
        {},
        "lora_alpha",
        r"lora_alpha|finite|positive",
        raw=json.dumps(b.adapter_config()).replace('"lora_alpha": 4', '"lora_alpha": Infinity'),
    )
    config_case(
        "use_rslora_string",
        {"use_rslora": "false"},
        "use_rslora",
        r"use_rslora|boolean|true|false",
        note='"false" is a truthy string: the adapter was silently scaled by '
        "alpha/sqrt(r) instead of alpha/r",
    )
    config_case("r_bool", {"r": True}, "r", r"positive|\br\b")
    config_case(
        "r_5000_digits",
        {},
        "r",
        r"JSON|digits|\br\b",
        raw=json.dumps(b.adapter_config()).replace('"r": 2', f'"r": {HUGE}'),
    )
    config_case("not_utf8", {}, "adapter_config.json", r"JSON|UTF-8", raw=None)
    CASES[-1] = replace(
        CASES[-1],
        build=base(
            adapters=True,
            then=lambda f: (f.case / CONFIG).write_bytes(b'{"r": 2, "lora_alpha": "\xff"}'),
        ),
        where=Where(CONFIG),
    )
    config_case(
        "deep_nesting",
        {},
        "adapter_config.json",
        r"JSON|deep|nest",
        raw='{"r": 2, "lora_alpha": 4, "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    )
    CASES[-1] = replace(CASES[-1], where=Where(CONFIG))
    config_case("missing_lora_alpha", {"lora_alpha": None}, "lora_alpha", r"lora_alpha")

    # safetensors headers.
    tensors = b.lora_tensors("undefended")
    blob = b.safetensors_bytes(tensors)
    header, data = b.parse_safetensors(blob)
    a_key = b.lora_key(q, "lora_A")
    b_key = b.lora_key(q, "lora_B")

    def header_case(
        name: str,
        mutate: Callable[[dict, bytes], tuple[dict, bytes]],
        field: str | None,
        message: str,
        note: str = "",
        path: str = WEIGHTS,
    ) -> None:
        new_header, new_data = mutate(json.loads(json.dumps(header)), data)

        def make(folder: Folder) -> None:
            folder.write(path, b.raw_safetensors(new_header, new_data))

        case(
            name=f"adapters/safetensors_{name}",
            category="internal",
            reader="safetensors",
            command=CHECK,
            build=base(adapters=True, then=make),
            message=message,
            where=Where(path, field=field),
            note=note,
        )

    def set_entry(key: str, **entry: Any) -> Callable[[dict, bytes], tuple[dict, bytes]]:
        def mutate(h: dict, d: bytes) -> tuple[dict, bytes]:
            h[key].update(entry)
            return h, d

        return mutate

    start, end = header[a_key]["data_offsets"]
    header_case(
        "shape_with_booleans",
        set_entry(a_key, shape=[True, 16]),
        a_key,
        r"shape|bool|integer",
        note="JSON true is not a dimension (Python's bool is an int subclass)",
    )
    header_case(
        "shape_65_dims",
        set_entry(a_key, shape=[1] * 63 + [2, 16]),
        a_key,
        r"shape|dimension|65|64|rank",
    )
    header_case(
        "shape_1e30_elements",
        set_entry(a_key, shape=[0, 10**30]),
        a_key,
        r"shape|dimension|element|large|lora|multiply|byte size",
    )
    header_case(
        "shape_1e30_elements_nonzero",
        set_entry(a_key, shape=[10**15, 10**15]),
        a_key,
        r"shape|size|element|large",
    )

    def overlap(h: dict, d: bytes) -> tuple[dict, bytes]:
        other = b.lora_key(b.MODULES[1], "lora_A")
        h[other]["data_offsets"] = list(h[a_key]["data_offsets"])
        return h, d

    header_case(
        "overlapping_data_offsets",
        overlap,
        None,
        r"overlap|offset",
        note="two tensors sharing bytes: the safetensors reference implementation "
        "rejects it (InvalidOffset); judgment: so must accard",
    )

    def gap(h: dict, d: bytes) -> tuple[dict, bytes]:
        shifted = {}
        for key, entry in h.items():
            lo, hi = entry["data_offsets"]
            shifted[key] = entry | {"data_offsets": [lo + 64, hi + 64] if lo >= end else [lo, hi]}
        return shifted, d[:end] + b"\0" * 64 + d[end:]

    header_case(
        "hole_between_tensors",
        gap,
        None,
        r"offset|gap|hole|contiguous|cover",
        note="bytes that belong to no tensor (hidden data, hashed but never read); "
        "the reference implementation rejects a non-contiguous layout",
    )
    header_case(
        "trailing_bytes_after_last_tensor",
        lambda h, d: (h, d + b"\0" * 128),
        None,
        r"offset|trailing|extra|cover|size|buffer",
        note="judgment: as the reference implementation (MetadataIncompleteBuffer)",
    )
    header_case("reversed_offsets", set_entry(a_key, data_offsets=[end, start]), a_key, r"offset")
    header_case("dtype_i64", set_entry(a_key, dtype="I64"), a_key, r"dtype")
    header_case("nan_in_shape", lambda h, d: (h, d), a_key, r"shape")
    CASES[-1] = replace(
        CASES[-1],
        build=base(
            adapters=True,
            then=lambda f: f.write(
                WEIGHTS,
                b.raw_safetensors(
                    None,
                    data,
                    json.dumps(header)
                    .replace('"shape": [2, 16]', '"shape": [NaN, 16]', 1)
                    .encode(),
                ),
            ),
        ),
    )
    case(
        name="adapters/safetensors_header_length_exceeds_file",
        category="internal",
        reader="safetensors",
        command=CHECK,
        build=base(adapters=True, then=lambda f: f.write(WEIGHTS, b"\xff" * 8 + b"{}")),
        message=r"header|length|exceeds",
        where=Where(WEIGHTS),
    )
    case(
        name="adapters/safetensors_zero_bytes",
        category="internal",
        reader="safetensors",
        command=CHECK,
        build=base(adapters=True, then=lambda f: f.write(WEIGHTS, b"")),
        message=r"safetensors|empty|header",
        where=Where(WEIGHTS),
    )

    def values(key: str, value: float, dtype: str = "<f4") -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            changed = dict(tensors)
            array = changed[key].astype(dtype).copy()
            array.flat[3] = value
            changed[key] = array
            folder.write(WEIGHTS, b.safetensors_bytes(changed))

        return make

    for tag, value in (("nan", float("nan")), ("inf", float("inf"))):
        case(
            name=f"adapters/safetensors_{tag}_value",
            category="internal",
            reader="safetensors",
            command=CHECK,
            build=base(adapters=True, then=values(b_key, value)),
            message=r"NaN|infinite|finite",
            where=Where(WEIGHTS),
            note="the problem names the adapter file (it named none)",
        )
    case(
        name="adapters/safetensors_f64_1e200_value",
        category="internal",
        reader="safetensors",
        command=CHECK,
        build=base(adapters=True, then=values(b_key, 1e200, "<f8")),
        message=r"NaN|infinite|finite|large|overflow",
        where=Where(WEIGHTS),
    )

    # kohya `.alpha` tensors.
    def kohya(alpha: np.ndarray) -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            changed = {
                k.replace("lora_A", "lora_down").replace("lora_B", "lora_up"): v
                for k, v in tensors.items()
            }
            for module in b.MODULES:
                changed[f"base_model.model.{module}.alpha"] = np.array([4.0], np.float32)
            changed[f"base_model.model.{q}.alpha"] = alpha
            folder.write(WEIGHTS, b.safetensors_bytes(changed))

        return make

    alpha_key = f"base_model.model.{q}.alpha"
    for tag, alpha in (
        ("empty", np.zeros((0,), np.float32)),
        ("nan", np.array([np.nan], np.float32)),
        ("zero", np.array([0.0], np.float32)),
        ("negative", np.array([-4.0], np.float32)),
        ("two_values", np.array([4.0, 8.0], np.float32)),
    ):
        case(
            name=f"adapters/kohya_alpha_{tag}",
            category="internal",
            reader="safetensors",
            command=CHECK,
            build=base(adapters=True, then=kohya(alpha)),
            message=r"alpha",
            where=Where(WEIGHTS, field=alpha_key),
            note="a kohya .alpha tensor holds one positive finite number",
        )
    accept(
        "adapters/kohya_alpha_accepted",
        "internal",
        "safetensors",
        base(adapters=True, then=kohya(np.array([4.0], np.float32))),
        note="control: kohya key spellings with a valid .alpha",
    )

    _bin_cases(q)
    _weights_cases(q)


def _bin_cases(q: str) -> None:
    BIN = "adapters/u/adapter_model.bin"

    def bin_case(
        name: str,
        make_tensors: Callable[[], dict[str, Any]],
        field: str | None,
        message: str,
        note: str = "",
        exit: tuple[int, ...] = (2,),
    ) -> None:
        def make(folder: Folder) -> None:
            (folder.case / WEIGHTS).unlink()
            folder.write(BIN, b.torch_bin(make_tensors()))

        if exit != (2,):
            accept(
                f"adapters/bin_{name}",
                "internal",
                "bin",
                base(adapters=True, then=make),
                note=note,
                rss_mib=1536,
            )
            return
        case(
            name=f"adapters/bin_{name}",
            category="internal",
            reader="bin",
            command=CHECK,
            build=base(adapters=True, then=make),
            message=message,
            where=Where(BIN, field=field),
            note=note,
            rss_mib=1536,
        )

    key = b.lora_key(q, "lora_B")

    def with_tensor(convert: Callable[[Any], Any]) -> Callable[[], dict[str, Any]]:
        def make() -> dict[str, Any]:
            tensors = b.torch_lora_tensors("undefended")
            tensors[key] = convert(tensors[key])
            return tensors

        return make

    import_torch = lambda: __import__("torch")  # noqa: E731
    kinds = r"sparse|quantized|meta|complex|dtype|floating|layout|tensor|supported"
    bin_case("sparse_coo_tensor", with_tensor(lambda t: t.to_sparse()), key, kinds)
    bin_case("sparse_csr_tensor", with_tensor(lambda t: t.to_sparse_csr()), key, kinds)
    bin_case(
        "quantized_tensor",
        with_tensor(lambda t: import_torch().quantize_per_tensor(t, 0.1, 0, import_torch().qint8)),
        key,
        kinds,
    )
    bin_case("meta_tensor", with_tensor(lambda t: t.to("meta")), key, kinds)
    bin_case(
        "complex_tensor",
        with_tensor(lambda t: t.to(import_torch().complex64)),
        key,
        kinds,
        note="complex values were silently cast to their real part",
    )
    bin_case(
        "int8_tensor",
        with_tensor(lambda t: (t * 10).to(import_torch().int8)),
        key,
        kinds,
        note="judgment: LoRA factors are floating point; integers are refused, not widened",
    )
    bin_case(
        "nan_value",
        with_tensor(lambda t: t.index_fill(0, import_torch().tensor([0]), float("nan"))),
        None,
        r"NaN|infinite|finite",
        note="the problem names the .bin file",
    )
    bin_case(
        "accepted",
        lambda: b.torch_lora_tensors("undefended"),
        None,
        "",
        exit=(0, 1),
        note="control: a plain tensor dictionary",
    )

    class Evil:
        def __reduce__(self):  # noqa: D105
            return (os.system, ("echo pwned > pwned.txt",))

    def evil(folder: Folder) -> None:
        import pickle

        (folder.case / WEIGHTS).unlink()
        folder.write(BIN, pickle.dumps({"x": Evil()}))

    case(
        name="adapters/bin_pickle_with_reduce",
        category="internal",
        reader="bin",
        command=CHECK,
        build=base(adapters=True, then=evil),
        message=r"refused|unpickl",
        where=Where(BIN),
        rss_mib=1536,
    )


def _weights_cases(q: str) -> None:
    safelora = b.base_spec(adapters=True).with_(adapters=SAFELORA_ADAPTERS)
    BASE = "weights/base.safetensors"
    ALIGNED = "weights/aligned.safetensors"

    def weights(
        name: str,
        mutate: Callable[[dict[str, np.ndarray]], None],
        path: str,
        message: str,
        field: str | None = None,
        note: str = "",
    ) -> None:
        def make(folder: Folder) -> None:
            _write_weights(folder)
            tensors = b.full_weights(seed=0 if path == BASE else 1)
            mutate(tensors)
            folder.write(path, b.safetensors_bytes(tensors))

        case(
            name=f"weights/{name}",
            category="internal",
            reader="weights",
            command=CHECK,
            build=base(safelora, adapters=True, then=make),
            message=message,
            where=Where(path, field=field),
            note=note,
        )

    key = f"{q}.weight"

    def set_value(value: float, dtype: str = "<f4") -> Callable[[dict], None]:
        def mutate(tensors: dict) -> None:
            array = tensors[key].astype(dtype)
            array[0, 0] = value
            tensors[key] = array

        return mutate

    weights("base_inf", set_value(float("inf")), BASE, r"NaN|infinite|finite")
    weights("base_nan", set_value(float("nan")), BASE, r"NaN|infinite|finite")
    weights(
        "aligned_1e200_f64", set_value(1e200, "<f8"), ALIGNED, r"NaN|infinite|finite|large|overflow"
    )

    def wrong_shape(shape: tuple[int, int]) -> Callable[[dict], None]:
        def mutate(tensors: dict) -> None:
            tensors[key] = np.ones(shape, np.float32)

        return mutate

    weights(
        "base_wrong_shape_not_broadcastable", wrong_shape((16, 8)), BASE, r"shape|match", field=key
    )
    weights(
        "base_wrong_shape_broadcastable",
        wrong_shape((1, 16)),
        BASE,
        r"shape|match",
        field=key,
        note="(1, 16) minus (16, 16) broadcasts silently in numpy",
    )
    weights(
        "aligned_missing_module", lambda t: t.pop(key), ALIGNED, r"no weight|missing", field=key
    )

    def equal_weights(folder: Folder) -> None:
        folder.write(BASE, b.safetensors_bytes(b.full_weights(seed=0)))
        folder.write(ALIGNED, b.safetensors_bytes(b.full_weights(seed=0)))

    accept(
        "weights/base_equals_aligned_accepted",
        "internal",
        "weights",
        base(safelora, adapters=True, then=equal_weights),
        note="V = 0: SafeLoRA's cosine is undefined and reported as such, not an error",
    )
    accept(
        "weights/safelora_accepted",
        "internal",
        "weights",
        base(safelora, adapters=True, then=_write_weights),
        note="control: base and aligned weights",
    )
    case(
        name="weights/base_zero_bytes",
        category="internal",
        reader="weights",
        command=CHECK,
        build=base(safelora, adapters=True, then=lambda f: (_write_weights(f), f.write(BASE, b""))),
        message=r"safetensors|empty|header",
        where=Where(BASE),
        note="judgment: an empty weights file is a wrong input (exit 2), not an empty model",
    )


# ================================================================================================
# 7. Cards: validate, show, diff.
# ================================================================================================


def _card_cases() -> None:
    def card_file(mutate: Callable[[str], str]) -> Callable[[Folder], None]:
        def make(folder: Folder) -> None:
            folder.write("card.json", mutate(_card_text()))

        return make

    def set_path(path: str, literal: str) -> Callable[[str], str]:
        def mutate(text: str) -> str:
            card = json.loads(text)
            keys = path.split(".")
            target = card
            for k in keys[:-1]:
                target = target[int(k)] if isinstance(target, list) else target[k]
            marker = "@@HOSTILE@@"
            if isinstance(target, list):
                target[int(keys[-1])] = marker
            else:
                target[keys[-1]] = marker
            return json.dumps(card, indent=2).replace(f'"{marker}"', literal)

        return mutate

    hostile = (
        (
            "confidence_nan",
            "settings.bootstrap.confidence",
            "NaN",
            "$.settings.bootstrap.confidence",
        ),
        (
            "estimate_infinity",
            "diagnostics.reliability.delta_gap.estimate",
            "Infinity",
            "$.diagnostics.reliability.delta_gap.estimate",
        ),
        (
            "ci_high_negative_infinity",
            "precondition.installed_gap.ci_high",
            "-Infinity",
            "$.precondition.installed_gap.ci_high",
        ),
        ("title_lone_surrogate", "claim.title", '"card \\ud800 title"', "$.claim.title"),
        ("title_terminal_escape", "claim.title", json.dumps(ESCAPE), "$.claim.title"),
        (
            "subject_lone_surrogate",
            "datasets.0.subjects.0",
            '"\\udfff"',
            "$.datasets[0].subjects[0]",
        ),
    )
    for tag, path, literal, json_path in hostile:
        for command in (("validate", "card.json"), ("show", "card.json")):
            case(
                name=f"cards/{tag}.{command[0]}",
                category="internal",
                reader="card",
                command=command,
                build=card_file(set_path(path, literal)),
                message=None,
                where=Where("card.json", member=None, field=json_path),
                note="judgment: a card holds finite numbers and printable UTF-8 text; a "
                "NaN, a lone surrogate or a terminal escape makes it invalid"
                if tag in ("title_terminal_escape",)
                else "",
            )
        case(
            name=f"cards/{tag}.diff",
            category="internal",
            reader="card",
            command=("diff", "old.json", "card.json"),
            build=lambda f, p=path, ln=literal: (
                f.write("old.json", _card_text()),
                card_file(set_path(p, ln))(f),
            ),
            message=None,
            where=Where("card.json", field=json_path),
        )
    case(
        name="cards/5000_digit_integer.validate",
        category="internal",
        reader="card",
        command=("validate", "card.json"),
        build=card_file(set_path("settings.bootstrap.seed", HUGE)),
        message=r"JSON|digits",
        where=Where("card.json"),
    )
    case(
        name="cards/deep_nesting.show",
        category="internal",
        reader="card",
        command=("show", "card.json"),
        build=lambda f: f.write("card.json", "[" * 100_000 + "]" * 100_000),
        message=r"JSON|deep",
        where=Where("card.json"),
    )
    case(
        name="cards/not_utf8.validate",
        category="internal",
        reader="card",
        command=("validate", "card.json"),
        build=lambda f: f.write(
            "card.json", _card_text().encode().replace(b"SafeLoRA", b"Safe\xff", 1)
        ),
        message=r"UTF-8|JSON|decode",
        where=Where("card.json"),
    )
    accept(
        "cards/golden_card_validates",
        "internal",
        "card",
        lambda f: f.write("card.json", _card_text()),
        command=("validate", "card.json"),
        note="control: a card accard wrote",
    )
    accept(
        "cards/golden_card_diff_itself",
        "internal",
        "card",
        lambda f: (f.write("card.json", _card_text()), f.write("old.json", _card_text())),
        command=("diff", "old.json", "card.json"),
    )


# ================================================================================================
# 8. Output: what --out may and may not do.
# ================================================================================================


def _output_cases() -> None:
    def read_only_out(folder: Folder) -> None:
        path = folder.write("card.json", "previous card\n")
        path.chmod(0o444)

    case(
        name="output/read_only_out_refused",
        category="output",
        reader="output",
        command=CHECK,
        build=base(then=read_only_out),
        message=r"read-only|permission|writable|cannot write",
        where=Where("card.json"),
        note="a read-only file is a 'do not overwrite'; rename() would silently replace it "
        "(and as root, os.access says yes: check the mode bits)",
    )
    spec = b.base_spec()
    case(
        name="output/out_is_the_spec",
        category="output",
        reader="output",
        command=("check", "claim.ac", "--out", "claim.ac"),
        build=base(spec),
        message=r"input|spec|overwrite|same",
        where=Where("claim.ac"),
        note="judgment: --out naming the spec (or an input) would destroy the claim",
    )
    case(
        name="output/out_is_a_record_file",
        category="output",
        reader="output",
        command=("check", "claim.ac", "--out", "data/h.jsonl"),
        build=base(spec),
        message=r"input|record|overwrite|same",
        where=Where("data/h.jsonl"),
        note="judgment: as --out naming the spec",
    )
    case(
        name="output/out_in_missing_folder",
        category="output",
        reader="output",
        command=("check", "claim.ac", "--out", "nowhere/card.json"),
        build=base(spec),
        message=r"cannot write|No such|exist",
        where=Where("nowhere/card.json"),
    )
    case(
        name="output/convert_lone_surrogate_title",
        category="output",
        reader="output",
        command=("convert", "claim.ac", "--to", "yaml", "--out", "out.yaml"),
        build=base(b.base_spec(title=SURROGATE)),
        message=r"surrogate|unicode|UTF-8|invalid|character",
        where=Where("claim.ac", 3, field="claim.title"),
        note="convert shares the atomic writer: no empty temporary file may be left",
    )


def _other_command_cases() -> None:
    """fmt rewrites a spec in place and reproduce reads a card twice: the same limits hold."""
    case(
        name="hang/spec_fifo.fmt_check",
        category="hang",
        reader="spec",
        command=("fmt", "claim.ac", "--check"),
        build=lambda f: _fifo(f, "claim.ac"),
        message=r"regular file|not a file|FIFO|pipe|device|special",
        where=Where("claim.ac"),
    )
    case(
        name="confine/spec_symlink_proc_environ.fmt",
        category="confine",
        reader="spec",
        command=("fmt", "claim.ac"),
        build=lambda f: f.symlink("claim.ac", "/proc/self/environ"),
        message=OUTSIDE_SPEC_HINT + r"|regular file",
        where=Where("claim.ac"),
        forbid=(SECRET,),
        note="fmt must neither show nor rewrite a file outside the folder",
    )
    messy_surrogate = b.render_ac(b.base_spec(title=SURROGATE)).replace("  model", "      model")
    accept(
        "spec/lone_surrogate_title.fmt_rewrites",
        "internal",
        "spec",
        lambda f: f.write("claim.ac", messy_surrogate),
        command=("fmt", "claim.ac"),
        creates=("claim.ac",),
        note="fmt checks layout, not content: it rewrites the file, keeping the \\ud800 "
        "escape as written (no crash, no temporary file left)",
    )
    messy = b.render_ac(b.base_spec()).replace("  model", "      model")
    accept(
        "spec/fmt_rewrites_a_valid_spec",
        "internal",
        "spec",
        lambda f: (b.write_base_records(f), f.write("claim.ac", messy)),
        command=("fmt", "claim.ac", "--check"),
        note="control: fmt --check exits 1 on a valid spec that is not canonical",
    )
    CASES[-1] = replace(CASES[-1], exit=(1,))
    case(
        name="hang/card_fifo.reproduce",
        category="hang",
        reader="card",
        command=("reproduce", "claim.ac", "card.json"),
        build=base(then=lambda f: _fifo(f, "card.json")),
        message=r"regular file|not a file|FIFO|pipe|device|special",
        where=Where("card.json"),
    )
    case(
        name="cards/title_lone_surrogate.reproduce",
        category="internal",
        reader="card",
        command=("reproduce", "claim.ac", "card.json"),
        build=base(
            then=lambda f: f.write(
                "card.json", _card_text().replace('"title": "', '"title": "\\ud800', 1)
            )
        ),
        message=None,
        where=Where("card.json", field="$.claim.title"),
    )
    for tag, value in (("yaml", "\ud800"), ("ac", "\ud800")):
        spec_problem(
            f"spec/lone_surrogate_mechanism.{tag}",
            b.base_spec(mechanism=value),
            value,
            "claim.defense.mechanism",
            r"mechanism|surrogate|unicode|character",
            fmt=tag,
        )


for _make in (
    _confine_cases,
    _hang_cases,
    _memory_cases,
    _spec_cases,
    _records_cases,
    _adapter_cases,
    _card_cases,
    _output_cases,
    _other_command_cases,
):
    _make()

__all__ = ["CASES", "GOLDEN_CARD"]
