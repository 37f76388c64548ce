"""Card -> the pieces every human-facing renderer shows: one row per diagnostic, the data
sets' numbers, and the headline lines. No computation: everything is read from the card."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..diagnostics import DIAGNOSTICS

Section = dict[str, Any]
NOT_GATED = " (not gated)"


@dataclass(frozen=True)
class Row:
    name: str
    title: str
    status: str
    figure: str
    reason: str


@dataclass(frozen=True)
class DataSetRow:
    """One data set: where it sits in the claim, its size, and its intervals as text."""

    label: str
    clusters: str
    items: str
    gap_undefended: str
    gap_defended: str
    delta_gap: str
    delta_deploy: str


def interval(value: Section | None, name: str = "Δgap") -> str:
    if value is None:
        return ""
    numbers = f"{value['estimate']:+.3f} [{value['ci_low']:+.3f}, {value['ci_high']:+.3f}]"
    return f"{name} {numbers}" if name else numbers


def number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _gated(section: Section, text: str) -> str:
    """Numbers of a diagnostic that could not be judged are shown, marked as not gated."""
    return text + NOT_GATED if text and section["status"] == "not_evaluable" else text


def _reliability(section: Section) -> str:
    return _gated(section, interval(section["delta_gap"]))


def _fresh(section: Section) -> str:
    text = _gated(section, interval(section["delta_gap"]))
    if section["retention"] is not None:
        text += f", retention {section['retention']:.2f} (τ {section['tau_fresh']})"
    return text


def _mechanism(section: Section) -> str:
    relabel = section.get("relabel")
    relabelled = f"; relabelled {relabel['to']}: {relabel['status']}" if relabel else ""
    if section["measured"] is None:
        return f"claimed {section['claimed']}{relabelled}"
    return (
        f"measured {section['measured']} (ρ_AT {number(section['rho_at'])}, "
        f"α_T {number(section['alpha_t'])}, α_A {number(section['alpha_a'])}; "
        f"claimed {section['claimed']}{relabelled})"
    )


def _transfer(section: Section) -> str:
    parts = []
    for target in section["targets"]:
        numbers = _gated(target, interval(target["delta_gap"]))
        parts.append(f"{target['name']}: {target['status']}" + (f" {numbers}" if numbers else ""))
    return "; ".join(parts)


def _any_interval(section: Section) -> str:
    """A diagnostic without a figure of its own shows its first interval, if any."""
    first = next((v for v in section.values() if isinstance(v, dict) and "ci_low" in v), None)
    return interval(first, "estimate") if first else ""


FIGURES: dict[str, Callable[[Section], str]] = {
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


def dataset_rows(card: dict[str, Any]) -> list[DataSetRow]:
    """Every data set with the gap of each arm, Δgap and Δdeploy, gated or not."""
    return [_dataset_row(d) for d in card["datasets"]]


def _dataset_row(data: Section) -> DataSetRow:
    role = data["key"].split(":")[0]
    label = {"heldout": f"held-out `{data['name']}`", "fresh": "fresh"}.get(
        role, f"{role} `{data['name']}`"
    )
    intervals = data.get("intervals") or {}
    cells = [intervals.get(k) for k in ("installed_gap", "defended_gap", "delta_gap")]
    texts = [interval(c, "") or "—" for c in [*cells, intervals.get("delta_deploy")]]
    clusters = "—" if data["clusters"] is None else str(data["clusters"])
    items = "—" if data["items"] is None else str(data["items"])
    return DataSetRow(label, clusters, items, *texts)


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

    def word(v: Section) -> str:
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
    reliability = card["diagnostics"]["reliability"]
    delta = reliability["delta_deploy"]
    if delta is None:
        return ""
    limit = card["settings"]["thresholds"]["max_deploy_cost"]
    if limit is None:
        note = " (reported, outside the gate)"
    elif reliability["status"] == "not_evaluable":
        note = f" (max cost {limit}; not gated)"
    else:
        note = f" (max cost {limit})"
    return interval(delta, "Δdeploy") + note


def gap_line(card: dict[str, Any]) -> str:
    pre = card["precondition"]
    if pre["installed_gap"] is None:
        return f"installed gap: not evaluable ({pre['reason']})"
    mark = "installed" if pre["installed"] else "NOT installed"
    return f"{interval(pre['installed_gap'], 'installed gap')} — {mark}"
