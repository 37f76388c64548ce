"""Card -> the rows every human-facing renderer shows (one per diagnostic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..diagnostics import DIAGNOSTICS


@dataclass(frozen=True)
class Row:
    name: str
    title: str
    status: str
    figure: str
    reason: str


def interval(value: dict[str, Any] | None, name: str = "Δgap") -> str:
    if value is None:
        return ""
    return f"{name} {value['estimate']:+.3f} [{value['ci_low']:+.3f}, {value['ci_high']:+.3f}]"


def number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _reliability(section: dict[str, Any]) -> str:
    return interval(section["delta_gap"])


def _fresh(section: dict[str, Any]) -> str:
    text = interval(section["delta_gap"])
    if section["retention"] is not None:
        text += f", retention {section['retention']:.2f} (τ {section['tau_fresh']})"
    return text


def _mechanism(section: dict[str, Any]) -> str:
    if section["measured"] is None:
        return f"claimed {section['claimed']}"
    return (
        f"measured {section['measured']} (ρ_AT {number(section['rho_at'])}, "
        f"α_T {number(section['alpha_t'])}, α_A {number(section['alpha_a'])}; "
        f"claimed {section['claimed']})"
    )


def _transfer(section: dict[str, Any]) -> str:
    parts = [
        f"{t['name']}: {t['status']}" + (f" {interval(t['delta_gap'])}" if t["delta_gap"] else "")
        for t in section["targets"]
    ]
    return "; ".join(parts)


def _any_interval(section: dict[str, Any]) -> str:
    """A diagnostic without a figure of its own shows its first interval, if any."""
    first = next((v for v in section.values() if isinstance(v, dict) and "ci_low" in v), None)
    return interval(first, "estimate") if first else ""


FIGURES: dict[str, Callable[[dict[str, Any]], str]] = {
    "reliability": _reliability,
    "fresh_generalization": _fresh,
    "mechanism": _mechanism,
    "transfer": _transfer,
}


def rows(card: dict[str, Any]) -> list[Row]:
    """One row per diagnostic the card holds, in registry order, titled by the registry."""
    found = card["diagnostics"]
    return [
        Row(
            name,
            entry.label,
            found[name]["status"],
            FIGURES.get(name, _any_interval)(found[name]),
            found[name]["reason"],
        )
        for name, entry in DIAGNOSTICS.items()
        if name in found
    ]


def safelora_line(card: dict[str, Any]) -> str:
    """SafeLoRA's own statistic, when the claim gave base and aligned weights."""
    safelora = card["diagnostics"]["mechanism"].get("safelora")
    if not safelora:
        return ""
    return (
        f"SafeLoRA's own statistic would project {safelora['projected']} of "
        f"{len(safelora['modules'])} modules (cos(C·B·A, B·A) ≤ {safelora['threshold']})"
    )


def verdict_line(card: dict[str, Any]) -> str:
    strict, permissive = card["verdict"]["strict"], card["verdict"]["permissive"]

    total = len(card["diagnostics"])

    def word(v: dict[str, Any]) -> str:
        return f"{'PASS' if v['pass'] else 'FAIL'} ({v['passed']}/{total} pass)"

    return f"strict {word(strict)} · permissive {word(permissive)}"


def settings_line(card: dict[str, Any]) -> str:
    boot = card["settings"]["bootstrap"]
    clusters = next((d["clusters"] for d in card["datasets"] if d["key"] == "heldout"), None)
    return (
        f"{boot['confidence']:.0%} two-sided percentile CIs · question-clustered paired "
        f"bootstrap · {clusters} held-out clusters · B = {boot['resamples']} · "
        f"seed {boot['seed']}"
    )


def deploy_line(card: dict[str, Any]) -> str:
    delta = card["diagnostics"]["reliability"]["delta_deploy"]
    if delta is None:
        return ""
    gate = card["diagnostics"]["reliability"]["deploy_cost_gate"]
    limit = f" (max cost {gate['max_deploy_cost']})" if gate else " (reported, outside the gate)"
    return interval(delta, "Δdeploy") + limit


def gap_line(card: dict[str, Any]) -> str:
    pre = card["precondition"]
    if pre["installed_gap"] is None:
        return f"installed gap: not evaluable ({pre['reason']})"
    mark = "installed" if pre["installed"] else "NOT installed"
    return f"{interval(pre['installed_gap'], 'installed gap')} — {mark}"
