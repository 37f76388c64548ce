"""Per-module energies -> the signature (alpha_T, alpha_A, rho_AT) and the measured class,
by PROTOCOL's rules and their degenerate cases; plain Python (a saved card needs no numpy)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..canonical import round_numbers

# Energies at or below this fraction of the update's total energy count as none at all: the
# outside energy is total - inside, exact only to about 1e-14 of the total.
ZERO_ENERGY = 1e-10


@dataclass(frozen=True)
class ModuleEnergy:
    """Squared Frobenius norms of one module's U and D updates inside/outside R's space."""

    name: str
    reference_rank: int
    in_u: float
    out_u: float
    in_d: float
    out_d: float


@dataclass(frozen=True)
class Signature:
    alpha_t: float | None
    alpha_a: float | None
    rho_at: float | None
    measured: str | None
    reason: str


def classify(modules: list[ModuleEnergy], rho_threshold: float) -> Signature:
    """Aggregate module energies into alpha_T, alpha_A, rho_AT and the measured class.

    Degenerate rules: U with no energy inside (or outside) the reference space leaves
    alpha_T (alpha_A) undefined: not evaluable. A zero D update is a uniform removal:
    alpha_T = alpha_A = 0, rho_AT undefined, class `shrinkage`. alpha_A = 0 < alpha_T makes
    rho_AT infinite (reported as null): never `attack_targeted`.
    """
    in_u, out_u = sum(m.in_u for m in modules), sum(m.out_u for m in modules)
    in_d, out_d = sum(m.in_d for m in modules), sum(m.out_d for m in modules)
    total_u = in_u + out_u
    if total_u <= 0 or in_u <= ZERO_ENERGY * total_u:
        return Signature(
            None,
            None,
            None,
            None,
            "the undefended update has no energy inside "
            "the reference attack subspace, so alpha_T is undefined",
        )
    if out_u <= ZERO_ENERGY * total_u:
        return Signature(
            None,
            None,
            None,
            None,
            "the undefended update has no energy outside "
            "the reference attack subspace, so alpha_A is undefined",
        )
    # The card records 12 significant digits; the class is decided on those very numbers.
    alpha_t = round_numbers(math.sqrt(in_d / in_u))
    alpha_a = round_numbers(math.sqrt(out_d / out_u))
    if in_d + out_d <= ZERO_ENERGY * total_u:
        return Signature(
            0.0,
            0.0,
            None,
            "shrinkage",
            "the defended update is zero: the whole "
            "update was removed uniformly (rho_AT undefined; coded shrinkage)",
        )
    if alpha_a == 0:
        return Signature(
            alpha_t,
            alpha_a,
            None,
            measured_class(alpha_t, alpha_a, None, rho_threshold),
            "alpha_A is 0, so rho_AT is infinite (not attack-targeted)",
        )
    rho = round_numbers(math.sqrt(in_d / in_u) / math.sqrt(out_d / out_u))
    return Signature(
        alpha_t, alpha_a, rho, measured_class(alpha_t, alpha_a, rho, rho_threshold), ""
    )


def measured_class(
    alpha_t: float | None, alpha_a: float | None, rho_at: float | None, rho_threshold: float
) -> str | None:
    """PROTOCOL's class of a signature: `attack_targeted` if rho_AT < the threshold, else
    `shrinkage` if alpha_T < 1, else `none`; an undefined alpha is no class (None) and an
    undefined rho_AT (alpha_A = 0: a zero update, or one kept only inside) is never
    attack-targeted."""
    if alpha_t is None or alpha_a is None:
        return None
    if rho_at is not None and rho_at < rho_threshold:
        return "attack_targeted"
    return "shrinkage" if alpha_t < 1 else "none"
