r"""Marchenko–Pastur law for normalised singular values.

Conventions (``docs/architecture.md``): a layer matrix :math:`W` is :math:`n \times m` with :math:`n \ge m`,
:math:`q = m/n \in (0, 1]`, and the normalised singular values are :math:`\gamma_i = s_i/\sqrt{n}`.
If the entries of :math:`W` are i.i.d. with mean zero and standard deviation :math:`\sigma`, the
empirical distribution of the :math:`\gamma_i` converges to the density of eq. (2) of [1]_

.. math::

    g(x) = \frac{1}{\pi q \sigma^2 x}\sqrt{(x^2 - x_{\min}^2)(x_{\max}^2 - x^2)},
    \qquad x_{\min} = \sigma(1-\sqrt q) \le x \le x_{\max} = \sigma(1+\sqrt q),

which is the Marchenko–Pastur eigenvalue law [2]_ of :math:`W^\top W/n` with ratio :math:`q`,
transported by :math:`\lambda = x^2`. For :math:`q = 1` it is the quarter-circle law
:math:`g(x) = \sqrt{4\sigma^2 - x^2}/(\pi\sigma^2)` on :math:`[0, 2\sigma]` (finite at 0: the
eigenvalue density is singular there, the singular-value density is not).

The cumulative distribution is in closed form (see :func:`mp_cdf`); quantiles invert it with a
vectorised safeguarded Newton–bisection iteration (:func:`mp_ppf`, :func:`mp_isf`).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", preprint (2025); paper 000 of this project.
.. [2] V. A. Marcenko, L. A. Pastur, "Distribution of eigenvalues for some sets of random
   matrices", Mathematics of the USSR-Sbornik 1(4), 457–483 (1967). :doi:`10.1070/SM1967v001n04ABEH001994`
.. [3] Z. Bai, J. W. Silverstein, "Spectral Analysis of Large Dimensional Random Matrices",
   2nd ed., Springer (2010), Sec. 3.1. :doi:`10.1007/978-1-4419-0661-8`
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from rmtweights.checks import check_q, check_sigma

__all__ = ["mp_edges", "mp_pdf", "mp_cdf", "mp_ppf", "mp_isf"]

ArrayLike = npt.ArrayLike

_MAX_ITER = 200  # Newton–bisection iterations; bisection alone needs < 64 to reach float precision


def _check_q_sigma(q: float, sigma: float) -> tuple[float, float]:
    return check_q(q), check_sigma(sigma)


def _check_prob(p: ArrayLike) -> np.ndarray:
    """Validate probabilities: finite, within [0, 1]."""
    arr = np.asarray(p, dtype=float)
    bad = ~((arr >= 0.0) & (arr <= 1.0))  # also catches NaN
    if np.any(bad):
        raise ValueError(f"probabilities must lie in [0, 1], got p={arr[bad].ravel()[:5]!r}")
    return arr


def mp_edges(q: float, sigma: float = 1.0) -> tuple[float, float]:
    r"""Support edges of the Marchenko–Pastur law for normalised singular values.

    .. math:: x_{\min} = \sigma(1 - \sqrt q), \qquad x_{\max} = \sigma(1 + \sqrt q)

    (below eq. (2) of [1]_).

    Parameters
    ----------
    q : float
        Aspect ratio :math:`m/n \in (0, 1]`.
    sigma : float
        Standard deviation of the noise entries, > 0.

    Returns
    -------
    (x_min, x_max) : tuple of float

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000; see the module docstring.
    """
    q, sigma = _check_q_sigma(q, sigma)
    r = math.sqrt(q)
    return sigma * (1.0 - r), sigma * (1.0 + r)  # eq. (2) of [1]


def _generalised_pdf(x: np.ndarray, lo: float, hi: float, scale2q: float) -> np.ndarray:
    r"""Density :math:`\sqrt{(x^2-lo^2)(hi^2-x^2)}/(\pi\, scale2q\, x)` on ``[lo, hi]``, else 0.

    ``scale2q`` is :math:`q\sigma^2`. With ``lo``, ``hi`` the MP edges this is eq. (2) of [1];
    with free edges it is the modified MP law of paper 001 (used by ``estimators``).
    NaN in ``x`` propagates.
    """
    out = np.zeros_like(x, dtype=float)
    inside = (x > lo) & (x < hi)
    xi = x[inside]
    # (x^2 - lo^2)(hi^2 - x^2) factored to avoid cancellation near the edges
    prod = (xi - lo) * (xi + lo) * (hi - xi) * (hi + xi)
    out[inside] = np.sqrt(prod) / (math.pi * scale2q * xi)  # eq. (2) of [1]
    out[np.isnan(x)] = np.nan
    return out


def _lower_mass(t: np.ndarray, A: float, B: float) -> np.ndarray:
    r"""Closed form of :math:`I(t) = \int_A^t \sqrt{(B-u)(u-A)}\,du/u` for :math:`A \le t \le B`.

    .. math::

        I(t) = R(t) + (A+B)\arcsin\sqrt{\tfrac{t-A}{B-A}}
               - 2\sqrt{AB}\,\arcsin\sqrt{\tfrac{B(t-A)}{t(B-A)}},
        \qquad R(t) = \sqrt{(B-t)(t-A)},

    from the standard antiderivative of :math:`\sqrt{X}/u`, :math:`X = -u^2 + (A+B)u - AB`
    (Gradshteyn–Ryzhik 2.267), with :math:`\arcsin z + \pi/2 = 2\arcsin\sqrt{(1+z)/2}` used to
    avoid the loss of precision of ``arcsin`` near :math:`\mp 1`.
    """
    d = np.clip(t - A, 0.0, B - A)
    R = np.sqrt(d * np.clip(B - t, 0.0, None))
    s1 = np.sqrt(d / (B - A))
    if A > 0.0:
        s2 = np.sqrt(np.clip(B * d / (t * (B - A)), 0.0, 1.0))
        second = 2.0 * math.sqrt(A * B) * np.arcsin(s2)
    else:
        second = 0.0
    return R + (A + B) * np.arcsin(np.clip(s1, 0.0, 1.0)) - second


def _upper_mass(t: np.ndarray, A: float, B: float) -> np.ndarray:
    r"""Closed form of :math:`J(t) = \int_t^B \sqrt{(B-u)(u-A)}\,du/u` for :math:`A < t \le B`.

    .. math::

        J(t) = -R(t) + (A+B)\arcsin\sqrt{\tfrac{B-t}{B-A}}
               - 2\sqrt{AB}\,\arcsin\sqrt{\tfrac{A(B-t)}{t(B-A)}},

    the mirror of :func:`_lower_mass`; :math:`I(t) + J(t) = \tfrac{\pi}{2}(\sqrt B - \sqrt A)^2`.
    """
    d = np.clip(B - t, 0.0, B - A)
    R = np.sqrt(d * np.clip(t - A, 0.0, None))
    s1 = np.sqrt(d / (B - A))
    if A > 0.0:
        s2 = np.sqrt(np.clip(A * d / (t * (B - A)), 0.0, 1.0))
        second = 2.0 * math.sqrt(A * B) * np.arcsin(s2)
    else:
        second = 0.0
    return -R + (A + B) * np.arcsin(np.clip(s1, 0.0, 1.0)) - second


def _generalised_cdf_sf(
    x: np.ndarray, lo: float, hi: float, scale2q: float, total: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Mass below and above ``x`` of :func:`_generalised_pdf`, each computed without cancellation.

    With :math:`u = x^2`, :math:`\int g\,dx = \frac{1}{2\pi q\sigma^2}\int\sqrt{(B-u)(u-A)}\,du/u`,
    :math:`A = lo^2`, :math:`B = hi^2`. The total mass is
    :math:`(hi - lo)^2/(4 q\sigma^2)`, which is 1 for the MP edges. The smaller of the two tails is
    evaluated directly and the other as total minus it. ``total`` overrides the computed mass
    (the MP callers pass exactly 1, so that ``cdf(x_max) == 1`` without rounding).
    """
    A, B = lo * lo, hi * hi
    c = 1.0 / (2.0 * math.pi * scale2q)
    if total is None:
        total = (hi - lo) ** 2 / (4.0 * scale2q)
    xc = np.clip(np.nan_to_num(x, nan=lo), lo, hi)
    t = xc * xc
    mid = 0.5 * (lo + hi)
    low_side = xc <= mid
    below = np.empty_like(t)
    above = np.empty_like(t)
    tl, tu = t[low_side], t[~low_side]
    below[low_side] = c * _lower_mass(tl, A, B)
    above[low_side] = total - below[low_side]
    above[~low_side] = c * _upper_mass(tu, A, B)
    below[~low_side] = total - above[~low_side]
    below = np.clip(below, 0.0, total)
    above = np.clip(above, 0.0, total)
    nan = np.isnan(x)
    below[nan] = np.nan
    above[nan] = np.nan
    return below, above


def mp_pdf(x: ArrayLike, q: float, sigma: float = 1.0) -> np.ndarray:
    r"""Marchenko–Pastur density of normalised singular values, eq. (2) of [1]_.

    .. math::

        g(x) = \frac{1}{\pi q \sigma^2 x}\sqrt{(x^2 - x_{\min}^2)(x_{\max}^2 - x^2)}
        \quad (x_{\min} < x < x_{\max}), \qquad 0 \text{ otherwise},

    :math:`x_{\min,\max} = \sigma(1 \mp \sqrt q)`. For :math:`q = 1` this is the quarter circle
    :math:`\sqrt{4\sigma^2 - x^2}/(\pi\sigma^2)`.

    Parameters
    ----------
    x : array_like
        Points (normalised singular values :math:`s/\sqrt n`). NaN propagates.
    q : float
        Aspect ratio :math:`m/n \in (0, 1]`.
    sigma : float
        Noise standard deviation, > 0.

    Returns
    -------
    ndarray
        Density at ``x`` (a NumPy scalar for scalar input).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, eq. (2); see the module docstring.
    """
    q, sigma = _check_q_sigma(q, sigma)
    lo, hi = mp_edges(q, sigma)
    xa = np.asarray(x, dtype=float)
    out = _generalised_pdf(np.atleast_1d(xa), lo, hi, q * sigma * sigma)  # eq. (2) of [1]
    return out.reshape(xa.shape)[()]


def mp_cdf(x: ArrayLike, q: float, sigma: float = 1.0) -> np.ndarray:
    r"""Closed-form cumulative distribution of the Marchenko–Pastur law of eq. (2) of [1]_.

    Substituting :math:`u = x^2` turns eq. (2) into the MP eigenvalue density with ratio
    :math:`q` [2]_ on :math:`[A, B] = [x_{\min}^2, x_{\max}^2]`, whose antiderivative is
    elementary (Bai & Silverstein [3]_, Sec. 3.1; Gradshteyn–Ryzhik 2.267):

    .. math::

        F(x) = \frac{1}{2\pi q\sigma^2}\Big[R + (A+B)\arcsin\sqrt{\tfrac{u-A}{B-A}}
               - 2\sqrt{AB}\arcsin\sqrt{\tfrac{B(u-A)}{u(B-A)}}\Big],
        \qquad R = \sqrt{(B-u)(u-A)},

    for :math:`x_{\min} \le x \le x_{\max}`; 0 below, 1 above. (:math:`A + B = 2\sigma^2(1+q)`,
    :math:`\sqrt{AB} = \sigma^2(1-q)`.) Above the midpoint of the support the upper tail is
    evaluated by the mirrored formula and subtracted from 1, so both tails keep absolute
    accuracy near 1e-16.

    Parameters
    ----------
    x : array_like
        Points. NaN propagates.
    q : float
        Aspect ratio in (0, 1].
    sigma : float
        Noise standard deviation, > 0.

    Returns
    -------
    ndarray
        :math:`P(\gamma \le x)` (a NumPy scalar for scalar input).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, eq. (2).
    .. [2] Marcenko, Pastur (1967), see the module docstring.
    .. [3] Bai, Silverstein (2010), see the module docstring.
    """
    q, sigma = _check_q_sigma(q, sigma)
    lo, hi = mp_edges(q, sigma)
    xa = np.asarray(x, dtype=float)
    below, _ = _generalised_cdf_sf(np.atleast_1d(xa), lo, hi, q * sigma * sigma, 1.0)  # eq. (2) of [1]
    return below.reshape(xa.shape)[()]


def _mp_sf(x: np.ndarray, q: float, sigma: float) -> np.ndarray:
    """Survival function 1 - cdf of the MP law, accurate in the upper tail (arguments checked)."""
    lo, hi = mp_edges(q, sigma)
    _, above = _generalised_cdf_sf(x, lo, hi, q * sigma * sigma, 1.0)
    return above


def _invert(p: np.ndarray, q: float, sigma: float, upper: bool) -> np.ndarray:
    r"""Solve :math:`F(x) = p` (or :math:`1 - F(x) = p` if ``upper``) for all ``p`` at once.

    Vectorised safeguarded Newton iteration ("rtsafe", Press et al., Numerical Recipes, 3rd ed.,
    Sec. 9.4): each point keeps a bracket :math:`[lo, hi]` on which the (monotone) residual changes
    sign; a Newton step :math:`x - r/g(x)` is taken when it stays inside the bracket and at least
    halves the step, otherwise the bracket is bisected. A point stops when its residual is at the
    rounding level, :math:`|r| \le 4\epsilon p`, or its step or bracket is below ``4 eps x_max``.
    ``p`` must lie in [0, 1].
    """
    lo_edge, hi_edge = mp_edges(q, sigma)
    s2q = q * sigma * sigma
    lo = np.full(p.shape, lo_edge)
    hi = np.full(p.shape, hi_edge)
    # start from the quantile of a uniform law on the support (a fine first guess)
    x = lo_edge + (hi_edge - lo_edge) * ((1.0 - p) if upper else p)
    dx_old = np.full(p.shape, hi_edge - lo_edge)
    tol = 4.0 * np.finfo(float).eps * hi_edge
    active = np.ones(p.shape, dtype=bool)
    for _ in range(_MAX_ITER):
        if not np.any(active):
            break
        xa = x[active]
        below, above = _generalised_cdf_sf(xa, lo_edge, hi_edge, s2q, 1.0)
        # residual, increasing in x: F(x) - p, or p - S(x) for the upper quantile
        r = p[active] - above if upper else below - p[active]
        dens = _generalised_pdf(xa, lo_edge, hi_edge, s2q)
        lo_a, hi_a = lo[active], hi[active]
        lo_a = np.where(r < 0.0, xa, lo_a)
        hi_a = np.where(r > 0.0, xa, hi_a)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xa - r / dens
        ok = (
            (dens > 0.0)
            & (newton > lo_a)
            & (newton < hi_a)
            & (np.abs(2.0 * r) < np.abs(dx_old[active] * dens))
        )
        new_x = np.where(ok, newton, 0.5 * (lo_a + hi_a))
        step = np.abs(new_x - xa)
        # converged: the residual is at the rounding level of the cdf there (relative to p, so small p
        # keeps its relative accuracy); further Newton steps would only chase rounding noise
        exact = np.abs(r) <= 4.0 * np.finfo(float).eps * p[active]
        new_x = np.where(exact, xa, new_x)
        dx_old[active] = np.where(exact, 0.0, step)
        x[active] = new_x
        lo[active], hi[active] = lo_a, hi_a
        done = exact | (step <= tol) | ((hi_a - lo_a) <= tol)
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    # exact edges
    x = np.where(p == (1.0 if upper else 0.0), lo_edge, x)
    x = np.where(p == (0.0 if upper else 1.0), hi_edge, x)
    return x


def mp_ppf(p: ArrayLike, q: float, sigma: float = 1.0) -> np.ndarray:
    r"""Quantile function (inverse of :func:`mp_cdf`) of the MP law of eq. (2) of [1]_.

    Returns :math:`x` with :math:`F(x) = p`, found by a vectorised safeguarded Newton–bisection
    iteration on the closed-form cdf (absolute accuracy in :math:`p` about 1e-15, in :math:`x`
    about :math:`4\epsilon x_{\max}`). ``mp_ppf(0) = x_min`` and ``mp_ppf(1) = x_max``.

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1]; anything else (NaN included) raises ``ValueError``.
    q : float
        Aspect ratio in (0, 1].
    sigma : float
        Noise standard deviation, > 0.

    Returns
    -------
    ndarray
        Quantiles (a NumPy scalar for scalar input).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, eq. (2).
    """
    q, sigma = _check_q_sigma(q, sigma)
    pa = _check_prob(p)
    x = _invert(np.atleast_1d(pa).astype(float).ravel(), q, sigma, upper=False)  # eq. (2) of [1]
    return x.reshape(pa.shape)[()]


def mp_isf(p: ArrayLike, q: float, sigma: float = 1.0) -> np.ndarray:
    r"""Upper quantile of the MP law of eq. (2) of [1]_: :math:`x` with :math:`P(\gamma > x) = p`.

    This is the "upper :math:`p` percentile point" :math:`p_k` of the BEMA algorithm (paper 000,
    App. A), :math:`\int_{x}^{x_{\max}} g = p`. The survival function is inverted directly (not
    ``mp_ppf(1 - p)``), so small ``p`` keep full accuracy. ``mp_isf(0) = x_max``,
    ``mp_isf(1) = x_min``.

    Parameters
    ----------
    p : array_like
        Upper-tail probabilities in [0, 1].
    q : float
        Aspect ratio in (0, 1].
    sigma : float
        Noise standard deviation, > 0.

    Returns
    -------
    ndarray
        Upper quantiles (a NumPy scalar for scalar input).

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, eq. (2) and App. A.
    """
    q, sigma = _check_q_sigma(q, sigma)
    pa = _check_prob(p)
    x = _invert(np.atleast_1d(pa).astype(float).ravel(), q, sigma, upper=True)  # eq. (2) of [1]
    return x.reshape(pa.shape)[()]
