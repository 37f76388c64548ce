"""Time diagnostic (c) on Gemma-2-2B-shaped LoRA adapters against dense materialisation.

Writes three bf16 PEFT adapters (undefended, defended, reference) shaped like
Gemma-2-2B's (26 layers; q, k, v, o, gate, up, down; hidden 2304, intermediate 9216,
8 query and 4 key/value heads of 256; r = 16; ~42 MB each) to a temporary folder, then
times, in one run:
  accard       read the three files from disk once, sha256 those bytes (the card records
               them), and compute the signature with r x r algebra in float64 (the path
               `accard check` takes); also without the hashing;
  dense fp32   torch: materialise every dW = s B A (out x in) and project it densely onto
               the reference subspace (basis from a QR of B_R, which favours this baseline);
  dense fp64   the same in float64.
It prints the times, the ratios, alpha_T/alpha_A from each path and accard's peak
Python-heap memory (tracemalloc) against the adapters' size on disk.

    python benchmarks/mechanism.py [--layers N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import tempfile
import time
import tracemalloc
from pathlib import Path

import torch
from safetensors.torch import save_file

from accompiler.adapters import open_adapter
from accompiler.diagnostics.mechanism.read import measure
from accompiler.stats.energy import classify

HIDDEN, INTERMEDIATE, HEAD, Q_HEADS, KV_HEADS, RANK, ALPHA = 2304, 9216, 256, 8, 4, 16, 32
MODULES = {  # name: (in, out)
    "self_attn.q_proj": (HIDDEN, Q_HEADS * HEAD),
    "self_attn.k_proj": (HIDDEN, KV_HEADS * HEAD),
    "self_attn.v_proj": (HIDDEN, KV_HEADS * HEAD),
    "self_attn.o_proj": (Q_HEADS * HEAD, HIDDEN),
    "mlp.gate_proj": (HIDDEN, INTERMEDIATE),
    "mlp.up_proj": (HIDDEN, INTERMEDIATE),
    "mlp.down_proj": (INTERMEDIATE, HIDDEN),
}


def write_adapters(root: Path, layers: int) -> dict[str, Path]:
    generator = torch.Generator().manual_seed(0)
    paths = {}
    tensors: dict[str, dict[str, torch.Tensor]] = {
        "undefended": {},
        "defended": {},
        "reference": {},
    }
    for layer in range(layers):
        for module, (inp, out) in MODULES.items():
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            a_u = torch.randn(RANK, inp, generator=generator) / math.sqrt(inp)
            b_u = torch.randn(out, RANK, generator=generator) * 0.01
            b_r = torch.randn(out, RANK, generator=generator) * 0.01
            a_r = torch.randn(RANK, inp, generator=generator) / math.sqrt(inp)
            q, _ = torch.linalg.qr(b_r)
            b_d = 0.8 * (b_u - 0.7 * q @ (q.T @ b_u))
            for role, (b, a) in {
                "undefended": (b_u, a_u),
                "defended": (b_d, a_u),
                "reference": (b_r, a_r),
            }.items():
                tensors[role][f"{prefix}.lora_A.weight"] = a.to(torch.bfloat16).contiguous()
                tensors[role][f"{prefix}.lora_B.weight"] = b.to(torch.bfloat16).contiguous()
    config = {
        "peft_type": "LORA",
        "r": RANK,
        "lora_alpha": ALPHA,
        "use_rslora": False,
        "rank_pattern": {},
        "alpha_pattern": {},
        "target_modules": sorted(m.split(".")[1] for m in MODULES),
    }
    for role, state in tensors.items():
        folder = root / role
        folder.mkdir()
        save_file(state, str(folder / "adapter_model.safetensors"))
        (folder / "adapter_config.json").write_text(json.dumps(config))
        paths[role] = folder
    return paths


def accard_signature(paths: dict[str, Path], hashed: bool = True) -> tuple[float, float]:
    """What `accard check` does per adapter: read once, sha256 those bytes, parse, measure."""
    adapters = []
    for role in ("undefended", "defended", "reference"):
        data = (paths[role] / "adapter_model.safetensors").read_bytes()
        if hashed:
            hashlib.sha256(data).hexdigest()
        adapters.append(
            open_adapter(
                data,
                "adapter_model.safetensors",
                (paths[role] / "adapter_config.json").read_bytes(),
                None,
                role,
            )
        )
    modules = list(measure(*adapters).modules)
    signature = classify(modules, 0.6)
    return signature.alpha_t, signature.alpha_a


def dense_signature(paths: dict[str, Path], dtype: torch.dtype) -> tuple[float, float]:
    from safetensors.torch import load_file

    state = {role: load_file(str(paths[role] / "adapter_model.safetensors")) for role in paths}
    scale = ALPHA / RANK
    energy = torch.zeros(4, dtype=torch.float64)
    for key in state["reference"]:
        if ".lora_A." not in key:
            continue
        b_key = key.replace("lora_A", "lora_B")
        basis, _ = torch.linalg.qr(state["reference"][b_key].to(dtype))
        for k, role in enumerate(("undefended", "defended")):
            update = scale * state[role][b_key].to(dtype) @ state[role][key].to(dtype)
            inside = basis @ (basis.T @ update)
            energy[2 * k] += inside.square().sum().double()
            energy[2 * k + 1] += (update - inside).square().sum().double()
    return math.sqrt(energy[2] / energy[0]), math.sqrt(energy[3] / energy[1])


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=26)
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_adapters(Path(tmp), args.layers)
        size = sum((p / "adapter_model.safetensors").stat().st_size for p in paths.values())
        accard_signature(paths)  # warm the page cache for every contender alike
        t_accard = min(timed(accard_signature, paths)[0] for _ in range(3))
        t_unhashed = min(timed(accard_signature, paths, False)[0] for _ in range(3))
        tracemalloc.start()
        _, ours = timed(accard_signature, paths)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        t_fp32, fp32 = timed(dense_signature, paths, torch.float32)
        t_fp64, fp64 = timed(dense_signature, paths, torch.float64)
    print(
        f"adapters: {args.layers} layers x {len(MODULES)} modules, r = {RANK}, bf16, "
        f"3 files of {size / 3 / 1e6:.1f} MB"
    )
    print(
        f"accard (disk + sha256, r x r, float64) {t_accard * 1e3:9.1f} ms   "
        f"alpha_T {ours[0]:.6f}  alpha_A {ours[1]:.6f}"
    )
    print(f"accard (disk, no sha256)               {t_unhashed * 1e3:9.1f} ms")
    print(
        f"dense torch float32                    {t_fp32 * 1e3:9.1f} ms   "
        f"alpha_T {fp32[0]:.6f}  alpha_A {fp32[1]:.6f}   accard is {t_fp32 / t_accard:5.0f}x faster"
    )
    print(
        f"dense torch float64                    {t_fp64 * 1e3:9.1f} ms   "
        f"alpha_T {fp64[0]:.6f}  alpha_A {fp64[1]:.6f}   accard is {t_fp64 / t_accard:5.0f}x faster"
    )
    print(
        f"accard peak Python heap {peak / 1e6:.1f} MB = {peak / size:.2f}x the adapter files "
        f"({size / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
