r"""Test-only helpers for rmtweights.rmt.wigner: Theorem 2.1 of paper 003 checked on intervals.

Not used by the library or the workflow (``test_wigner.py`` imports them): :func:`outlier_measure`
and the eigenvalue search it needs, :func:`eigenvalues_above`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg

from rmtweights.checks import check_sigma
from rmtweights.rmt.wigner import (
    BulkSpec,
    Solver,
    bulk_edges,
    check_solver,
    critical_spikes,
    deformed_wigner,
    outlier_map,
    outlier_map_inverse,
    parse_bulk,
    spike_count,
    spike_positions,
    top_eigenvalues,
)
from rmtweights.sweeps.wigner_outliers import _as_int_list


def eigenvalues_above(w: np.ndarray, threshold: float, k_guess: int, solver: Solver = "lanczos") -> np.ndarray:
    """All eigenvalues of the symmetric ``w`` above ``threshold``, descending.

    ``"eigh"``: LAPACK ``syevr`` with ``subset_by_value``. ``"lanczos"``: :func:`top_eigenvalues` with
    ``k_guess + 5`` eigenvalues, doubled until the smallest returned one is below ``threshold``.
    """
    check_solver(solver)
    n = w.shape[0]
    if solver == "eigh":
        values = scipy.linalg.eigh(
            w, eigvals_only=True, subset_by_value=(threshold, np.inf), driver="evr", check_finite=False
        )
        return np.sort(values)[::-1]
    k = min(max(int(k_guess), 0) + 5, n)
    while True:
        values = top_eigenvalues(w, k, solver)
        if values[-1] <= threshold or k == n:
            return values[values > threshold]
        k = min(2 * k, n)


def outlier_measure(
    Ns: Iterable[int],
    seeds: Iterable[int],
    *,
    sigma: float = 1.0,
    interval: tuple[float, float] = (3.0, 5.0),
    growth: str = "sqrt",
    c: float = 1.0,
    bulk: BulkSpec = None,
    n_bins: int = 4,
    placement: Literal["equal", "uniform"] = "equal",
    solver: Solver = "lanczos",
) -> pd.DataFrame:
    r"""Theorem 2.1 of [1]_ on intervals: :math:`\frac Nr(\mu - \mu_0)(\Delta)` against
    :math:`\nu_1(\omega_{\mu_0}(\Delta))`.

    For :math:`\Delta` outside :math:`\operatorname{supp}\mu_0` we have :math:`\mu_0(\Delta) = 0`, so the
    left side is the empirical count :math:`\#\{j: \lambda_j(W) \in \Delta\}/r`. On the right,
    :math:`\nu_1 \approx \frac Nr(\nu - \nu_0)` (Assumption 3) restricted to the outlier region is the
    spikes' counting measure divided by :math:`r`, and :math:`\omega_{\mu_0}(\Delta)` is the preimage
    of :math:`\Delta` under :math:`\Phi` on the outlier branch (Lemma 4.1), computed by
    :func:`outlier_map_inverse`:

    .. math::

        \mu_1(\Delta) = \nu_1(\omega_{\mu_0}(\Delta)) \quad\text{(eq. (2.1) of [1])}
        \;\Longrightarrow\; \frac{\#\{j:\lambda_j(W)\in\Delta\}}{r} \approx
        \frac{\#\{j:\lambda_j(S)\in\omega_{\mu_0}(\Delta)\}}{r}.

    Because :math:`\Phi` is increasing beyond the critical point, the right side equals
    :math:`\#\{j: \lambda_j(S) > x^*_+,\ \Phi(\lambda_j(S)) \in \Delta\}/r`; subcritical spikes are
    excluded, as they create no outlier. The intervals are ``n_bins`` equal parts of
    :math:`[\Phi(a), \Phi(b)]`, the lowest extended down to the midpoint between the bulk edge and
    :math:`\Phi(a)`, the highest up to :math:`+\infty` (so every outlier falls in some bin).

    Returns
    -------
    pandas.DataFrame
        One row per (N, seed, bin): ``N, seed, r, bin, lo, hi, omega_lo, omega_hi, count_W, count_S,
        mu1`` (count_W / r), ``nu1`` (count_S / r), ``abs_diff``.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    sigma = check_sigma(sigma)
    Ns_list = _as_int_list(Ns, "Ns")
    seeds_list = _as_int_list(seeds, "seeds")
    bulk_spec = parse_bulk(bulk)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if placement not in ("equal", "uniform"):
        raise ValueError(f"placement must be 'equal' or 'uniform', got {placement!r}")
    check_solver(solver)
    spike_count(max(max(Ns_list), 2), growth, c)
    spike_positions(1, interval)  # validates interval once
    a, b = (float(v) for v in interval)
    if not a < b:
        raise ValueError(f"interval must have a < b for binning, got {interval!r}")
    _, x_right = critical_spikes(sigma, bulk_spec)
    _, right_edge = bulk_edges(sigma, bulk_spec)
    if a <= x_right:
        raise ValueError(
            f"interval must lie beyond the critical spike {x_right:.6g} (outlier region), got {interval!r}"
        )
    phi_a, phi_b = float(outlier_map(a, sigma, bulk_spec)), float(outlier_map(b, sigma, bulk_spec))
    edges = np.linspace(phi_a, phi_b, n_bins + 1)
    edges[0] = (right_edge + phi_a) / 2.0
    edges[-1] = np.inf
    omega = outlier_map_inverse(edges, sigma, bulk_spec)
    rows = []
    for N in Ns_list:
        r = spike_count(N, growth, c)
        for seed in seeds_list:
            gen = np.random.default_rng([seed, N])
            spikes = spike_positions(r, interval, placement, gen)
            w = deformed_wigner(N, spikes, sigma, bulk_spec, gen)
            lam_w = eigenvalues_above(w, edges[0], r, solver)
            for k in range(n_bins):
                lo, hi = edges[k], edges[k + 1]
                count_w = int(np.count_nonzero((lam_w > lo) & (lam_w <= hi)))
                count_s = int(np.count_nonzero((spikes > omega[k]) & (spikes <= omega[k + 1])))  # eq. (2.1) of [1]
                rows.append((N, seed, r, k, lo, hi, omega[k], omega[k + 1], count_w, count_s))
    out = pd.DataFrame(
        rows,
        columns=["N", "seed", "r", "bin", "lo", "hi", "omega_lo", "omega_hi", "count_W", "count_S"],
    )
    out["mu1"] = out["count_W"] / out["r"]
    out["nu1"] = out["count_S"] / out["r"]
    out["abs_diff"] = (out["mu1"] - out["nu1"]).abs()
    return out
