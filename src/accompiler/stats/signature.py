"""LoRA factors -> the mechanism signature (alpha_T, alpha_A, rho_AT) with r x r algebra.

dW = s B A is never formed: the reference's column space comes from QR of its factors and
an r x r SVD, and ||P X||_F^2 for X = s B A is s^2 tr((P B)^T (P B) (A A^T)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Energies at or below this fraction of the update's total energy count as none at all.
ZERO_ENERGY = 1e-20


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


def rank_tolerance(shape: tuple[int, int], rank: int, stored_eps: float) -> float:
    """Relative singular-value threshold of the numerical rank of dW = B @ A.

    The larger of numpy.linalg.matrix_rank's float64 rule, max(out, in) * eps64, and the
    rounding noise of the stored factors, 2 * sqrt(r) * eps_storage: a rank-4 reference
    stored in float32 or bf16 has 4 more singular values at that noise level, and they must
    not count as attack directions.
    """
    float64_rule = max(shape) * float(np.finfo(np.float64).eps)
    return max(float64_rule, 2.0 * math.sqrt(rank) * stored_eps)


def reference_basis(b: NDArray[np.float64], a: NDArray[np.float64],
                    rtol: float | None = None) -> NDArray[np.float64]:
    """Orthonormal basis (out x k) of the column space of B @ A, k its numerical rank.

    Singular values at or below `rtol` times the largest are dropped (default: the float64
    matrix_rank rule; see `rank_tolerance` for stored low-precision factors).
    """
    q_b, r_b = np.linalg.qr(b)
    _q_a, r_a = np.linalg.qr(a.T)
    left, singular, _ = np.linalg.svd(r_b @ r_a.T)
    if singular.size == 0 or singular[0] == 0:
        return np.zeros((b.shape[0], 0))
    if rtol is None:
        rtol = rank_tolerance((b.shape[0], a.shape[1]), b.shape[1], float(np.finfo(np.float64).eps))
    tolerance = singular[0] * rtol
    rank = int((singular > tolerance).sum())
    return q_b @ left[:, :rank]


def split_energy(basis: NDArray[np.float64], b: NDArray[np.float64], a: NDArray[np.float64],
                 scale: float) -> tuple[float, float]:
    """(||P_T dW||^2, ||P_perp dW||^2) for dW = scale * b @ a, in r x r algebra."""
    gram = a @ a.T
    inside = basis.T @ b
    outside = b - basis @ inside
    s2 = scale * scale
    return (s2 * float(np.einsum("ij,jk,ik->", inside, gram, inside)),
            s2 * float(np.einsum("ij,jk,ik->", outside, gram, outside)))


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
        return Signature(None, None, None, None, "the undefended update has no energy inside "
                         "the reference attack subspace, so alpha_T is undefined")
    if out_u <= ZERO_ENERGY * total_u:
        return Signature(None, None, None, None, "the undefended update has no energy outside "
                         "the reference attack subspace, so alpha_A is undefined")
    alpha_t, alpha_a = math.sqrt(in_d / in_u), math.sqrt(out_d / out_u)
    if in_d + out_d <= ZERO_ENERGY * total_u:
        return Signature(0.0, 0.0, None, "shrinkage", "the defended update is zero: the whole "
                         "update was removed uniformly (rho_AT undefined; coded shrinkage)")
    if alpha_a == 0:
        measured = "shrinkage" if alpha_t < 1 else "none"
        return Signature(alpha_t, alpha_a, None, measured,
                         "alpha_A is 0, so rho_AT is infinite (not attack-targeted)")
    rho = alpha_t / alpha_a
    measured = "attack_targeted" if rho < rho_threshold else ("shrinkage" if alpha_t < 1 else "none")
    return Signature(alpha_t, alpha_a, rho, measured, "")
