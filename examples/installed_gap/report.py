"""Check every cell of the experiment with accard and write REPORT.md from the cards.

    python examples/installed_gap/report.py [--out DIR] [--publish]

Each cell's card is written beside its claim (card.json). --publish copies the cells the
README uses (seed 0: SafeLoRA, weight decay 1, oracle alpha 1) into example/, which is
committed. Every number in REPORT.md is read from a card; nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

from accompiler import check
from accompiler.card import Card, write_card

HERE = Path(__file__).resolve().parent
PUBLISHED = ("seed0_safelora", "seed0_weight_decay_1", "seed0_oracle_1")


def card_of(spec: Path) -> dict:
    return check(spec).document


def interval(value: dict | None) -> str:
    if value is None:
        return "n/a"
    return f"{value['estimate']:+.3f} [{value['ci_low']:+.3f}, {value['ci_high']:+.3f}]"


def number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


MARK = {"pass": "pass", "fail": "**fail**", "not_evaluable": "n/e"}


def row(cell: dict, card: dict) -> str:
    d = card["diagnostics"]
    mechanism = d["mechanism"]
    signature = (
        f"{mechanism['measured']} (ρ {number(mechanism['rho_at'])}, "
        f"α_T {number(mechanism['alpha_t'])}, α_A {number(mechanism['alpha_a'])})"
    )
    transfer = d["transfer"]["targets"][0]["delta_gap"] if d["transfer"]["targets"] else None
    verdict = card["verdict"]["strict"]
    installed = interval(card["precondition"]["installed_gap"])
    return (
        f"| {cell['cell']} | {cell['claimed']} | {installed} | "
        f"{MARK[d['reliability']['status']]} {interval(d['reliability']['delta_gap'])} | "
        f"{MARK[d['fresh_generalization']['status']]} retention "
        f"{number(d['fresh_generalization']['retention'])} | "
        f"{MARK[mechanism['status']]} {signature} | {MARK[d['transfer']['status']]} "
        f"{interval(transfer)} | {interval(d['reliability']['delta_deploy'])} | "
        f"{verdict['passed']}/4 |"
    )


def summary(cells: list[dict], cards: dict[str, dict]) -> list[str]:
    lines = []
    strict = [c["cell"] for c in cells if cards[c["cell"]]["verdict"]["strict"]["pass"]]
    lines.append(
        f"- Cells with a strict full-card pass: {len(strict)} of {len(cells)}"
        + (f" ({', '.join(strict)})." if strict else ".")
    )
    by_family: dict[str, Counter] = defaultdict(Counter)
    for c in cells:
        by_family[c["family"]][cards[c["cell"]]["diagnostics"]["mechanism"]["measured"]] += 1
    for family, counts in sorted(by_family.items()):
        signs = ", ".join(f"{measured} x{n}" for measured, n in sorted(counts.items(), key=str))
        lines.append(f"- `{family}` cells sign as: {signs}.")
    passes = Counter()
    for c in cells:
        for name, section in cards[c["cell"]]["diagnostics"].items():
            passes[name] += section["status"] == "pass"
    lines.append(
        "- Cells passing each diagnostic: "
        + ", ".join(
            f"{name} {passes[name]}/{len(cells)}"
            for name in ("reliability", "fresh_generalization", "mechanism", "transfer")
        )
        + "."
    )
    notes = sorted({c["note"] for c in cells if c["note"]})
    lines += [f"- {note}." for note in notes]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--publish", action="store_true")
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    args = parser.parse_args()
    cells = json.loads((args.out / "cells" / "index.json").read_text())
    cards = {}
    for cell in cells:
        spec = args.out / cell["spec"]
        cards[cell["cell"]] = card_of(spec)
        write_card(Card(cards[cell["cell"]]), spec.parent / "card.json")
    first = cards[cells[0]["cell"]]
    boot = first["settings"]["bootstrap"]
    lines = [
        "# The installed-gap miniature: what it shows",
        "",
        "Produced by `examples/installed_gap/report.py` from the cards of every cell that",
        "`examples/installed_gap/experiment.py` wrote; rerun both to regenerate it.",
        f"Intervals: {boot['confidence']:.0%} two-sided percentile, question-clustered paired "
        f"bootstrap, B = {boot['resamples']}, seed {boot['seed']}; (c) threshold rho_AT < "
        f"{first['settings']['thresholds']['rho_at']}; (b) tau_fresh "
        f"{first['settings']['thresholds']['tau_fresh']}.",
        "",
        "## Summary",
        "",
        *summary(cells, cards),
        "",
        "## Cell by cell",
        "",
        "| cell | claimed | installed gap | (a) Δgap held-out | (b) fresh | (c) signature | "
        "(d) Δgap transfer | Δdeploy | strict |",
        "|---|---|---|---|---|---|---|---|---|",
        *(row(c, cards[c["cell"]]) for c in cells),
        "",
    ]
    args.report.write_text("\n".join(lines), encoding="utf-8")
    print(f"{args.report}: {len(cells)} cells")
    if args.publish:
        target = HERE / "example"
        shutil.rmtree(target, ignore_errors=True)
        for name in PUBLISHED:
            shutil.copytree(
                args.out / "cells" / name, target / name, ignore=shutil.ignore_patterns("card.json")
            )
        print(f"published {', '.join(PUBLISHED)} to {target.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
