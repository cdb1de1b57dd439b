r"""Table 1 of [1]_: the empirical squared cosine of a low-rank signal's singular vectors against eq. (4).

:func:`bbp_table` simulates the rank-2 model of Sec. 4 of [1]_,
:math:`X = \sum_i \theta_i u_i v_i^\top + Z/\sqrt n` with :math:`Z_{ij} \sim \mathcal N(0, \sigma^2)`,
and compares the empirical squared cosine :math:`\phi_i` of the shorter-side singular vectors with
:math:`\hat\phi_i` of eq. (4) of [1]_ (:func:`rmtweights.rmt.bbp.phi_hat`) evaluated at the
observed :math:`\gamma_i`; :data:`PAPER_TABLE1` and :func:`table1_comparison` put the published
values beside ours.

Conventions (``docs/architecture.md``): a matrix is oriented :math:`n \times m` with :math:`n \ge m`,
:math:`q = m/n`, :math:`\gamma = \text{sv}/\sqrt n`; :math:`\phi` is the squared cosine of the
singular vectors on the shorter side (length :math:`m`).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating singular value thresholds for DNN weight
   matrices based on random matrix theory", preprint (paper 000; arXiv:2512.12911).
.. [2] F. Benaych-Georges, R. R. Nadakuditi, "The singular values and vectors of low rank
   perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135, 2012.
   :doi:`10.1016/j.jmva.2012.04.019`, arXiv:1103.2221.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from rmtweights.rmt.bbp import phi_from_theta, phi_hat

__all__ = ["PAPER_TABLE1", "bbp_table", "table1_comparison"]

# Table 1 of [1] (paper 000, Sec. 4): phi_i and phi_hat_i for (theta_1, theta_2) = (3, 2), sigma = 1,
# each the average over 100 noise draws; copied by hand from Table 1 of paper 000.
# Key: size label as printed ("100x200" = 100 x 200, oriented by us to n = 200 >= m = 100);
# value: {i: (phi_i, phi_hat_i)}.
PAPER_TABLE1: dict[str, dict[int, tuple[float, float]]] = {
    "100x200": {1: (0.940, 0.939), 2: (0.859, 0.860)},
    "250x500": {1: (0.941, 0.940), 2: (0.861, 0.862)},
    "500x1000": {1: (0.941, 0.940), 2: (0.860, 0.861)},
}


def _orthonormal_columns(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` Haar-distributed orthonormal columns of length ``n`` (QR with the sign fix of Mezzadri)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs


def _size_label(size: Sequence[int] | str) -> tuple[str, int, int]:
    if isinstance(size, str):
        parts = size.lower().split("x")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"size label must look like '100x200', got {size!r}")
        a, b = (int(p) for p in parts)
    else:
        if len(size) != 2:
            raise ValueError(f"size must be a pair (rows, cols), got {size!r}")
        a, b = size
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (a, b)):
            raise ValueError(f"size must hold two integers, got {size!r}")
        a, b = int(a), int(b)
    if min(a, b) < 2:
        raise ValueError(f"both dimensions must be at least 2, got {size!r}")
    return f"{a}x{b}", max(a, b), min(a, b)


def bbp_table(
    sizes: Iterable[Sequence[int] | str] = ((100, 200), (250, 500), (500, 1000)),
    thetas: Sequence[float] = (3.0, 2.0),
    sigma: float = 1.0,
    draws: int = 100,
    seed: int = 0,
    *,
    bema: bool = False,
    alpha: float = 0.2,
) -> pd.DataFrame:
    r"""Empirical :math:`\phi_i` against :math:`\hat\phi_i` for a low-rank signal plus noise (Table 1 of [1]_).

    Model, in :math:`\gamma` units (Sec. 4 of [1]_):

    .. math::

        X = \sum_{i=1}^k \theta_i u_i v_i^\top + \frac{1}{\sqrt n} Z, \qquad
        Z_{ab} \overset{iid}{\sim} \mathcal N(0, \sigma^2),

    :math:`X \in \mathbb R^{n\times m}`, :math:`n \ge m`, :math:`u_i, v_i` orthonormal Haar columns
    (drawn once per size, as in [1]_; the noise is redrawn ``draws`` times). With
    :math:`\gamma_i, \tilde v_i` the top singular values / shorter-side singular vectors of
    :math:`X` (from the :math:`m \times m` Gram matrix :math:`X^\top X`),

    .. math::

        \phi_i = \langle \tilde v_i, v_i \rangle^2, \qquad
        \hat\phi_i = \hat\phi(\gamma_i; \sigma, q) \quad\text{(eq. (4) of [1])},

    and ``phi_limit`` is the almost-sure limit :math:`1 - q(1 + t^2)/(t^2(t^2 + q))`,
    :math:`t = \theta_i/\sigma` ([2]_, Sec. 3.1).

    Parameters
    ----------
    sizes : iterable of (int, int) or str
        Matrix shapes as printed in Table 1 of [1]_ (``(100, 200)`` or ``"100x200"``); each is
        oriented to :math:`n = \max`, :math:`m = \min`. The label keeps the given order.
    thetas : sequence of float
        Signal singular values :math:`\theta_1 \ge \theta_2 \ge \dots > 0` (fewer than m).
    sigma : float
        Noise entry standard deviation.
    draws : int
        Noise draws per size.
    seed : int
        Seed; size ``(n, m)`` uses ``numpy.random.default_rng([seed, n, m])``.
    bema : bool
        Also evaluate :math:`\hat\phi_i` at the BEMA estimate :math:`\hat\sigma`
        (:func:`rmtweights.rmt.estimators.bema_sigma`, ``alpha``), from all m observed gammas.
    alpha : float
        BEMA trimming fraction (paper 000 App. A), used only with ``bema=True``.

    Returns
    -------
    pandas.DataFrame
        One row per (size, i): ``n, m, q, size, i, theta, sigma, draws, gamma`` (mean observed),
        ``phi, phi_sd, phi_hat, phi_hat_sd, phi_limit`` (means and SDs over draws, ddof=1);
        with ``bema=True`` also ``sigma_bema, phi_hat_bema, phi_hat_bema_sd``.
    """
    theta_arr = np.asarray(thetas, dtype=float).ravel()
    if theta_arr.size == 0 or not np.all(np.isfinite(theta_arr)) or np.any(theta_arr <= 0):
        raise ValueError(f"thetas must be positive finite numbers, got {thetas!r}")
    if np.any(np.diff(theta_arr) > 0):
        raise ValueError(f"thetas must be in descending order, got {thetas!r}")
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 2:
        raise ValueError(f"draws must be an integer >= 2 (an SD is reported), got {draws!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    parsed = [_size_label(s) for s in sizes]
    if not parsed:
        raise ValueError("sizes must not be empty")
    k = theta_arr.size
    for label, n, m in parsed:
        if k >= m:
            raise ValueError(f"need fewer thetas ({k}) than the short side m={m} of size {label}")
    estimators: Any = None
    if bema:
        from rmtweights.rmt import estimators  # only needed on request

    frames = []
    for label, n, m in parsed:
        q = m / n
        rng = np.random.default_rng([int(seed), n, m])
        u = _orthonormal_columns(n, k, rng)
        v = _orthonormal_columns(m, k, rng)
        signal = (u * theta_arr) @ v.T  # sum_i theta_i u_i v_i^T (Sec. 4 of [1])
        gam = np.empty((draws, k))
        phi = np.empty((draws, k))
        phi_h = np.empty((draws, k))
        sig_b = np.full(draws, np.nan)
        phi_b = np.full((draws, k), np.nan)
        for d in range(draws):
            x = signal + rng.standard_normal((n, m)) * (sigma / np.sqrt(n))  # gamma units
            evals, evecs = scipy.linalg.eigh(x.T @ x, check_finite=False)  # ascending, length-m vectors
            evals, evecs = evals[::-1], evecs[:, ::-1]
            gammas = np.sqrt(np.maximum(evals, 0.0))
            gam[d] = gammas[:k]
            phi[d] = np.einsum("ai,ai->i", evecs[:, :k], v) ** 2  # <v~_i, v_i>^2
            phi_h[d] = phi_hat(gammas[:k], sigma, q)  # eq. (4) of [1] at the true sigma
            if bema:
                sig_b[d] = estimators.bema_sigma(gammas, q, alpha=alpha)
                phi_b[d] = phi_hat(gammas[:k], sig_b[d], q)  # eq. (4) of [1] at sigma-hat
        part = pd.DataFrame(
            {
                "n": n,
                "m": m,
                "q": q,
                "size": label,
                "i": np.arange(1, k + 1),
                "theta": theta_arr,
                "sigma": sigma,
                "draws": int(draws),
                "gamma": gam.mean(axis=0),
                "phi": phi.mean(axis=0),
                "phi_sd": phi.std(axis=0, ddof=1),
                "phi_hat": phi_h.mean(axis=0),
                "phi_hat_sd": phi_h.std(axis=0, ddof=1),
                "phi_limit": phi_from_theta(theta_arr, sigma, q),  # [2], Sec. 3.1
            }
        )
        if bema:
            part["sigma_bema"] = sig_b.mean()
            part["phi_hat_bema"] = phi_b.mean(axis=0)
            part["phi_hat_bema_sd"] = phi_b.std(axis=0, ddof=1)
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def table1_comparison(frame: pd.DataFrame) -> pd.DataFrame:
    """Join :data:`PAPER_TABLE1` beside a :func:`bbp_table` frame.

    Rows whose (size, i) is in the paper's table get ``paper_phi``, ``paper_phi_hat`` and the
    differences ``diff_phi = phi - paper_phi``, ``diff_phi_hat = phi_hat - paper_phi_hat``; other rows
    get NaN there. The paper's entries are for theta = (3, 2), sigma = 1 only: rows with other
    parameters are NaN too. Returns columns ``size, n, m, i, theta, phi, paper_phi, diff_phi,
    phi_hat, paper_phi_hat, diff_phi_hat, draws``.
    """
    needed = {"size", "n", "m", "i", "theta", "sigma", "phi", "phi_hat", "draws"}
    missing = needed - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks columns {sorted(missing)} (expected a bbp_table frame)")
    paper = pd.DataFrame(
        [(size, i, *vals) for size, rows in PAPER_TABLE1.items() for i, vals in rows.items()],
        columns=["size", "i", "paper_phi", "paper_phi_hat"],
    )
    paper["paper_theta"] = paper["i"].map({1: 3.0, 2: 2.0})
    out = frame.merge(paper, on=["size", "i"], how="left")
    applies = np.isclose(out["theta"], out["paper_theta"]) & np.isclose(out["sigma"], 1.0)
    out.loc[~applies, ["paper_phi", "paper_phi_hat"]] = np.nan
    out["diff_phi"] = out["phi"] - out["paper_phi"]
    out["diff_phi_hat"] = out["phi_hat"] - out["paper_phi_hat"]
    cols = ["size", "n", "m", "i", "theta", "phi", "paper_phi", "diff_phi", "phi_hat", "paper_phi_hat",
            "diff_phi_hat", "draws"]
    cols += [c for c in ("sigma_bema", "phi_hat_bema", "phi_hat_bema_sd") if c in out.columns]  # bema=True
    return out[cols]
