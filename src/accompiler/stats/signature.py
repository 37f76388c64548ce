"""LoRA factors -> energies inside and outside the reference subspace, with r x r algebra.

dW = s B A is never formed, nor any out x r orthonormal basis: the reference's column space
is found from r x r Gram matrices, and ||Q^T X||_F^2 for X = s B A is
s^2 tr((Q^T B) (A A^T) (Q^T B)^T), with Q^T B = whitener @ (B_R^T B).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

GRAM_FLOOR = 1e-7
"""Singular values are found from r x r Gram matrices, which resolve them only down to
about sqrt(eps64) (1.5e-8) of the largest: no smaller relative threshold is meaningful."""


def rank_tolerance(shape: tuple[int, int], rank: int, stored_eps: float) -> float:
    """Relative singular-value threshold of the numerical rank of dW = B @ A.

    The largest of numpy.linalg.matrix_rank's float64 rule, max(out, in) * eps64; the
    rounding noise of the stored factors, 2 * sqrt(r) * eps_storage (a rank-4 reference
    stored in float32 or bf16 has 4 more singular values at that level, and they must not
    count as attack directions); and GRAM_FLOOR.
    """
    float64_rule = max(shape) * float(np.finfo(np.float64).eps)
    return max(float64_rule, 2.0 * math.sqrt(rank) * stored_eps, GRAM_FLOOR)


@dataclass(frozen=True)
class Subspace:
    """The column space of a reference update B_R A_R, held as r x r algebra.

    With M = B_R G^(1/2) (G = A_R A_R^T, so col(M) = col(B_R A_R)) and M^T M = V S^2 V^T,
    the orthonormal basis is Q = M V_k S_k^-1; Q^T X = whitener @ (B_R^T X) for any X.
    """

    b: NDArray[np.float64]
    whitener: NDArray[np.float64]

    @property
    def rank(self) -> int:
        return int(self.whitener.shape[0])


def _sqrt_psd(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    values, vectors = np.linalg.eigh(matrix)
    root: NDArray[np.float64] = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    return root


def reference_subspace(
    b: NDArray[np.float64],
    a: NDArray[np.float64],
    rtol: float | None = None,
    gram_a: NDArray[np.float64] | None = None,
    gram_b: NDArray[np.float64] | None = None,
) -> Subspace:
    """The reference's column space at its numerical rank (singular values > rtol * max).
    `gram_a` = A A^T and `gram_b` = B^T B, when the caller has them already."""
    if rtol is None:
        rtol = rank_tolerance((b.shape[0], a.shape[1]), b.shape[1], float(np.finfo(np.float64).eps))
    root = _sqrt_psd(a @ a.T if gram_a is None else gram_a)
    gram_b = b.T @ b if gram_b is None else gram_b
    values, vectors = np.linalg.eigh(root @ gram_b @ root)  # singular values of B A, squared
    singular = np.sqrt(np.clip(values, 0, None))
    if singular.size == 0 or singular[-1] == 0:
        return Subspace(b, np.zeros((0, b.shape[1])))
    keep = singular > rtol * singular[-1]
    whitener = (vectors[:, keep] / singular[keep]).T @ root
    return Subspace(b, whitener)


def reference_basis(
    b: NDArray[np.float64], a: NDArray[np.float64], rtol: float | None = None
) -> NDArray[np.float64]:
    """The explicit orthonormal basis Q (out x k); for tests and examples, not the hot path."""
    subspace = reference_subspace(b, a, rtol)
    return b @ subspace.whitener.T


def split_energy(
    subspace: Subspace,
    b: NDArray[np.float64],
    a: NDArray[np.float64],
    scale: float,
    gram_a: NDArray[np.float64] | None = None,
    gram_b: NDArray[np.float64] | None = None,
    cross: NDArray[np.float64] | None = None,
) -> tuple[float, float]:
    """(||P_T dW||^2, ||P_perp dW||^2) for dW = scale * b @ a, in r x r algebra (A A^T,
    B^T B and B_R^T B passed in when the caller has them)."""
    gram = a @ a.T if gram_a is None else gram_a
    projected = subspace.whitener @ (subspace.b.T @ b if cross is None else cross)
    s2 = scale * scale
    inside = s2 * float(np.sum((projected @ gram) * projected))
    total = s2 * float(np.sum((b.T @ b if gram_b is None else gram_b) * gram))
    return inside, max(total - inside, 0.0)


def safelora_cosine(
    v: NDArray[np.float64],
    b: NDArray[np.float64],
    a: NDArray[np.float64],
    gram_a: NDArray[np.float64] | None = None,
    gram_b: NDArray[np.float64] | None = None,
) -> float | None:
    """SafeLoRA's statistic: cos(C B A, B A) with C = V V^T / ||V||_F (Hsu et al. 2024).

    V (out x in) is dense by nature; C (out x out) and B A (out x in) are never formed:
    C B = V (V^T B) / ||V||_F is out x r, and every inner product is an r x r trace
    against A A^T. None when V or the update is zero (the cosine is undefined).
    """
    norm_v = float(np.linalg.norm(v))
    gram = a @ a.T if gram_a is None else gram_a
    moved = v @ (v.T @ b) / norm_v if norm_v > 0 else np.zeros_like(b)
    inner = float(np.sum((moved.T @ b) * gram))
    moved_norm = float(np.sum((moved.T @ moved) * gram))
    update_norm = float(np.sum((b.T @ b if gram_b is None else gram_b) * gram))
    if moved_norm <= 0 or update_norm <= 0:
        return None
    return inner / math.sqrt(moved_norm * update_norm)
