r"""Deformed-Wigner sweeps: simulated outliers against the predictions of [1]_ (Theorem 2.2, eq. (1.8)).

:func:`outlier_sweep` draws :math:`W = R/\sqrt N + S` over sizes and seeds and matches its top
eigenvalues to :math:`\Phi(\lambda_j(S))`; :func:`peche_check` compares the top eigenvalue of a
single-spike deformation with Péché's limit. The closed forms and the matrices come from
:mod:`rmtweights.rmt.wigner`; :mod:`rmtweights.sweeps.outlier_error` summarises the sweep.

References
----------
.. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
.. [2] S. Péché, "The largest eigenvalue of small rank perturbations of Hermitian random matrices",
   Probab. Theory Related Fields 134(1):127-173, 2006. :doi:`10.1007/s00440-005-0466-z`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from rmtweights.checks import check_sigma
from rmtweights.rmt.wigner import (
    BulkSpec,
    Solver,
    check_solver,
    critical_spikes,
    deformed_wigner,
    goe,
    parse_bulk,
    peche_limit,
    predicted_outliers,
    spike_count,
    spike_positions,
    top_eigenvalues,
)

__all__ = ["outlier_sweep", "peche_check"]


def _as_int_list(values: Iterable[int] | int, name: str) -> list[int]:
    items = [values] if isinstance(values, (int, np.integer)) else list(values)
    if not items:
        raise ValueError(f"{name} must not be empty")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must hold non-negative integers, got {v!r}")
    return [int(v) for v in items]


def outlier_sweep(
    Ns: Iterable[int],
    seeds: Iterable[int],
    *,
    sigma: float = 1.0,
    interval: tuple[float, float] = (3.0, 5.0),
    growth: str = "constant",
    c: float = 10.0,
    bulk: BulkSpec = None,
    placement: Literal["equal", "uniform"] = "equal",
    solver: Solver = "lanczos",
) -> pd.DataFrame:
    r"""Top eigenvalues of :math:`W = R/\sqrt N + S` against :math:`\Phi(\lambda_j(S))`, Theorem 2.2 of [1]_.

    For each ``N`` and seed: :math:`r = ` :func:`spike_count` ``(N, growth, c)`` spikes from
    :func:`spike_positions` on ``interval``, the bulk from ``bulk``, one draw of :math:`W`
    (:func:`deformed_wigner`, generator ``numpy.random.default_rng([seed, N])``), and its top
    :math:`r` eigenvalues, matched to the spikes by rank (eq. (2.2) of [1]_ orders both descending),
    computed by :func:`top_eigenvalues` with ``solver``.

    Returns
    -------
    pandas.DataFrame
        One row per (N, seed, j): ``N, seed, r, j`` (1-based rank), ``lambda_S`` (spike),
        ``predicted`` (:func:`predicted_outliers`, i.e. :math:`\Phi(\lambda_S)` above the transition),
        ``supercritical`` (bool), ``lambda_W``, ``abs_error`` :math:`|\lambda_W - \text{predicted}|`,
        plus ``sigma, growth, c, bulk`` (a text label of the bulk).

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    """
    sigma = check_sigma(sigma)
    Ns_list = _as_int_list(Ns, "Ns")
    seeds_list = _as_int_list(seeds, "seeds")
    bulk_spec = parse_bulk(bulk)
    check_solver(solver)
    if placement not in ("equal", "uniform"):
        raise ValueError(f"placement must be 'equal' or 'uniform', got {placement!r}")
    spike_count(max(max(Ns_list), 2), growth, c)  # validates growth and c once
    spike_positions(1, interval)  # validates interval once
    x_left, x_right = critical_spikes(sigma, bulk_spec)
    label = _bulk_label(bulk_spec)
    frames = []
    for N in Ns_list:
        r = spike_count(N, growth, c)
        for seed in seeds_list:
            gen = np.random.default_rng([seed, N])
            spikes = spike_positions(r, interval, placement, gen)
            w = deformed_wigner(N, spikes, sigma, bulk_spec, gen)
            lam_w = top_eigenvalues(w, r, solver)
            predicted = predicted_outliers(spikes, sigma, bulk_spec)
            frames.append(
                pd.DataFrame(
                    {
                        "N": N,
                        "seed": seed,
                        "r": r,
                        "j": np.arange(1, r + 1),
                        "lambda_S": spikes,
                        "predicted": predicted,
                        "supercritical": (spikes > x_right) | (spikes < x_left),
                        "lambda_W": lam_w,
                        "abs_error": np.abs(lam_w - predicted),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out["sigma"], out["growth"], out["c"], out["bulk"] = sigma, growth, float(c), label
    return out


def _bulk_label(nu0: dict[str, Any]) -> str:
    if nu0["kind"] == "delta0":
        return "delta0"
    if nu0["kind"] == "uniform":
        return f"uniform[{nu0['low']:g},{nu0['high']:g}]"
    return f"discrete[{nu0['values'].size} atoms]"


def peche_check(
    Ns: Iterable[int],
    thetas: Iterable[float],
    sigma: float = 1.0,
    seeds: Iterable[int] = (0,),
    *,
    solver: Solver = "lanczos",
) -> pd.DataFrame:
    r"""Top eigenvalue of :math:`W = R/\sqrt N + \theta e_1 e_1^\top` against :func:`peche_limit` (eq. (1.8)).

    One GOE draw per (N, seed) (``default_rng([seed, N])``) is shared by all thetas (common random
    numbers, so differences between thetas are not noise). Below the transition the top eigenvalue
    sits at :math:`2\sigma` up to Tracy-Widom fluctuations of order :math:`N^{-2/3}`.

    Returns
    -------
    pandas.DataFrame
        Columns ``N, seed, theta, sigma, supercritical, lambda_1, limit, abs_error``.

    References
    ----------
    .. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
       perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
    .. [2] S. Péché, "The largest eigenvalue of small rank perturbations of Hermitian random
       matrices", Probab. Theory Related Fields 134(1):127-173, 2006. :doi:`10.1007/s00440-005-0466-z`.
    """
    sigma = check_sigma(sigma)
    Ns_list = _as_int_list(Ns, "Ns")
    seeds_list = _as_int_list(seeds, "seeds")
    theta_arr = np.asarray(list(thetas), dtype=float)
    if theta_arr.size == 0 or not np.all(np.isfinite(theta_arr)):
        raise ValueError(f"thetas must be a non-empty list of finite numbers, got {theta_arr!r}")
    check_solver(solver)
    rows = []
    for N in Ns_list:
        if N < 3:
            raise ValueError(f"Ns must be at least 3, got {N}")
        for seed in seeds_list:
            w = goe(N, sigma, np.random.default_rng([seed, N]))
            w /= np.sqrt(N)  # eq. (1.2) of [1]
            base = w[0, 0]
            for theta in theta_arr:
                w[0, 0] = base + theta  # S = theta e1 e1^T
                lam = float(top_eigenvalues(w, 1, solver)[0])
                limit = float(peche_limit(theta, sigma))
                rows.append((N, seed, float(theta), sigma, bool(theta > sigma), lam, limit, abs(lam - limit)))
    return pd.DataFrame(
        rows, columns=["N", "seed", "theta", "sigma", "supercritical", "lambda_1", "limit", "abs_error"]
    )
