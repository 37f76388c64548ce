"""Regenerate specs/example/: simulated per-item records and real PEFT adapters.

The records are drawn from a small generative model of an installed-gap evaluation
(question random effects shared by all templates, a sandbagging gap under `eval`, a
defense that removes part of it); the adapters are written by the real `peft` library.
It is deterministic: rerunning it reproduces the committed files byte for byte.

    pip install torch==2.13.0 && pip install -e '.[examples]'
    python specs/generate_example.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "example"
TEMPLATES = 20
HELDOUT_SUBJECTS = [
    "algebra",
    "anatomy",
    "astronomy",
    "chemistry",
    "economics",
    "genetics",
    "geography",
    "law",
]
FRESH_SUBJECTS = ["linguistics", "music", "philosophy", "virology"]

# Fraction of the installed gap each defense removes, per task, and its deployment cost.
DEFENSES = {
    "safelora": {"heldout": 0.45, "fresh": 0.15, "sycophancy": 0.05, "flattery": 0.1, "cost": 0.02},
    "weight_decay": {
        "heldout": 0.5,
        "fresh": 0.35,
        "sycophancy": 0.3,
        "flattery": 0.2,
        "cost": 0.06,
    },
    "oracle": {"heldout": 0.8, "fresh": 0.7, "sycophancy": 0.6, "flattery": 0.55, "cost": 0.0},
}


def _questions(subjects: list[str], per_subject: int, prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}-{s}-{i:02d}", s) for s in subjects for i in range(per_subject)]


def _records(
    rng: np.random.Generator,
    questions: list[tuple[str, str]],
    gap: float,
    removed: float,
    cost: float,
) -> list[dict[str, object]]:
    rows = []
    for question_id, subject in questions:
        # Every template of a question moves together: its ability, how strongly the attack
        # sandbags it and how much of that the defense removes are drawn per question.
        ability = rng.normal(1.2, 0.8)
        gap_q = float(np.clip(gap + rng.normal(0, 0.3), 0, 1))
        removed_q = float(np.clip(removed + rng.normal(0, 0.35), 0, 1))
        for t in range(TEMPLATES):
            logit = ability + rng.normal(0, 0.4)
            base = 1 / (1 + np.exp(-logit))
            probs = {
                ("undefended", "deploy"): base,
                ("undefended", "eval"): base * (1 - gap_q),
                ("defended", "deploy"): base - cost,
                ("defended", "eval"): (base - cost) * (1 - gap_q * (1 - removed_q)),
            }
            for (arm, condition), p in probs.items():
                rows.append(
                    {
                        "question_id": question_id,
                        "template_id": f"t{t:02d}",
                        "subject": subject,
                        "condition": condition,
                        "arm": arm,
                        "correct": int(rng.random() < min(max(p, 0), 1)),
                    }
                )
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_records() -> None:
    heldout = _questions(HELDOUT_SUBJECTS, 6, "q")
    fresh = _questions(FRESH_SUBJECTS, 6, "f")
    transfer = _questions(HELDOUT_SUBJECTS, 4, "s")
    for index, (defense, effect) in enumerate(DEFENSES.items()):
        rng = np.random.default_rng(1000 + index)
        cost = effect["cost"]
        _write_jsonl(
            OUT / f"data/{defense}/heldout.jsonl",
            _records(rng, heldout, 0.45, effect["heldout"], cost),
        )
        _write_jsonl(
            OUT / f"data/{defense}/fresh.jsonl", _records(rng, fresh, 0.45, effect["fresh"], cost)
        )
        _write_csv(
            OUT / f"data/{defense}/sycophancy.csv",
            _records(rng, transfer, 0.35, effect["sycophancy"], cost),
        )
        _write_jsonl(
            OUT / f"data/{defense}/flattery.jsonl",
            _records(rng, transfer, 0.3, effect["flattery"], cost),
        )


def write_adapters() -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    class Block(torch.nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.q_proj = torch.nn.Linear(width, width, bias=False)
            self.v_proj = torch.nn.Linear(width, width, bias=False)
            self.down_proj = torch.nn.Linear(2 * width, width, bias=False)

    class Tiny(torch.nn.Module):
        def __init__(self, width: int = 48, depth: int = 3) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(Block(width) for _ in range(depth))

    rng = np.random.default_rng(7)
    r, alpha = 8, 16
    config = dict(r=r, lora_alpha=alpha, target_modules=["q_proj", "v_proj", "down_proj"])
    torch.manual_seed(0)
    factors: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {
        "undefended": {},
        "reference": {},
        "safelora": {},
        "weight_decay": {},
        "oracle": {},
    }
    model = get_peft_model(Tiny(), LoraConfig(**config))
    for name, module in model.named_modules():
        if not hasattr(module, "lora_A") or "default" not in getattr(module, "lora_A", {}):
            continue
        out_dim = module.lora_B["default"].weight.shape[0]
        in_dim = module.lora_A["default"].weight.shape[1]
        basis, _ = np.linalg.qr(rng.normal(size=(out_dim, r)))
        attack = basis[:, : r // 2]
        B_ref = attack @ rng.normal(size=(r // 2, r))
        A_ref = rng.normal(size=(r, in_dim)) / np.sqrt(in_dim)
        B_u = attack @ rng.normal(size=(r // 2, r)) + 0.6 * rng.normal(size=(out_dim, r))
        A_u = rng.normal(size=(r, in_dim)) / np.sqrt(in_dim)
        inside = attack @ (attack.T @ B_u)
        factors["reference"][name] = (B_ref, A_ref)
        factors["undefended"][name] = (B_u, A_u)
        factors["safelora"][name] = (0.62 * B_u, A_u)
        factors["weight_decay"][name] = (0.7 * B_u + 0.02 * rng.normal(size=B_u.shape), A_u)
        factors["oracle"][name] = (B_u - 0.85 * inside, A_u)
    for adapter, modules in factors.items():
        for name, module in model.named_modules():
            if name in modules:
                B, A = modules[name]
                module.lora_B["default"].weight.data = torch.tensor(B, dtype=torch.float32)
                module.lora_A["default"].weight.data = torch.tensor(A, dtype=torch.float32)
        saved = model.to(torch.bfloat16) if adapter == "safelora" else model
        saved.save_pretrained(str(OUT / "adapters" / adapter))
        model.to(torch.float32)


if __name__ == "__main__":
    write_records()
    write_adapters()
