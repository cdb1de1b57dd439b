"""Signal/noise thresholds for the normalised singular values ``gamma = sv / sqrt(n)``.

Conventions (``docs/architecture.md``): the matrix is n x m with n >= m, q = m / n, the noise entries have
standard deviation sigma, and the Marchenko–Pastur bulk of the gammas ends at
:math:`x_{\\max} = \\sigma (1 + \\sqrt q)`.

* :func:`mp_threshold` — the Tracy–Widom corrected edge of Ke et al., eq. (3) of paper 000 [1]_.
* :func:`gavish_donoho_threshold` — the asymptotically optimal hard threshold for known noise
  level [2]_, in gamma units.
* :func:`count_spikes` — :math:`\\hat s = \\#\\{k : \\gamma_k > \\gamma_+\\}`.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight
       Matrices based on Random Matrix Theory" (paper 000; arXiv:2512.12911), eq. (3).
.. [2] M. Gavish and D. L. Donoho, "The optimal hard threshold for singular values is 4/sqrt(3)",
       IEEE Trans. Inf. Theory 60(8) (2014) 5040–5053, doi:10.1109/TIT.2014.2323359,
       arXiv:1305.5870.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from rmtweights.checks import check_q, check_sigma
from rmtweights.methods import DEFAULT_BETA
from rmtweights.rmt.tracy_widom import tw1_quantile

__all__ = ["mp_threshold", "threshold_factor", "count_spikes", "gavish_donoho_threshold"]


def _check_sigma_q(sigma: float, q: float) -> None:
    check_sigma(sigma), check_q(q)


def threshold_factor(q: float, n: int, beta: float = DEFAULT_BETA) -> float:
    """The factor :math:`c(q, n, \\beta) = \\gamma_+ / \\sigma` of eq. (3) of [1]_.

    .. math::

        c^2 = (1 + \\sqrt q)^2 + t_{1-\\beta}\\, n^{-2/3} q^{-1/6} (1 + \\sqrt q)^{4/3}

    Inverting eq. (3) for sigma at a given edge is then ``sigma = gamma_plus / c``.

    Parameters
    ----------
    q : float
        Aspect ratio m / n in (0, 1].
    n : int
        The larger dimension (the one the singular values are normalised by).
    beta : float, default 0.1
        Upper tail probability; :math:`t_{1-\\beta}` is the TW1 quantile ``tw1_quantile(1 - beta)``.

    Returns
    -------
    float
        :math:`c(q, n, \\beta) > 0`.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eq. (3) (after Ke, Ma, Lin, "Estimation of the
           number of spiked eigenvalues in a covariance matrix by bulk eigenvalue matching
           analysis", JASA 118 (2023), arXiv:2006.00436).
    """
    if not (np.isfinite(q) and 0 < q <= 1):
        raise ValueError(f"q = m/n must lie in (0, 1], got {q!r}")
    if not (np.isfinite(n) and n >= 1):
        raise ValueError(f"n must be >= 1, got {n!r}")
    if not (np.isfinite(beta) and 0 < beta < 1):
        raise ValueError(f"beta must lie in (0, 1), got {beta!r}")
    t = tw1_quantile(1.0 - beta)
    edge = 1.0 + math.sqrt(q)
    c2 = edge**2 + t * n ** (-2.0 / 3.0) * q ** (-1.0 / 6.0) * edge ** (4.0 / 3.0)  # eq. (3) of [1]
    if c2 <= 0:
        raise ValueError(f"beta={beta!r} with n={n!r}, q={q!r} gives a non-positive threshold ({c2:.3g})")
    return math.sqrt(c2)


def mp_threshold(sigma: float, q: float, n: int, beta: float = DEFAULT_BETA) -> float:
    """Tracy–Widom corrected upper edge :math:`\\gamma_+` of the MP bulk, eq. (3) of [1]_.

    .. math::

        \\gamma_+^2 = \\sigma^2 \\left[(1 + \\sqrt q)^2
            + t_{1-\\beta}\\, n^{-2/3} q^{-1/6} (1 + \\sqrt q)^{4/3}\\right]

    with :math:`t_{1-\\beta}` the :math:`(1-\\beta)` quantile of TW1 (GOE). This is Johnstone's
    centring and scaling of the largest eigenvalue of a white Wishart matrix, in gamma^2 units.

    Parameters
    ----------
    sigma : float
        Noise entry standard deviation (> 0).
    q : float
        m / n in (0, 1].
    n : int
        The larger matrix dimension.
    beta : float, default 0.1
        Tail probability of a pure-noise top singular value exceeding the threshold.

    Returns
    -------
    float
        :math:`\\gamma_+` in gamma = sv / sqrt(n) units.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eq. (3).
    """
    _check_sigma_q(sigma, q)
    return float(sigma) * threshold_factor(q, n, beta)  # eq. (3) of [1]


def count_spikes(gammas: ArrayLike, gamma_plus: float) -> int:
    """Number of spikes :math:`\\hat s = \\#\\{k : \\gamma_k > \\gamma_+\\}` (Sec. 3 of paper 000).

    Parameters
    ----------
    gammas : array_like
        Normalised singular values (any order; NaN is not allowed).
    gamma_plus : float
        The threshold (strict inequality).

    Returns
    -------
    int
    """
    g = np.asarray(gammas, dtype=float)
    if np.isnan(gamma_plus):
        raise ValueError("gamma_plus is NaN")
    if np.any(np.isnan(g)):
        raise ValueError("gammas contain NaN")
    return int(np.count_nonzero(g > gamma_plus))


def gavish_donoho_threshold(sigma: float, q: float) -> float:
    """Optimal hard threshold :math:`\\lambda_*(\\beta)` for a known noise level [1]_, in gamma units.

    .. math::

        \\lambda_*(q) = \\sqrt{2(q+1) + \\frac{8q}{(q+1) + \\sqrt{q^2 + 14q + 1}}}, \\qquad
        \\tau_\\gamma = \\lambda_*(q)\\, \\sigma .

    Units: [1]_ studies an M x N matrix :math:`Y = X + \\sigma Z` (M <= N, :math:`\\beta = M/N`,
    Z with i.i.d. unit-variance entries) and thresholds its singular values at
    :math:`\\tau_* = \\lambda_*(\\beta) \\sqrt N \\sigma`. Our W is n x m with n >= m, so
    N = n, :math:`\\beta = q`, and :math:`\\gamma = \\mathrm{sv}/\\sqrt n` gives
    :math:`\\tau_\\gamma = \\tau_*/\\sqrt n = \\lambda_*(q)\\sigma` (transposing changes no singular
    value). Both live on the same scale as the MP edge :math:`\\sigma(1+\\sqrt q)`, which
    :math:`\\lambda_*(q)\\sigma` always exceeds. At q = 1, :math:`\\lambda_* = 4/\\sqrt 3`.

    Parameters
    ----------
    sigma : float
        Noise entry standard deviation (> 0).
    q : float
        m / n in (0, 1].

    Returns
    -------
    float

    References
    ----------
    .. [1] M. Gavish and D. L. Donoho, "The optimal hard threshold for singular values is
           4/sqrt(3)", IEEE Trans. Inf. Theory 60(8) (2014) 5040–5053, arXiv:1305.5870.
    """
    _check_sigma_q(sigma, q)
    # lambda_*(beta) of [1], known-noise case
    lam2 = 2.0 * (q + 1.0) + 8.0 * q / ((q + 1.0) + math.sqrt(q * q + 14.0 * q + 1.0))
    return float(sigma) * math.sqrt(lam2)
