r"""Overlap of two singular subspaces: principal angles, their random level, and directions without counterpart.

Two layers' top singular directions (two models, or two snapshots of one training run) span
subspaces :math:`\mathcal A = \operatorname{span}(V_A)` and :math:`\mathcal B = \operatorname{span}(V_B)`
of :math:`\mathbb R^d`, with :math:`V_A \in \mathbb R^{d\times k_A}` and :math:`V_B \in \mathbb
R^{d\times k_B}` orthonormal. The cosines of their principal angles are the singular values of
:math:`V_A^\top V_B` (Björck and Golub [1]_, Sec. 3),

.. math::

    \cos\theta_i = \sigma_i(V_A^\top V_B), \qquad i = 1, \dots, \min(k_A, k_B),

and the **overlap** is their mean squared cosine,

.. math::

    O(\mathcal A, \mathcal B) = \frac{\|V_A^\top V_B\|_F^2}{\min(k_A, k_B)}
                              = \frac{1}{\min(k_A, k_B)} \sum_i \cos^2\theta_i \in [0, 1]:

1 when the smaller subspace lies in the larger (identical subspaces), 0 when they are orthogonal.

**Random level.** If :math:`\mathcal A` is uniformly distributed (Haar) and independent of
:math:`\mathcal B`, then :math:`E[P_{\mathcal A}] = (k_A/d)\, I` by rotation invariance, so
:math:`E\,\|V_A^\top V_B\|_F^2 = \operatorname{tr}(E[P_{\mathcal A}]\, V_B V_B^\top) = k_A k_B / d` and

.. math::

    E[O] = \frac{\max(k_A, k_B)}{d}

exactly, for every :math:`d` (:func:`random_overlap`). The largest single cosine of two random
:math:`k`-dimensional subspaces is of order :math:`\sqrt{2 \ln k / d}` for small :math:`k`; the mean
squared cosine is reported instead because its random level is exact.

**Directions without counterpart.** Direction :math:`v` of :math:`\mathcal B` (a column of
:math:`V_B`) has squared cosine :math:`c(v) = \|V_A^\top v\|^2` with the subspace :math:`\mathcal A`
(the squared norm of its projection; for a random :math:`\mathcal A` its mean is :math:`k_A/d`). It
has **no counterpart** in :math:`\mathcal A` when :math:`c(v) < 1/2`, i.e. when it is closer to the
orthogonal complement of :math:`\mathcal A` than to :math:`\mathcal A` (an angle above 45°): a
direction that a fine-tune added, or a spike born between two snapshots. With :math:`k_A = 0` every
direction of :math:`\mathcal B` is new.

References
----------
.. [1] Å. Björck, G. H. Golub, "Numerical methods for computing angles between linear subspaces",
   Mathematics of Computation 27(123), 579–594 (1973). :doi:`10.1090/S0025-5718-1973-0348991-3`
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["NEW_BELOW", "OVERLAP_COLUMNS", "SubspaceComparison", "principal_cosines", "random_overlap", "compare_subspaces"]

#: A direction has no counterpart when its squared cosine with the other subspace is below this (45°).
NEW_BELOW = 0.5
#: The columns of :meth:`SubspaceComparison.summary`: the overlap columns of every table that compares two
#: states' spikes (a diff, consecutive snapshots).
OVERLAP_COLUMNS: tuple[str, ...] = ("k_a", "k_b", "overlap", "overlap_random", "cos_max", "cos_min",
                                    "new_directions", "new_index")
# Columns must be orthonormal to this (vectors stored in float32 are orthonormal to ~1e-7).
_ORTHONORMAL_TOL = 1e-4


def _basis(name: str, v: ArrayLike, d: int | None = None) -> np.ndarray:
    """``v`` as a float64 ``d x k`` matrix with orthonormal columns (k may be 0); ValueError naming ``name``."""
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a d x k matrix of column vectors, got shape {arr.shape}")
    if d is not None and arr.shape[0] != d:
        raise ValueError(f"{name} has vectors of length {arr.shape[0]}, the other subspace {d}")
    if arr.shape[1] > arr.shape[0]:
        raise ValueError(f"{name} has {arr.shape[1]} vectors of length {arr.shape[0]}: more than the dimension")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has NaN/Inf entries")
    gram = arr.T @ arr
    error = float(np.max(np.abs(gram - np.eye(arr.shape[1])))) if arr.shape[1] else 0.0
    if error > _ORTHONORMAL_TOL:
        raise ValueError(f"{name} does not have orthonormal columns (max |V^T V - I| = {error:.2e})")
    return arr


def principal_cosines(va: ArrayLike, vb: ArrayLike) -> np.ndarray:
    r"""Cosines of the principal angles between ``span(va)`` and ``span(vb)``, descending.

    :math:`\cos\theta_i = \sigma_i(V_A^\top V_B)` (Sec. 3 of [1]_), :math:`\min(k_A, k_B)` of them,
    clipped to [0, 1] (rounding can put a cosine of 1 a few ulps above).

    Parameters
    ----------
    va, vb : array_like
        ``d x k_A`` and ``d x k_B`` matrices with orthonormal columns (``k`` may be 0).
    """
    a = _basis("va", va)
    b = _basis("vb", vb, a.shape[0])
    if min(a.shape[1], b.shape[1]) == 0:
        return np.empty(0)
    cosines = np.linalg.svd(a.T @ b, compute_uv=False)  # Sec. 3 of [1]
    return np.clip(cosines, 0.0, 1.0)


def random_overlap(k_a: int, k_b: int, d: int) -> float:
    r"""The expected overlap :math:`E[O] = \max(k_A, k_B)/d` of two independent subspaces, one of them
    uniformly random (exact; module docstring). NaN when either is empty."""
    for name, value in (("k_a", k_a), ("k_b", k_b), ("d", d)):
        if isinstance(value, bool) or int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {name}={value!r}")
    if max(k_a, k_b) > d or d == 0:
        raise ValueError(f"subspaces of dimensions {k_a} and {k_b} do not fit in dimension d={d}")
    if min(k_a, k_b) == 0:
        return math.nan
    return max(k_a, k_b) / d  # E tr(P_A P_B) = k_a k_b / d, divided by min(k_a, k_b)


@dataclass(frozen=True, eq=False)
class SubspaceComparison:
    """:func:`compare_subspaces` of two subspaces of :math:`\\mathbb R^d`.

    Attributes
    ----------
    k_a, k_b, d : int
        Dimensions of the two subspaces and of the space.
    cosines : numpy.ndarray
        Principal cosines, descending (:func:`principal_cosines`).
    overlap, overlap_random : float
        Mean squared principal cosine and its random level (:func:`random_overlap`); NaN when a
        subspace is empty.
    counterpart : numpy.ndarray
        Squared cosine of each direction of B (in B's order) with the subspace A.
    new : numpy.ndarray
        0-based indices of B's directions without counterpart in A (``counterpart < new_below``).
    """

    k_a: int
    k_b: int
    d: int
    cosines: np.ndarray
    overlap: float
    overlap_random: float
    counterpart: np.ndarray
    new: np.ndarray

    def summary(self) -> dict[str, object]:
        """The row a table keeps (:data:`OVERLAP_COLUMNS`); ``new_index`` lists the 1-based indices of
        B's new directions, comma-separated (empty when none)."""
        has = self.cosines.size > 0
        return dict(k_a=self.k_a, k_b=self.k_b, overlap=self.overlap, overlap_random=self.overlap_random,
                    cos_max=float(self.cosines[0]) if has else math.nan,
                    cos_min=float(self.cosines[-1]) if has else math.nan,
                    new_directions=int(self.new.size), new_index=",".join(str(int(i) + 1) for i in self.new))


def compare_subspaces(va: ArrayLike, vb: ArrayLike, *, new_below: float = NEW_BELOW) -> SubspaceComparison:
    r"""Principal cosines, overlap (with its random level) and B's directions without counterpart in A.

    Parameters
    ----------
    va, vb : array_like
        ``d x k_A`` and ``d x k_B`` matrices with orthonormal columns: the top singular directions of
        the two matrices (``k`` may be 0: a matrix without spikes).
    new_below : float
        A direction of B whose squared cosine with span(A) is below this has no counterpart
        (default 1/2: an angle above 45°).

    Returns
    -------
    SubspaceComparison
    """
    if not 0.0 < new_below <= 1.0:
        raise ValueError(f"new_below must lie in (0, 1], got new_below={new_below!r}")
    a = _basis("va", va)
    b = _basis("vb", vb, a.shape[0])
    d, k_a, k_b = a.shape[0], a.shape[1], b.shape[1]
    projection = a.T @ b  # k_a x k_b
    counterpart = np.clip(np.sum(projection**2, axis=0), 0.0, 1.0)  # ||V_A^T v||^2 per column v of V_B
    cosines = np.clip(np.linalg.svd(projection, compute_uv=False), 0.0, 1.0) if min(k_a, k_b) else np.empty(0)
    overlap = float(np.sum(cosines**2) / min(k_a, k_b)) if min(k_a, k_b) else math.nan
    return SubspaceComparison(k_a=k_a, k_b=k_b, d=d, cosines=cosines, overlap=overlap,
                              overlap_random=random_overlap(k_a, k_b, d), counterpart=counterpart,
                              new=np.flatnonzero(counterpart < new_below))
