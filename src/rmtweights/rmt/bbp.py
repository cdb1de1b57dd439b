"""Spiked rectangular model: signal strengths, singular-vector overlaps and the metric Ave_w.

Model (eq. (1) of paper 000 [1]_): :math:`W = W_{signal} + W_{noise}` is n x m with n >= m,
q = m / n, the noise has i.i.d. entries of standard deviation sigma, and gammas are the singular
values of W divided by sqrt(n) (``docs/architecture.md``). A signal singular value :math:`\\theta` (gamma
units) above the BBP transition :math:`\\theta > \\sigma q^{1/4}` produces an outlier at

.. math::

    \\gamma^2 = \\frac{(\\theta^2 + \\sigma^2)(\\theta^2 + q\\sigma^2)}{\\theta^2}
    \\quad (> \\sigma^2 (1 + \\sqrt q)^2),

whose inverse is :math:`\\hat\\theta` of eq. (4) of [1]_, and the squared cosine between the
observed and the true singular vectors on the SHORTER side (length m) converges to

.. math::

    \\phi = 1 - \\frac{q(\\sigma^2 + \\theta^2)\\sigma^2}{\\theta^2(\\theta^2 + q\\sigma^2)}
          = \\frac{\\theta^4 - q\\sigma^4}{\\theta^4 + q\\sigma^2\\theta^2},

i.e. the sigma = 1 closed form of [1]_ applied to :math:`\\theta/\\sigma` (both gamma and theta
scale with sigma). [1]_ states no closed form for general sigma; :func:`phi_hat_numeric` evaluates
eq. (4) literally (D-transform, :math:`h`, :math:`D^{-1}`, :math:`D'` by quadrature and root finding)
and the tests confirm it equals the scaled closed form.

Vector side. Paper 000 writes :math:`\\phi_i = |\\langle \\tilde u_i, u_i\\rangle|^2` with
:math:`u_i` the LEFT vectors of the n x m (n >= m) matrix, i.e. length n, but its closed form and
Table 1 are those of the length-m vectors: eq. (4) is Theorem 2.9 of [2]_ for the vectors of the
side whose singular-value law is :math:`g` (the m singular values), which for n >= m are the RIGHT
vectors (length m). The longer side obeys :math:`1 - (q\\sigma^2 + \\theta^2)\\sigma^2 /
(\\theta^2(\\theta^2 + \\sigma^2))` [2]_, smaller. ``tests/unit/test_bbp.py`` checks by simulation
that Table 1 of [1]_ (theta = 3, 2; sigma = 1; q = 1/2) matches the shorter side only.

Ave_w (eqs. (5), (6) of [1]_) weights the overlaps of the :math:`\\hat s` spikes by their distance
to the threshold :math:`\\gamma_+` (see :mod:`rmtweights.rmt.threshold`).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight
       Matrices based on Random Matrix Theory" (paper 000; arXiv:2512.12911), eqs. (3)–(6),
       Prop. 3.1, Table 1.
.. [2] F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
       perturbations of large rectangular random matrices", J. Multivariate Anal. 111 (2012)
       120–135, arXiv:1103.2221.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from rmtweights.checks import check_q, check_sigma
from rmtweights.methods import DEFAULT_BETA
from rmtweights.rmt.threshold import threshold_factor

__all__ = [
    "curve_k",
    "theta_hat",
    "phi_hat",
    "phi_from_theta",
    "phi_hat_numeric",
    "ave_w",
    "ave_w_curve",
    "READINGS",
]

#: The two readings of the Ave_w curve over a candidate rank s (``docs/architecture.md``).
READINGS = ("fixed", "implied")


def _check_sigma_q(sigma: float, q: float) -> None:
    check_sigma(sigma), check_q(q)


def _as_gammas(gammas: ArrayLike) -> np.ndarray:
    g = np.asarray(gammas, dtype=float)
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ValueError("gammas must be finite and non-negative")
    return g


def theta_hat(gammas: ArrayLike, sigma: float, q: float) -> np.ndarray:
    """Signal singular values implied by observed outliers, eq. (4) (first line) of [1]_.

    .. math::

        \\hat\\theta = \\frac{\\sigma}{\\sqrt 2}\\sqrt{x^2 - q - 1 + \\sqrt{(x^2 - q - 1)^2 - 4q}},
        \\qquad x = \\gamma / \\sigma,

    defined above the transition :math:`\\gamma > \\sigma(1 + \\sqrt q)` (where it exceeds
    :math:`\\sigma q^{1/4}`); NaN at or below it.

    Parameters
    ----------
    gammas : array_like
        Normalised singular values sv / sqrt(n) (any shape, finite, >= 0).
    sigma : float
        Noise entry standard deviation.
    q : float
        m / n in (0, 1].

    Returns
    -------
    numpy.ndarray
        Same shape as ``gammas``.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eq. (4); Benaych-Georges and Nadakuditi,
           J. Multivariate Anal. 111 (2012), arXiv:1103.2221, Sec. 3.1.
    """
    _check_sigma_q(sigma, q)
    g = _as_gammas(gammas)
    x = g / sigma
    above = x > 1.0 + math.sqrt(q)
    d = np.where(above, x * x - q - 1.0, 2.0 * math.sqrt(q))
    disc = np.maximum(d * d - 4.0 * q, 0.0)  # >= 0 above the edge; clip rounding just above it
    theta = sigma / math.sqrt(2.0) * np.sqrt(d + np.sqrt(disc))  # eq. (4) of [1]
    return np.where(above, theta, np.nan)


def phi_from_theta(theta: ArrayLike, sigma: float, q: float) -> np.ndarray:
    """Squared cosine of the shorter-side (length m) singular vectors for a signal of size theta.

    .. math::

        \\phi = 1 - \\frac{q(1 + t^2)}{t^2(t^2 + q)} = \\frac{t^4 - q}{t^4 + q t^2},
        \\qquad t = \\theta / \\sigma,

    the sigma = 1 form below eq. (4) of [1]_ applied to :math:`\\theta/\\sigma`; 0 for
    :math:`t \\le q^{1/4}` and for NaN theta (no outlier).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eq. (4) and the display below it.
    """
    _check_sigma_q(sigma, q)
    th = np.asarray(theta, dtype=float)
    t2 = np.where(np.isfinite(th), th / sigma, 0.0) ** 2
    above = t2 * t2 > q
    safe = np.where(above, t2, 1.0)
    phi = (safe * safe - q) / (safe * safe + q * safe)  # eq. (4) of [1], sigma = 1 form, scaled
    return np.where(above, phi, 0.0)


def phi_hat(gammas: ArrayLike, sigma: float, q: float) -> np.ndarray:
    """Estimated squared cosine :math:`\\hat\\phi` of each outlier's singular vectors, eq. (4) of [1]_.

    .. math::

        \\hat\\phi = \\frac{\\hat t^4 - q}{\\hat t^4 + q\\hat t^2}, \\qquad
        \\hat t = \\hat\\theta(\\gamma, \\sigma, q)/\\sigma,

    the overlap of the SHORTER-side (length m) vectors, see the module notes; 0 at or below the
    transition :math:`\\gamma \\le \\sigma(1 + \\sqrt q)`. Equal to the D-transform expression of
    eq. (4) for every sigma (:func:`phi_hat_numeric`), by the scaling gamma/sigma, theta/sigma.

    Parameters
    ----------
    gammas : array_like
        Normalised singular values (finite, >= 0).
    sigma : float
        Noise entry standard deviation.
    q : float
        m / n in (0, 1].

    Returns
    -------
    numpy.ndarray
        Values in [0, 1), same shape as ``gammas``.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eq. (4); Benaych-Georges and Nadakuditi,
           J. Multivariate Anal. 111 (2012), arXiv:1103.2221, Theorem 2.9 and Sec. 3.1.
    """
    return phi_from_theta(theta_hat(gammas, sigma, q), sigma, q)  # eq. (4) of [1]


def _mp_h(z: float, sigma: float, q: float) -> float:
    """:math:`h(z) = \\int z/(z^2 - t^2)\\, g(t)\\,dt` for z above the bulk, g the MP density eq. (2).

    The square-root edges of g are handled exactly by QUADPACK's algebraic weight
    :math:`(t - a)^{1/2}(b - t)^{1/2}`.
    """
    a, b = sigma * (1.0 - math.sqrt(q)), sigma * (1.0 + math.sqrt(q))
    norm = math.pi * q * sigma**2
    if a > 0:
        # g(t) = sqrt(t - a) sqrt(b - t) * sqrt((t + a)(t + b)) / (pi q sigma^2 t), eq. (2) of [1]
        def f(t: float) -> float:
            return z / (z * z - t * t) * math.sqrt((t + a) * (t + b)) / (norm * t)

        wvar = (0.5, 0.5)
    else:  # q = 1: g(t) = sqrt(b - t) sqrt(b + t) / (pi sigma^2)
        def f(t: float) -> float:
            return z / (z * z - t * t) * math.sqrt(t + b) / norm

        wvar = (0.0, 0.5)
    from scipy.integrate import quad  # here, not at the top: scipy.integrate costs every fit_mp job 0.8 s to import

    value, _ = quad(f, a, b, weight="alg", wvar=wvar, epsabs=1e-13, epsrel=1e-12, limit=200)
    return value


def _d_transform(z: float, sigma: float, q: float) -> float:
    """D(z) of eq. (4) of [1] (closed form for the MP law), z > sigma (1 + sqrt q)."""
    u = z * z - sigma**2 * (q + 1.0)
    return (u - math.sqrt(max(u * u - 4.0 * sigma**4 * q, 0.0))) / (2.0 * sigma**4 * q)


def _d_transform_prime(z: float, sigma: float, q: float) -> float:
    """D'(z) = z (1 - u / sqrt(u^2 - 4 sigma^4 q)) / (sigma^4 q), u = z^2 - sigma^2 (q + 1)."""
    u = z * z - sigma**2 * (q + 1.0)
    return z * (1.0 - u / math.sqrt(u * u - 4.0 * sigma**4 * q)) / (sigma**4 * q)


def phi_hat_numeric(gamma: ArrayLike, sigma: float, q: float) -> np.ndarray:
    """Eq. (4) of [1]_ evaluated literally (reference implementation for tests; slow).

    .. math::

        \\hat\\phi = \\frac{-2 h(\\hat\\rho)}{\\hat\\theta^2 D'(\\hat\\rho)}, \\quad
        \\hat\\rho = D^{-1}(1/\\hat\\theta^2), \\quad
        h(z) = \\int \\frac{z}{z^2 - t^2} g(t)\\,dt,

    with D the closed form of [1]_, :math:`D^{-1}` by Brent's method on
    :math:`(\\sigma(1+\\sqrt q), \\infty)`, h by adaptive quadrature against the MP density g of
    eq. (2) and :math:`\\hat\\theta` from the first line of eq. (4). 0 below the transition.

    Parameters
    ----------
    gamma : array_like
        Normalised singular values.
    sigma, q : float
        Noise standard deviation and aspect ratio m / n in (0, 1].

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eqs. (2), (4); Benaych-Georges and
           Nadakuditi, J. Multivariate Anal. 111 (2012), arXiv:1103.2221, Theorem 2.9.
    """
    theta = theta_hat(gamma, sigma, q)
    out = np.zeros(theta.shape)
    edge = sigma * (1.0 + math.sqrt(q))
    for idx, th in np.ndenumerate(theta):
        if not np.isfinite(th):
            continue
        target = 1.0 / th**2
        hi = 2.0 * (edge + th)
        while _d_transform(hi, sigma, q) > target:  # D decreases from 1/(sigma^2 sqrt q) to 0
            hi *= 2.0
        rho = brentq(lambda z: _d_transform(z, sigma, q) - target, edge * (1 + 1e-15), hi,
                     xtol=1e-14, rtol=1e-14)  # rho = D^{-1}(1/theta^2), eq. (4) of [1]
        out[idx] = -2.0 * _mp_h(rho, sigma, q) / (th**2 * _d_transform_prime(rho, sigma, q))  # eq. (4) of [1]
    return out


def ave_w(phi: ArrayLike, gammas: ArrayLike, gamma_plus: float) -> float:
    """Weighted average similarity Ave_w, eqs. (5) and (6) of [1]_.

    .. math::

        \\mathrm{Ave}_w(\\phi) = \\frac{\\sum_{i=1}^{\\hat s} \\phi_i (\\gamma_i - \\gamma_+)}
                                      {\\sum_{i=1}^{\\hat s} (\\gamma_i - \\gamma_+)},
        \\qquad \\hat s = \\#\\{i : \\gamma_i > \\gamma_+\\}.

    Parameters
    ----------
    phi : array_like
        Overlaps :math:`\\phi_i` aligned with ``gammas`` (same length).
    gammas : array_like
        Normalised singular values (any order).
    gamma_plus : float
        Threshold; only :math:`\\gamma_i > \\gamma_+` enter.

    Returns
    -------
    float
        In [0, 1] when the phis are; NaN when no gamma exceeds ``gamma_plus`` (:math:`\\hat s = 0`).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eqs. (5), (6).
    """
    p = np.asarray(phi, dtype=float)
    g = np.asarray(gammas, dtype=float)
    if p.shape != g.shape or p.ndim != 1:
        raise ValueError(f"phi and gammas must be 1-d of equal length, got shapes {p.shape} and {g.shape}")
    if not np.isfinite(gamma_plus):
        raise ValueError(f"gamma_plus must be finite, got {gamma_plus!r}")
    keep = g > gamma_plus
    if not np.any(keep):
        return float("nan")
    weights = g[keep] - gamma_plus
    if not np.all(np.isfinite(p[keep])):
        raise ValueError("phi is not finite at a gamma above gamma_plus")
    return float(np.sum(p[keep] * weights) / np.sum(weights))  # eq. (5)/(6) of [1]


def curve_k(min_nm: int, k_fraction: float = 0.2, size: int | None = None) -> int:
    """Largest candidate rank k of the Ave_w curve and of the keep-top-s sweep, s = 1..k.

    .. math:: k = \\max(1, \\lfloor k_{\\rm fraction} \\min(n, m) \\rfloor)

    (20 % of min(n, m) in Sec. 4 of [1]_), at most ``size - 1`` when only ``size`` singular values
    are available (:func:`ave_w_curve` needs :math:`\\gamma_{k+1}`). One definition for both curves,
    so that the correlation compares them on the same s axis.
    """
    if not 0 < k_fraction <= 1:
        raise ValueError(f"k_fraction must lie in (0, 1], got {k_fraction!r}")
    k = max(1, int(np.floor(k_fraction * int(min_nm))))
    return k if size is None else min(k, int(size) - 1)


def ave_w_curve(gammas: ArrayLike, sigma: float, q: float, n: int, k: int,
                beta: float = DEFAULT_BETA) -> pd.DataFrame:
    """Ave_w over a candidate rank s = 1..k (Fig. 2 of [1]_), in both readings.

    For a candidate rank s the threshold is put just under the s-th value,
    :math:`\\gamma_+(s) = \\gamma_{s+1}` (gammas sorted descending, 1-based), and

    .. math::

        \\mathrm{Ave}_w(s) = \\frac{\\sum_{i \\le s} \\phi_i(\\sigma_s)(\\gamma_i - \\gamma_{s+1})}
                                  {\\sum_{i \\le s} (\\gamma_i - \\gamma_{s+1})}

    (eq. (6) of [1]_). The paper does not say which sigma the overlaps use (``docs/architecture.md``):

    * ``fixed``: :math:`\\sigma_s = \\hat\\sigma` (the given estimate) for every s; spikes below
      the MP edge of :math:`\\hat\\sigma` contribute :math:`\\phi = 0`.
    * ``implied``: :math:`\\sigma_s = \\gamma_{s+1} / c(q, n, \\beta)`, the sigma for which eq. (3)
      puts :math:`\\gamma_+` exactly at :math:`\\gamma_{s+1}` (see
      :func:`rmtweights.rmt.threshold.threshold_factor`).

    Parameters
    ----------
    gammas : array_like
        Normalised singular values (sorted here, descending).
    sigma : float
        The estimator's :math:`\\hat\\sigma` (used by ``fixed``).
    q : float
        m / n in (0, 1].
    n : int
        Larger dimension (eq. (3) needs it for ``implied``).
    k : int
        Largest candidate rank, 1 <= k <= len(gammas) - 1 (gamma_{k+1} must exist).
    beta : float, default 0.1
        Tail probability in eq. (3).

    Returns
    -------
    pandas.DataFrame
        2k rows, columns ``s`` (1..k), ``reading`` ("fixed" | "implied"), ``gamma_plus``
        (= gamma_{s+1}), ``sigma`` (:math:`\\sigma_s`), ``ave_w`` (NaN where all top-s gammas equal
        gamma_{s+1}, or for ``implied`` where gamma_{s+1} = 0).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eqs. (3)–(6) and Fig. 2.
    """
    _check_sigma_q(sigma, q)
    g = np.sort(_as_gammas(gammas).ravel())[::-1]
    if int(k) != k or not 1 <= k <= g.size - 1:
        raise ValueError(f"k must be an integer in [1, len(gammas) - 1 = {g.size - 1}], got {k!r}")
    k = int(k)
    s = np.arange(1, k + 1)
    top = g[:k]
    plus = g[1 : k + 1]  # gamma_+(s) = gamma_{s+1}
    below_s = np.arange(k)[:, None] < s[None, :]  # [i, s-1]: i-th gamma is among the top s
    weights = np.where(below_s, top[:, None] - plus[None, :], 0.0)
    denom = weights.sum(axis=0)

    phi_fixed = phi_hat(top, sigma, q)
    num_fixed = (phi_fixed[:, None] * weights).sum(axis=0)

    sigma_implied = plus / threshold_factor(q, n, beta)  # eq. (3) of [1] inverted for sigma
    positive = sigma_implied > 0
    sig_safe = np.where(positive, sigma_implied, 1.0)
    x = top[:, None] / sig_safe[None, :]
    theta_over_sigma = theta_hat(x, 1.0, q)
    phi_implied = np.where(below_s, phi_from_theta(theta_over_sigma, 1.0, q), 0.0)
    num_implied = (phi_implied * weights).sum(axis=0)

    ok = denom > 0
    safe_denom = np.where(ok, denom, 1.0)
    fixed = np.where(ok, num_fixed / safe_denom, np.nan)  # eq. (6) of [1]
    implied = np.where(ok & positive, num_implied / safe_denom, np.nan)  # eq. (6) of [1]
    return pd.DataFrame({
        "s": np.concatenate([s, s]),
        "reading": np.repeat(np.array(READINGS, dtype=object), k),
        "gamma_plus": np.concatenate([plus, plus]),
        "sigma": np.concatenate([np.full(k, float(sigma)), np.where(positive, sigma_implied, np.nan)]),
        "ave_w": np.concatenate([fixed, implied]),
    })
