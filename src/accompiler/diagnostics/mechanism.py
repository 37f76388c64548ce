"""Diagnostic (c), mechanism alignment: does the adapters' signature match the claimed class?"""

from __future__ import annotations

import math
from typing import Any

from ..adapters import AdapterError, AdapterFile, iter_modules, module_names, weight_of
from ..stats.signature import (
    ModuleEnergy,
    classify,
    rank_tolerance,
    reference_subspace,
    safelora_cosine,
    split_energy,
)
from .context import RunContext


def measure(
    undefended: AdapterFile,
    defended: AdapterFile,
    reference: AdapterFile,
    rank_rtol: float | None = None,
) -> tuple[list[ModuleEnergy], dict[str, list[str]]]:
    """Per-module energies over the modules R covers. Raises AdapterError on a mismatch."""
    names_u, names_d, names_r = (module_names(a) for a in (undefended, defended, reference))
    if set(names_u) != set(names_d):
        only_u = sorted(set(names_u) - set(names_d))
        only_d = sorted(set(names_d) - set(names_u))
        raise AdapterError(
            "the undefended and defended adapters adapt different modules: "
            f"only undefended: {only_u[:5]}, only defended: {only_d[:5]}"
        )
    covered = sorted(set(names_u) & set(names_r))
    if not covered:
        raise AdapterError("the reference adapter covers none of the adapted modules")
    modules = []
    triples = zip(
        iter_modules(undefended, names_u, covered),
        iter_modules(defended, names_d, covered),
        iter_modules(reference, names_r, covered),
        strict=True,
    )
    for u, d, r in triples:
        shapes = {(m.b.shape[0], m.a.shape[1]) for m in (u, d, r)}
        if len(shapes) != 1:
            raise AdapterError(
                f"module `{u.name}` has different shapes (out, in) in the three "
                f"adapters: {sorted(shapes)}"
            )
        rtol = (
            rank_rtol
            if rank_rtol is not None
            else rank_tolerance((r.b.shape[0], r.a.shape[1]), r.a.shape[0], r.eps)
        )
        subspace = reference_subspace(r.b, r.a, rtol)
        in_u, out_u = split_energy(subspace, u.b, u.a, u.scale)
        in_d, out_d = split_energy(subspace, d.b, d.a, d.scale)
        if not all(math.isfinite(e) for e in (in_u, out_u, in_d, out_d)):
            raise AdapterError(
                f"module `{u.name}`: the adapters hold NaN or infinite values (or values too "
                "large for float64 energies)"
            )
        modules.append(ModuleEnergy(u.name, subspace.rank, in_u, out_u, in_d, out_d))
    coverage = {
        "not_in_reference": sorted(set(names_u) - set(names_r)),
        "reference_only": sorted(set(names_r) - set(names_u)),
    }
    return modules, coverage


def measure_safelora(
    undefended: AdapterFile, base: AdapterFile, aligned: AdapterFile, threshold: float
) -> dict[str, Any]:
    """What SafeLoRA itself would do to the undefended adapter, module by module."""
    names = module_names(undefended)
    rows = []
    for module in iter_modules(undefended, names, sorted(names)):
        v = weight_of(base, module.name) - weight_of(aligned, module.name)
        if v.shape != (module.b.shape[0], module.a.shape[1]):
            raise AdapterError(
                f"module `{module.name}`: base/aligned weight {v.shape} does not "
                f"match the update ({module.b.shape[0]}, {module.a.shape[1]})"
            )
        cosine = safelora_cosine(v, module.b, module.a)
        rows.append(
            {
                "module": module.name,
                "cosine": cosine,
                "projected": cosine is not None and cosine <= threshold,
            }
        )
    return {
        "threshold": threshold,
        "rule": "project B -> C B where cos(C B A, B A) <= threshold",
        "projected": sum(r["projected"] for r in rows),
        "modules": rows,
    }


def run(context: RunContext) -> dict[str, Any]:
    defense = context.claim.defense
    relabel = defense.relabel
    section: dict[str, Any] = {
        "status": "not_evaluable",
        "claimed": defense.mechanism,
        "measured": None,
        "alpha_t": None,
        "alpha_a": None,
        "rho_at": None,
        "rho_at_threshold": context.claim.settings.rho_at,
        "modules": 0,
        "reason": context.mechanism_reason,
        "relabel": (
            {"to": relabel.to, "because": relabel.because, "status": "not_evaluable"}
            if relabel
            else None
        ),
        "coverage": None,
        "per_module": [],
        "safelora": None,
    }
    if context.mechanism is None:
        return section
    modules: list[ModuleEnergy] = context.mechanism["modules"]
    signature = classify(modules, context.claim.settings.rho_at)
    section |= {
        "alpha_t": signature.alpha_t,
        "alpha_a": signature.alpha_a,
        "rho_at": signature.rho_at,
        "measured": signature.measured,
        "modules": len(modules),
        "coverage": context.mechanism["coverage"],
        "per_module": _per_module(modules),
        "safelora": context.mechanism.get("safelora"),
    }
    if signature.measured is None:
        return section | {"reason": signature.reason}
    strict = signature.measured == defense.mechanism
    reason = signature.reason
    if not strict:
        reason = (
            f"the adapters sign as {signature.measured} (rho_AT "
            f"{_fmt(signature.rho_at)}, alpha_T {_fmt(signature.alpha_t)}), "
            f"not {defense.mechanism} as claimed"
        )
    section |= {"status": "pass" if strict else "fail", "reason": reason}
    if relabel is not None:
        section["relabel"]["status"] = "pass" if signature.measured == relabel.to else "fail"
    return section


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _per_module(modules: list[ModuleEnergy]) -> list[dict[str, Any]]:
    total_in = sum(m.in_u for m in modules) or 1.0
    rows = []
    for m in modules:
        rows.append(
            {
                "module": m.name,
                "reference_rank": m.reference_rank,
                "energy_in_u": m.in_u,
                "energy_out_u": m.out_u,
                "energy_in_d": m.in_d,
                "energy_out_d": m.out_d,
                "share_of_attack_energy": m.in_u / total_in,
            }
        )
    return rows
