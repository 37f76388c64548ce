"""The mechanism diagnostic's preparation: adapter bytes -> per-module energies over the
modules the reference covers, and SafeLoRA's own statistic when base and aligned are given."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

from ...adapters import (
    AdapterError,
    AdapterFile,
    Stacked,
    iter_modules,
    module_names,
    open_adapter,
    open_weights,
    read_stacked,
    tensor_shape,
    weight_of,
)
from ...claim.model import ADAPTER_ROLES, WEIGHT_ROLES, Claim
from ...files import InputError
from ...problems import Problem
from ...stats.energy import ModuleEnergy
from ...stats.signature import rank_tolerance, reference_subspace, safelora_cosine, split_energy
from ..registry import InputReader
from .evidence import MechanismEvidence, SafeLoraModule, SafeLoraReport

MODULE_THREADS = 2
THREADED_ELEMENTS = 1 << 22
"""From this many factor values (the three adapters' covered modules) on, modules are
measured in threads."""


def read_evidence(
    claim: Claim, read: InputReader
) -> tuple[MechanismEvidence | None, list[Problem]]:
    """Read the adapters and measure them; an unreadable one is a problem, not a status:
    located at the spec's line of the adapter, naming the file (and key) that is wrong."""
    roles: dict[str, str] = {}
    try:
        u, d, r = (_open_adapter(claim, read, role, roles) for role in ADAPTER_ROLES)
        evidence = measure(u, d, r, claim.settings.rank_rtol)
        if claim.adapter("base") is not None:
            base = _open_weights(read, "base", roles)
            aligned = _open_weights(read, "aligned", roles)
            safelora = measure_safelora(u, base, aligned, claim.settings.safelora_threshold)
            evidence = MechanismEvidence(
                evidence.modules, evidence.not_in_reference, evidence.reference_only, safelora
            )
    except InputError as error:
        return None, [_problem(claim, roles, error.path, error.summary, error.detail)]
    except AdapterError as error:
        return None, [_problem(claim, roles, error.file, error.summary, error.detail)]
    return evidence, []


def _problem(claim: Claim, roles: dict[str, str], file: str, summary: str, detail: str) -> Problem:
    role = roles.get(file)
    field = (
        "claim.adapters"
        if role is None
        else f"claim.adapters.{role}" + ("" if role in WEIGHT_ROLES else ".path")
    )
    return Problem(
        f"`{file}`: {summary}" if file else summary,
        claim.spans.get(field) or claim.spans.get("claim.adapters"),
        detail or "see README, 'Adapters'",
        field,
    )


def _open_adapter(claim: Claim, read: InputReader, role: str, roles: dict[str, str]) -> AdapterFile:
    weights = read(role, "weights")
    assert weights is not None, f"the plan has no weights for the {role} adapter"
    roles.setdefault(weights[0], role)
    config = read(role, "config")
    if config is not None:
        roles.setdefault(config[0], role)
    adapter = claim.adapter(role)
    scale = adapter.scale if adapter is not None else None
    path, data = weights
    return open_adapter(
        data, path, config[1] if config else None, scale, path, config[0] if config else ""
    )


def _open_weights(read: InputReader, role: str, roles: dict[str, str]) -> AdapterFile:
    item = read(role, "weights")
    assert item is not None, f"the plan has no {role} weights"
    roles.setdefault(item[0], role)
    return open_weights(item[1], item[0])


def measure(
    undefended: AdapterFile,
    defended: AdapterFile,
    reference: AdapterFile,
    rank_rtol: float | None = None,
) -> MechanismEvidence:
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
    names = (names_u, names_d, names_r)

    adapters = (undefended, defended, reference)

    def energy(module: str) -> ModuleEnergy:
        return _module_energy(
            read_stacked(adapters, module, tuple(n[module] for n in names)), rank_rtol
        )

    # Each module's three adapters stacked, so every factor is read once and every product
    # comes from one Gram matrix. Large adapters: modules in threads (numpy releases the GIL
    # while it widens and multiplies), BLAS inside each thread single-threaded (the threads
    # already fill the cores, and BLAS's own threads on top of them made the Llama-3-8B
    # shapes 2.7x slower). Small ones: in this thread (threads and threadpoolctl's ~15 ms
    # import would cost more than they save).
    if _factor_elements(adapters, names, covered) < THREADED_ELEMENTS:
        modules = [energy(module) for module in covered]
    else:
        from threadpoolctl import threadpool_limits

        with (
            threadpool_limits(limits=1, user_api="blas"),
            ThreadPoolExecutor(MODULE_THREADS) as pool,
        ):
            modules = list(pool.map(energy, covered))
    return MechanismEvidence(
        tuple(modules),
        tuple(sorted(set(names_u) - set(names_r))),
        tuple(sorted(set(names_r) - set(names_u))),
    )


def _factor_elements(
    adapters: tuple[AdapterFile, ...],
    names: tuple[dict[str, dict[str, str]], ...],
    covered: list[str],
) -> int:
    """How many values the covered modules' factors hold, in all three adapters."""
    return sum(
        math.prod(tensor_shape(adapter, keys[module][factor]))
        for adapter, keys in zip(adapters, names, strict=True)
        for module in covered
        for factor in ("A", "B")
    )


def _module_energy(stacked: Stacked, rank_rtol: float | None) -> ModuleEnergy:
    u, d, r = stacked.modules
    rtol = (
        rank_rtol
        if rank_rtol is not None
        else rank_tolerance((r.b.shape[0], r.a.shape[1]), r.a.shape[0], r.eps)
    )
    subspace = reference_subspace(r.b, r.a, rtol, r.gram_a, r.gram_b)
    in_u, out_u = split_energy(
        subspace, u.b, u.a, u.scale, u.gram_a, u.gram_b, stacked.cross_b(2, 0)
    )
    in_d, out_d = split_energy(
        subspace, d.b, d.a, d.scale, d.gram_a, d.gram_b, stacked.cross_b(2, 1)
    )
    if not all(math.isfinite(e) for e in (in_u, out_u, in_d, out_d)):
        raise AdapterError(
            f"module `{u.name}`: the adapters hold NaN or infinite values (or values too "
            "large for float64 energies)"
        )
    return ModuleEnergy(u.name, subspace.rank, in_u, out_u, in_d, out_d)


def measure_safelora(
    undefended: AdapterFile, base: AdapterFile, aligned: AdapterFile, threshold: float
) -> SafeLoraReport:
    """What SafeLoRA itself would do to the undefended adapter, module by module."""
    names = module_names(undefended)
    rows = []
    for module in iter_modules(undefended, names, sorted(names)):
        shape = (module.b.shape[0], module.a.shape[1])
        v = weight_of(base, module.name, shape) - weight_of(aligned, module.name, shape)
        cosine = safelora_cosine(v, module.b, module.a, module.gram_a, module.gram_b)
        rows.append(SafeLoraModule(module.name, cosine, cosine is not None and cosine <= threshold))
    return SafeLoraReport(threshold, tuple(rows))
