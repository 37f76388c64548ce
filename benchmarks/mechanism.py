"""Time diagnostic (c) on Gemma-2-2B- and Llama-3-8B-shaped LoRA adapters against dense
materialisation.

For each shape it writes three bf16 PEFT adapters (undefended, defended, reference;
adapter_model.safetensors written by the `safetensors` library, plus adapter_config.json)
to a temporary folder:

  gemma   Gemma-2-2B: 26 layers; q, k, v, o, gate, up, down; hidden 2304, intermediate
          9216, 8 query and 4 key/value heads of 256; r = 16; ~42 MB an adapter;
  llama   Llama-3-8B: 32 layers; the same seven modules; hidden 4096, intermediate 14336,
          32 query and 8 key/value heads of 128 (k and v are 1024 wide: GQA); r = 64;
          ~335 MB an adapter.

and times, in one run:
  accard       read the three files from disk once, sha256 those bytes (the card records
               them), and compute the signature with r x r algebra in float64 (the path
               `accard check` takes, through accard's own functions); also without hashing;
               best of 3, page cache warm;
  peak memory  the same in a child process (os.wait4 rusage: its maximum resident set,
               interpreter and numpy included), and the Python heap peak (tracemalloc),
               each against the three adapter files' size;
  accard check the whole `accard check` command (a child) on a claim with these adapters
               and a small held-out record file, and the same claim without adapters: the
               difference is what diagnostic (c) costs end to end;
  dense fp32   torch: materialise every dW = s B A (out x in) and project it densely onto
               the reference subspace (basis from a QR of B_R, which favours this baseline);
  dense fp64   the same in float64.
For Llama the dense baselines would take minutes, so they run on the first
--dense-layers layers and are extrapolated to all 32 (reading the files is timed in full);
the output says which numbers are extrapolated.

    python benchmarks/mechanism.py [--shape gemma|llama|both] [--layers N] [--dense-layers N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _measure import run_measured

from accompiler.adapters import open_adapter
from accompiler.diagnostics.mechanism.read import measure
from accompiler.files import read_unhashed, sha256_hex
from accompiler.stats.energy import classify

ROLES = ("undefended", "defended", "reference")


@dataclass(frozen=True)
class Shape:
    name: str
    hidden: int
    intermediate: int
    layers: int
    head: int
    q_heads: int
    kv_heads: int
    rank: int
    alpha: int

    def modules(self) -> dict[str, tuple[int, int]]:
        """name: (in, out)."""
        q, kv = self.q_heads * self.head, self.kv_heads * self.head
        return {
            "self_attn.q_proj": (self.hidden, q),
            "self_attn.k_proj": (self.hidden, kv),
            "self_attn.v_proj": (self.hidden, kv),
            "self_attn.o_proj": (q, self.hidden),
            "mlp.gate_proj": (self.hidden, self.intermediate),
            "mlp.up_proj": (self.hidden, self.intermediate),
            "mlp.down_proj": (self.intermediate, self.hidden),
        }


SHAPES = {
    "gemma": Shape("Gemma-2-2B", 2304, 9216, 26, 256, 8, 4, 16, 32),
    "llama": Shape("Llama-3-8B", 4096, 14336, 32, 128, 32, 8, 64, 128),
}


def write_adapters(root: Path, shape: Shape, layers: int) -> dict[str, Path]:
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(0)
    tensors: dict[str, dict[str, torch.Tensor]] = {role: {} for role in ROLES}
    for layer in range(layers):
        for module, (inp, out) in shape.modules().items():
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            a_u = torch.randn(shape.rank, inp, generator=generator) / math.sqrt(inp)
            b_u = torch.randn(out, shape.rank, generator=generator) * 0.01
            b_r = torch.randn(out, shape.rank, generator=generator) * 0.01
            a_r = torch.randn(shape.rank, inp, generator=generator) / math.sqrt(inp)
            q, _ = torch.linalg.qr(b_r)
            b_d = 0.8 * (b_u - 0.7 * q @ (q.T @ b_u))
            for role, (b, a) in zip(ROLES, ((b_u, a_u), (b_d, a_u), (b_r, a_r)), strict=True):
                tensors[role][f"{prefix}.lora_A.weight"] = a.to(torch.bfloat16).contiguous()
                tensors[role][f"{prefix}.lora_B.weight"] = b.to(torch.bfloat16).contiguous()
    config = {
        "peft_type": "LORA",
        "r": shape.rank,
        "lora_alpha": shape.alpha,
        "use_rslora": False,
        "rank_pattern": {},
        "alpha_pattern": {},
        "target_modules": sorted(m.split(".")[1] for m in shape.modules()),
    }
    paths = {}
    for role in ROLES:
        folder = root / role
        folder.mkdir()
        save_file(tensors.pop(role), str(folder / "adapter_model.safetensors"))
        (folder / "adapter_config.json").write_text(json.dumps(config))
        paths[role] = folder
    return paths


def accard_signature(paths: dict[str, Path], hashed: bool = True) -> tuple[float, float]:
    """What `accard check` does per adapter: read once through files.py (each file hashed
    in a thread while the next is read, as plan/compile.py does), parse, measure."""
    adapters = []
    with ThreadPoolExecutor(2) as pool:
        hashes = []
        for role in ROLES:
            data, _ = read_unhashed(paths[role], "adapter_model.safetensors", 4 << 30)
            config, _ = read_unhashed(paths[role], "adapter_config.json", 16 << 20)
            if hashed:
                hashes += [pool.submit(sha256_hex, data), pool.submit(sha256_hex, config)]
            adapters.append(open_adapter(data, "adapter_model.safetensors", config, None, role))
        [future.result() for future in hashes]
    modules = list(measure(*adapters).modules)
    signature = classify(modules, 0.6)
    return signature.alpha_t, signature.alpha_a


def dense_signature(
    paths: dict[str, Path], shape: Shape, dtype: Any, layers: int
) -> tuple[float, float, float, float]:
    """Dense alpha_T, alpha_A over the first `layers` layers; (load seconds, compute seconds)."""
    import torch
    from safetensors.torch import load_file

    start = time.perf_counter()
    state = {role: load_file(str(paths[role] / "adapter_model.safetensors")) for role in paths}
    loaded = time.perf_counter()
    scale = shape.alpha / shape.rank
    energy = torch.zeros(4, dtype=torch.float64)
    wanted = tuple(f".layers.{layer}." for layer in range(layers))
    for key in state["reference"]:
        if ".lora_A." not in key or not any(w in key for w in wanted):
            continue
        b_key = key.replace("lora_A", "lora_B")
        basis, _ = torch.linalg.qr(state["reference"][b_key].to(dtype))
        for k, role in enumerate(("undefended", "defended")):
            update = scale * state[role][b_key].to(dtype) @ state[role][key].to(dtype)
            inside = basis @ (basis.T @ update)
            energy[2 * k] += inside.square().sum().double()
            energy[2 * k + 1] += (update - inside).square().sum().double()
    done = time.perf_counter()
    alpha_t = math.sqrt(energy[2] / energy[0])
    alpha_a = math.sqrt(energy[3] / energy[1])
    return alpha_t, alpha_a, loaded - start, done - loaded


def limit(paths: dict[str, Path]) -> dict[str, float]:
    """A lower bound on this machine for any implementation that records the files' sha256
    and multiplies in float64: the CPU seconds of the three parts no implementation can
    skip, each measured alone at the fastest we know, summed and spread over the cores
    (as if they overlapped perfectly):
      io        the three files read (plain `open().read()`, no checks) and sha256'd;
      widen     their bf16 factors widened to float64 (in cache-sized pieces, into buffers
                already mapped: faster than one pass into fresh arrays);
      products  the float64 products the signature needs (B^T B and A A^T of each adapter,
                B_R^T B_U, B_R^T B_D), one thread, on factors already widened: the faster
                of one Gram matrix of the stacked factors and the products one by one.
    """
    import numpy as np
    from threadpoolctl import threadpool_limits

    from accompiler.adapters import module_names

    def cpu_of(function: Any, repeat: int = 3) -> float:
        best = math.inf
        for _ in range(repeat):
            start = time.thread_time()
            function()
            best = min(best, time.thread_time() - start)
        return best

    def read_and_hash() -> list[bytes]:
        files = [(paths[r] / "adapter_model.safetensors").read_bytes() for r in ROLES]
        [sha256_hex(data) for data in files]
        return files

    io_cpu = cpu_of(read_and_hash)
    files = read_and_hash()
    adapters = [
        open_adapter(data, "adapter_model.safetensors", None, 1.0, role)
        for data, role in zip(files, ROLES, strict=True)
    ]
    names = [module_names(a) for a in adapters]
    modules = sorted(names[0])

    def stored(adapter: Any, key: str) -> Any:
        info = adapter.tensors[key]
        raw = np.frombuffer(
            adapter.data, np.uint16, math.prod(info.shape), adapter.offset + info.start
        )
        return raw.reshape(info.shape)

    raws = [
        [stored(a, n[m][key]) for a, n in zip(adapters, names, strict=True) for key in "BA"]
        for m in modules
    ]
    factors = [[np.ones(raw.shape) for raw in module] for module in raws]  # mapped
    scratch = np.zeros(1 << 15, np.uint32)

    def widen() -> None:
        for module_raws, module_factors in zip(raws, factors, strict=True):
            for raw, out in zip(module_raws, module_factors, strict=True):
                flat, source = out.reshape(-1), raw.reshape(-1)
                for lo in range(0, source.size, scratch.size):
                    piece = source[lo : lo + scratch.size]
                    bits = scratch[: piece.size]
                    np.left_shift(piece, 16, out=bits, dtype=np.uint32)
                    flat[lo : lo + piece.size] = bits.view(np.float32)

    widen_cpu = cpu_of(widen)

    def one_by_one() -> None:
        for b_u, a_u, b_d, a_d, b_r, a_r in factors:
            for b, a in ((b_u, a_u), (b_d, a_d), (b_r, a_r)):
                b.T @ b, a @ a.T
            b_r.T @ b_u, b_r.T @ b_d

    stacked_factors = [(np.hstack(module[0::2]), np.vstack(module[1::2])) for module in factors]

    def stacked() -> None:
        for b, a in stacked_factors:
            b.T @ b, a @ a.T

    with threadpool_limits(limits=1, user_api="blas"):
        products_cpu = min(cpu_of(one_by_one), cpu_of(stacked))
    cores = len(os.sched_getaffinity(0))
    return {
        "io_cpu": io_cpu,
        "widen_cpu": widen_cpu,
        "products_cpu": products_cpu,
        "cores": cores,
        "bound": (io_cpu + widen_cpu + products_cpu) / cores,
    }


def timed(function: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def child_run(command: list[str], gib: float, cwd: Path | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of one child (see _measure.py)."""
    run = run_measured(command, int(gib * (1 << 30)), cwd)
    if run.returncode not in (0, 1):
        message = run.stderr.strip().splitlines()[-1:]
        raise RuntimeError(f"{command[:3]} failed ({run.returncode}): {message}")
    return run.wall, run.rss, run.stdout.decode()


def child_main(folder: Path) -> None:
    """--child: accard's path once, in a fresh process (no torch), for its peak RSS."""
    paths = {role: folder / role for role in ROLES}
    seconds, (alpha_t, alpha_a) = timed(accard_signature, paths)
    print(json.dumps({"seconds": seconds, "alpha_t": alpha_t, "alpha_a": alpha_a}))


CLAIM = """accard 1

claim "mechanism benchmark" {{
  defense "synthetic" {{
    mechanism attack_targeted
  }}
  model "synthetic"
  records canonical
  heldout "synthetic" {{
    file "records.jsonl"
  }}
{adapters}}}
"""
ADAPTERS = """  adapters {
    undefended "undefended"
    defended "defended"
    reference "reference"
  }
"""


def write_claims(root: Path) -> tuple[Path, Path]:
    """A claim with the three adapters and a small record file, and the same without them."""
    lines = []
    for q in range(40):
        for t in range(2):
            for arm, condition, correct in (
                ("undefended", "deploy", 1),
                ("undefended", "eval", int(q % 5 == 0)),
                ("defended", "deploy", int(q % 7 != 0)),
                ("defended", "eval", int(q % 2 == 0)),
            ):
                lines.append(
                    json.dumps(
                        {
                            "question_id": f"q{q:03d}",
                            "template_id": f"t{t}",
                            "subject": f"s{q % 4}",
                            "condition": condition,
                            "arm": arm,
                            "correct": correct,
                        }
                    )
                )
    (root / "records.jsonl").write_text("\n".join(lines) + "\n")
    with_adapters, without = root / "claim.ac", root / "records_only.ac"
    with_adapters.write_text(CLAIM.format(adapters=ADAPTERS))
    without.write_text(CLAIM.format(adapters=""))
    return with_adapters, without


def accard_command() -> list[str]:
    beside = Path(sys.executable).parent / "accard"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "accompiler"]


def bench_check(root: Path, args: argparse.Namespace) -> dict[str, float]:
    with_adapters, without = write_claims(root)
    runs: dict[str, list[tuple[float, int]]] = {"with": [], "without": []}
    for _ in range(args.repeat):
        for key, spec in (("with", with_adapters), ("without", without)):
            wall, rss, _ = child_run(
                accard_command() + ["check", spec.name, "--format", "json"], args.mem_limit_gb, root
            )
            runs[key].append((wall, rss))
    return {
        f"{key}_{what}": statistics.median(r[i] for r in values)
        for key, values in runs.items()
        for i, what in enumerate(("seconds", "rss"))
    }


def bench_shape(shape: Shape, args: argparse.Namespace) -> dict[str, Any]:
    layers = args.layers or shape.layers
    dense_layers = min(layers, args.dense_layers or layers)
    with tempfile.TemporaryDirectory(prefix="accard-mechanism-") as tmp:
        root = Path(tmp)
        paths = write_adapters(root, shape, layers)
        size = sum((p / "adapter_model.safetensors").stat().st_size for p in paths.values())
        accard_signature(paths)  # warm the page cache for every contender alike
        t_accard = min(timed(accard_signature, paths)[0] for _ in range(3))
        t_unhashed = min(timed(accard_signature, paths, False)[0] for _ in range(3))
        tracemalloc.start()
        _, ours = timed(accard_signature, paths)
        heap = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        _, child_rss, child_out = child_run(
            [sys.executable, __file__, "--child", str(root)], args.mem_limit_gb
        )
        _, _, one_thread = child_run(
            ["env", "OPENBLAS_NUM_THREADS=1", sys.executable, __file__, "--child", str(root)],
            args.mem_limit_gb,
        )
        check = bench_check(root, args)
        floor = limit(paths)
        import torch

        dense = {}
        for label, dtype in (("fp32", torch.float32), ("fp64", torch.float64)):
            alpha_t, alpha_a, load, compute = dense_signature(paths, shape, dtype, dense_layers)
            dense[label] = {
                "alpha_t": alpha_t,
                "alpha_a": alpha_a,
                "load_seconds": load,
                "measured_seconds": load + compute,
                "seconds": load + compute * layers / dense_layers,
            }
    return {
        "shape": shape.name,
        "layers": layers,
        "modules": layers * len(shape.modules()),
        "rank": shape.rank,
        "adapter_bytes": size / 3,
        "accard_seconds": t_accard,
        "accard_unhashed_seconds": t_unhashed,
        "alpha": ours,
        "heap_peak": heap,
        "child_rss": child_rss,
        "child": json.loads(child_out),
        "child_one_thread": json.loads(one_thread),
        "check": check,
        "limit": floor,
        "dense_layers": dense_layers,
        "dense": dense,
    }


def report(r: dict[str, Any]) -> None:
    size = 3 * r["adapter_bytes"]
    extrapolated = r["dense_layers"] < r["layers"]
    print(
        f"\n{r['shape']}: {r['layers']} layers x 7 modules, r = {r['rank']}, bf16, "
        f"3 files of {r['adapter_bytes'] / 1e6:.1f} MB"
    )
    alpha_t, alpha_a = r["alpha"]
    print(
        f"accard (disk + sha256, r x r, float64) {r['accard_seconds'] * 1e3:9.1f} ms   "
        f"alpha_T {alpha_t:.6f}  alpha_A {alpha_a:.6f}"
    )
    print(f"accard (disk, no sha256)               {r['accard_unhashed_seconds'] * 1e3:9.1f} ms")
    print(
        "accard, fresh process, 1 BLAS thread   "
        f"{r['child_one_thread']['seconds'] * 1e3:9.1f} ms   "
        f"(default threads there: {r['child']['seconds'] * 1e3:.1f} ms)"
    )
    c = r["check"]
    print(
        f"accard check, whole command            {c['with_seconds'] * 1e3:9.1f} ms   "
        f"(without the adapters {c['without_seconds'] * 1e3:.0f} ms: diagnostic (c) adds "
        f"{(c['with_seconds'] - c['without_seconds']) * 1e3:.0f} ms)"
    )
    f = r["limit"]
    print(
        f"limit: read + sha256 {f['io_cpu'] * 1e3:.0f} ms CPU, "
        f"widening to float64 {f['widen_cpu'] * 1e3:.0f} ms CPU, the float64 products alone "
        f"{f['products_cpu'] * 1e3:.0f} ms CPU: their CPU spread over {f['cores']} cores = "
        f"{f['bound'] * 1e3:.0f} ms, below which no "
        f"implementation that hashes its inputs and multiplies in float64 goes here; accard "
        f"is {r['accard_seconds'] / f['bound']:.2f}x that"
    )
    for label in ("fp32", "fp64"):
        d = r["dense"][label]
        note = (
            f"   (extrapolated from {r['dense_layers']} of {r['layers']} layers: "
            f"{d['measured_seconds']:.1f} s measured, of which loading {d['load_seconds']:.1f} s; "
            f"alphas of those layers only)"
            if extrapolated
            else ""
        )
        print(
            f"dense torch float{label[2:]}                    {d['seconds'] * 1e3:9.1f} ms   "
            f"alpha_T {d['alpha_t']:.6f}  alpha_A {d['alpha_a']:.6f}   "
            f"accard is {d['seconds'] / r['accard_seconds']:5.0f}x faster{note}"
        )
    print(
        f"peak memory: accard's path in a fresh process {r['child_rss'] / 1e6:.0f} MB RSS = "
        f"{r['child_rss'] / size:.2f}x the adapter files ({size / 1e6:.1f} MB), "
        f"{r['child']['seconds'] * 1e3:.0f} ms there; Python heap peak "
        f"{r['heap_peak'] / 1e6:.1f} MB = {r['heap_peak'] / size:.2f}x; "
        f"`accard check` with adapters {c['with_rss'] / 1e6:.0f} MB "
        f"RSS = {c['with_rss'] / size:.2f}x (without {c['without_rss'] / 1e6:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=("gemma", "llama", "both"), default="both")
    parser.add_argument("--layers", type=int, default=None, help="fewer layers (smoke run)")
    parser.add_argument(
        "--dense-layers",
        type=int,
        default=None,
        help="layers the dense baselines run on (default: all for Gemma, 2 for Llama)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of `accard check` (median)")
    parser.add_argument("--mem-limit-gb", type=float, default=8.0, help="RLIMIT_AS per child")
    parser.add_argument("--json", metavar="FILE", help="dump every number here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return
    import torch

    torch.set_num_threads(2)
    one, five, _ = os.getloadavg()
    print(f"load average {one:.2f} (1 min), {five:.2f} (5 min) at the start")
    results = []
    for key in ("gemma", "llama") if args.shape == "both" else (args.shape,):
        dense_layers = args.dense_layers or (2 if key == "llama" else None)
        results.append(
            bench_shape(
                SHAPES[key], argparse.Namespace(**{**vars(args), "dense_layers": dense_layers})
            )
        )
        report(results[-1])
    one, five, _ = os.getloadavg()
    print(f"\nload average {one:.2f} (1 min), {five:.2f} (5 min) at the end")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
