"""Audit every cell of the experiment (audit.ac) and write REPORT.md from the audit's summary.

    python examples/installed_gap/report.py [--audit FILE] [--report FILE] [--jobs N] [--publish]

This is `accard audit audit.ac --out out/audit` plus a page for people: every card, the
summary (JSON, CSV, Markdown, LaTeX), both figures and report.html go to out/audit/ beside
the cells; REPORT.md (the summary's counts and table, and what each defense signs as) and
its two figures (figures/*.svg) are written beside it. --publish copies the cells the README
uses (seed 0: SafeLoRA, weight decay 1, oracle alpha 1) into example/, which is committed.
Every number in REPORT.md is read from the summary or a card; nothing is typed in.
"""

from __future__ import annotations

import argparse
import shutil
from collections import Counter, defaultdict
from pathlib import Path

from accompiler import audit
from accompiler.audit.run import AuditResult

HERE = Path(__file__).resolve().parent
PUBLISHED = ("seed0_safelora", "seed0_weight_decay_1", "seed0_oracle_1")


def signs(result: AuditResult) -> list[str]:
    """How each group's cells sign (measured class), and what SafeLoRA's own statistic did."""
    by_group: dict[str, Counter[str]] = defaultdict(Counter)
    for row in result.summary["cells"]:
        if row["status"] == "computed":
            by_group[row["group"]][str(row["measured"])] += 1
    lines = [
        f"- {group} cells sign as: "
        + ", ".join(f"{measured} ×{n}" for measured, n in sorted(counts.items()))
        + "."
        for group, counts in by_group.items()
    ]
    for name, card in result.cards.items():
        safelora = card["diagnostics"]["mechanism"].get("safelora")
        if safelora:
            modules = len(safelora["modules"])
            lines.append(
                f"- `{name}`: SafeLoRA's own statistic projects {safelora['projected']} of "
                f"{modules} modules."
            )
    return lines


def settings_line(result: AuditResult) -> str:
    card = next(iter(result.cards.values()))
    boot, thresholds = card["settings"]["bootstrap"], card["settings"]["thresholds"]
    return (
        f"Intervals: {boot['confidence']:.0%} two-sided percentile, question-clustered paired "
        f"bootstrap, B = {boot['resamples']}, seed {boot['seed']}; (c) threshold rho_AT < "
        f"{thresholds['rho_at']}; (b) tau_fresh {thresholds['tau_fresh']}."
    )


def report(result: AuditResult, audit_file: Path) -> str:
    passes = result.summary["counts"]["diagnostics"]
    computed = result.summary["counts"]["computed"]
    return "\n".join(
        [
            "# The installed-gap miniature: what it shows",
            "",
            f"Produced by `examples/installed_gap/report.py`, which runs `accard audit "
            f"{audit_file.name}` over every cell `experiment.py` wrote; rerun both to "
            "regenerate it.",
            settings_line(result),
            "",
            "## Summary",
            "",
            *signs(result),
            "- Cells passing each diagnostic: "
            + ", ".join(f"{name} {n['pass']}/{computed}" for name, n in passes.items())
            + ".",
            "",
            "![Held-out Δgap against Δdeploy per cell](figures/bootstrap.svg)",
            "",
            "![The LoRA signature of each cell](figures/signature.svg)",
            "",
            "## Cell by cell",
            "",
            result.render("markdown"),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audit", type=Path, default=HERE / "audit.ac")
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--publish", action="store_true")
    args = parser.parse_args()
    out = args.audit.parent / "out" / "audit"
    result = audit(args.audit, out=out, jobs=args.jobs)
    if not result.complete:
        problems = "\n".join(result.problems.values())
        raise SystemExit(f"some cells could not be computed:\n{problems}")
    figures = args.report.parent / "figures"
    figures.mkdir(exist_ok=True)
    for name in ("bootstrap.svg", "signature.svg"):
        shutil.copyfile(out / "figures" / name, figures / name)
    args.report.write_text(report(result, args.audit), encoding="utf-8")
    print(f"{args.report}: {result.summary['counts']['cells']} cells; the audit is in {out}")
    if args.publish:
        target = HERE / "example"
        shutil.rmtree(target, ignore_errors=True)
        for name in PUBLISHED:
            shutil.copytree(args.audit.parent / "out" / "cells" / name, target / name)
        print(f"published {', '.join(PUBLISHED)} to {target.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
