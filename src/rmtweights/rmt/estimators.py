r"""Estimators of the Marchenko–Pastur scale :math:`\sigma` from a singular-value spectrum.

Input convention (``docs/architecture.md``): ``gammas`` are the normalised singular values
:math:`\gamma_i = s_i/\sqrt n` of an :math:`n \times m` matrix with :math:`n \ge m`, any order
(sorted descending internally), and :math:`q = m/n \in (0, 1]`. Under pure i.i.d. noise of
standard deviation :math:`\sigma` they follow eq. (2) of [1]_ (:mod:`rmtweights.rmt.mp`).

* :func:`bema_sigma` — bulk eigenvalue matching analysis (paper 000 App. A, after Ke, Ma, Lin [2]_);
* :func:`gb_sigma` — least-squares fit of eq. (2) to the Gaussian-broadened density
  (paper 000 App. B; the broadening of paper 001 App. C, [3]_);
* :func:`modified_mp_fit` — the modified MP law of paper 001 Sec. 4 ([3]_): lower edge fixed at the
  smallest singular value, upper edge and :math:`\sigma` fitted, giving the MP fraction.

The methods' names, defaults and what each can output are in :mod:`rmtweights.methods`; the one
dispatch by name is :func:`rmtweights.analyze.estimate_sigma`.

Spectra that are too small or degenerate (fewer than 5 values, all equal, NaN/Inf) raise
:class:`InsufficientDataError` (a ``ValueError``), which callers turn into a ``status`` row.

**How the two density fits are solved.** Both are least-squares fits of an MP-type density to the
broadened density at the bulk's values, started at the BEMA estimate. The objective has a shallow
local minimum between every two singular values near an edge of the model's support (a cusp where a
value crosses the edge), so the minimum found depends on the optimiser's path; the fits keep the
path they have always had, that of ``scipy.optimize.least_squares(method="trf")``, taken by
:func:`rmtweights.rmt._trf.trf_least_squares` (the same steps without scipy's per-iteration
overhead), with the Jacobian in closed form (:func:`_mp_density_sigma`, :func:`_modified_density`)
instead of finite differences. A few Newton steps with the exact Hessian then take the end point to
the local minimiser itself (:func:`_newton_polish`): the trust-region method stops when the cost
changes by less than ``ftol = 1e-8``, which left :math:`\hat\sigma` up to :math:`2\times10^{-5}`
relative (:math:`3\times10^{-6}` on trained layers) off the minimiser. The BEMA start, the outlier
fence, the bulk and its broadened density are computed once per spectrum and shared by the two fits
(:func:`_bulk_pieces`).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", preprint (2025); paper 000 of this project.
.. [2] Z. T. Ke, Y. Ma, X. Lin, "Estimation of the number of spiked eigenvalues in a covariance
   matrix by bulk eigenvalue matching analysis", Journal of the American Statistical
   Association 118, 374–392 (2023). arXiv:2006.00436
.. [3] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", preprint; paper 001 of this project.
.. [4] I. M. Johnstone, "On the distribution of the largest eigenvalue in principal components
   analysis", Annals of Statistics 29(2), 295–327 (2001). :doi:`10.1214/aos/1009210544`
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rmtweights.checks import InsufficientDataError, check_a, check_open_unit, check_q
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA
from rmtweights.rmt._trf import trf_least_squares
from rmtweights.rmt.broadening import broadened_density, broadening_widths

from rmtweights.rmt.mp import (
    _generalised_pdf,
    mp_edges,
    mp_isf,
)

__all__ = [
    "InsufficientDataError",
    "ModifiedMPFit",
    "bema_sigma",
    "gaussian_broadening_density",
    "gb_sigma",
    "modified_mp_fit",
    "MIN_SIZE",
]

MIN_SIZE: int = 5  # smallest spectrum any estimator accepts



def _check_alpha(alpha: float) -> float:
    return check_open_unit("alpha", alpha, 0.5)


def _check_gammas(gammas: npt.ArrayLike, min_size: int = MIN_SIZE) -> np.ndarray:
    """Return the spectrum as a float array sorted descending, after validation."""
    arr = np.asarray(gammas, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"gammas must be one-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise InsufficientDataError(
            f"spectrum has {arr.size} singular values; at least {min_size} are needed"
        )
    n_bad = int(np.count_nonzero(~np.isfinite(arr)))
    if n_bad:
        raise InsufficientDataError(f"spectrum contains {n_bad} NaN/Inf value(s)")
    if np.any(arr < 0.0):
        raise ValueError(f"singular values must be >= 0, got min(gammas)={arr.min()!r}")
    top = float(arr.max())
    if top == 0.0 or float(np.ptp(arr)) <= 1e-12 * top:
        raise InsufficientDataError(
            f"spectrum is degenerate: all {arr.size} singular values equal {top!r}"
        )
    return np.sort(arr)[::-1]


# --------------------------------------------------------------------------------------------------
# BEMA


def bema_sigma(gammas: npt.ArrayLike, q: float, alpha: float = DEFAULT_ALPHA) -> float:
    r"""Bulk eigenvalue matching analysis (BEMA) estimate of :math:`\sigma`, App. A of [1]_.

    With the spectrum sorted descending, :math:`\gamma_1 \ge \dots \ge \gamma_m`, and
    :math:`p_k` the upper :math:`k/m` quantile of the MP law (eq. (2) of [1]_) with
    :math:`\sigma = 1`, :math:`\int_{p_k}^{1+\sqrt q} g = k/m`, the bulk quantiles are matched by a
    least-squares line through the origin:

    .. math::

        \hat\sigma = \frac{\sum_{\alpha m \le k \le (1-\alpha) m} p_k\,\gamma_k}
                          {\sum_{\alpha m \le k \le (1-\alpha) m} p_k^2} .

    Discarding the top and bottom fraction :math:`\alpha` makes the estimate insensitive to the
    spikes (signal singular values above the bulk) and to the lower edge. This is the
    singular-value form used by [1]_; Ke, Ma and Lin [2]_ match eigenvalues
    (:math:`\gamma_k^2` against :math:`\sigma^2 \lambda_k`) in the same way.

    Parameters
    ----------
    gammas : array_like
        Normalised singular values :math:`s/\sqrt n`, any order; ``len(gammas)`` plays the
        role of :math:`m`.
    q : float
        Aspect ratio :math:`m/n \in (0, 1]`.
    alpha : float
        Trimmed fraction at each end, in (0, 1/2); 0.2 in [1]_ (suggested by [2]_).

    Returns
    -------
    float
        :math:`\hat\sigma`.

    Raises
    ------
    InsufficientDataError
        Fewer than 5 values, NaN/Inf, all equal, or fewer than 2 indices in the window.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, App. A; see the module docstring.
    .. [2] Ke, Ma, Lin, JASA 118, 374–392 (2023), arXiv:2006.00436; see the module docstring.
    """
    q = check_q(q)
    alpha = _check_alpha(alpha)
    g = _check_gammas(gammas)
    m = g.size
    k_lo, p = _bema_quantiles(m, q, alpha)
    gk = g[k_lo - 1 : k_lo - 1 + p.size]  # gamma_k, the k-th largest (1-based k)
    return float(np.dot(p, gk) / np.dot(p, p))  # App. A step 4 of [1]


@functools.lru_cache(maxsize=1024)
def _bema_quantiles(m: int, q: float, alpha: float) -> tuple[int, np.ndarray]:
    """First index k_lo and the MP (sigma = 1) upper quantiles p_k, k = k_lo..k_hi, of BEMA's window.

    They depend on (m, q, alpha) only, so the layers of one shape share them (cached, read-only).
    """
    # the 1e-9 tolerance: alpha*m is often an integer in exact arithmetic
    k_lo = max(1, math.ceil(alpha * m - 1e-9))
    k_hi = min(m, math.floor((1.0 - alpha) * m + 1e-9))
    if k_hi - k_lo + 1 < 2:
        raise InsufficientDataError(
            f"BEMA window alpha*m <= k <= (1-alpha)*m holds fewer than 2 indices "
            f"(m={m}, alpha={alpha})"
        )
    k = np.arange(k_lo, k_hi + 1)
    p = np.asarray(mp_isf(k / m, q, 1.0))  # App. A step 2 of [1]
    p.setflags(write=False)
    return k_lo, p


# --------------------------------------------------------------------------------------------------
# Gaussian broadening


def gaussian_broadening_density(x: npt.ArrayLike, gammas: npt.ArrayLike, a: int = DEFAULT_A) -> np.ndarray:
    r"""Smoothed empirical density of the spectrum by Gaussian broadening, App. B of [1]_.

    .. math::

        P(x) = \frac1m \sum_{k=1}^m \frac{1}{\sqrt{2\pi\sigma_k^2}}
               \exp\!\Big(-\frac{(x-\gamma_k)^2}{2\sigma_k^2}\Big),
        \qquad \sigma_k = \frac{|\gamma_{k+a} - \gamma_{k-a}|}{2}

    (also eq. (4) of [3]_), with the :math:`\gamma_k` sorted (the absolute value makes the
    direction irrelevant). **End effects:** near the ends of the spectrum the indices
    :math:`k \pm a` are clipped to :math:`[1, m]`, so the window there is one-sided and the
    kernels narrower (down to about half the interior width); this follows the density's steep
    fall at the MP edges better than a shifted full window would. A zero width (exactly tied
    values) is raised to the smallest positive width. :math:`P` integrates to 1 over the real
    line.

    Parameters
    ----------
    x : array_like
        Points at which to evaluate :math:`P`.
    gammas : array_like
        Normalised singular values, any order; at least :math:`2a + 1` of them.
    a : int
        Half-width of the window (window :math:`2a+1` values); 15 in [1]_ and [3]_.

    Returns
    -------
    ndarray
        :math:`P(x)`, shaped like ``x``.

    Raises
    ------
    InsufficientDataError
        Fewer than :math:`2a + 1` values, NaN/Inf or an all-equal spectrum.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, App. B.
    .. [3] Thamm, Staats, Rosenow, paper 001, App. C, eq. (4).
    """
    a = check_a(a)
    g = _gb_spectrum(gammas, a)
    xa = np.asarray(x, dtype=float)
    g_asc = g[::-1].copy()
    out = broadened_density(xa.ravel(), g_asc, broadening_widths(g_asc, a))
    return out.reshape(xa.shape)


def _gb_spectrum(gammas: npt.ArrayLike, a: int) -> np.ndarray:
    """Validate a spectrum for broadening (needs 2a+1 values); return it sorted descending."""
    g = _check_gammas(gammas)
    if g.size < 2 * a + 1:
        raise InsufficientDataError(
            f"Gaussian broadening with a={a} needs at least 2a+1={2 * a + 1} singular values, "
            f"got m={g.size}"
        )
    return g


_FENCE_TW_UNITS = 4.0  # TW1 scale units above the edge; the 0.999 quantile of TW1 is about 3.3


def _bulk_fence(g_desc: np.ndarray, q: float, sigma0: float) -> float:
    r"""Upper fence separating the MP bulk from outliers, from the BEMA scale.

    .. math::

        \gamma_{\rm fence} = x_{\max}(\hat\sigma_{\rm BEMA})\Big[1 + c\,
            \frac{(n^{-1/2} + m^{-1/2})^{1/3}}{2(\sqrt n + \sqrt m)}\Big], \qquad c = 4,

    (:math:`\hat\sigma_{\rm BEMA}` = ``sigma0``) where the bracket's second term is :math:`c` times the
    Tracy–Widom scale of the largest singular value of an :math:`n \times m` noise matrix relative to
    its edge (Johnstone 2001, Ann. Statist. 29, 295–327, Theorem 1.1, transported from :math:`\lambda` to
    :math:`\gamma = \sqrt{\lambda/n}`), with :math:`n = m/q`. :math:`c = 4` lies above the 0.999
    quantile of TW1, so pure noise almost never loses a value to the fence; BEMA ignores the top
    :math:`\alpha m` values, so spikes do not move the fence.
    """
    m = g_desc.size
    n = m / q
    _, x_max = mp_edges(q, sigma0)
    tw_scale = (n**-0.5 + m**-0.5) ** (1.0 / 3.0) / (2.0 * (math.sqrt(n) + math.sqrt(m)))
    return x_max * (1.0 + _FENCE_TW_UNITS * tw_scale)


def _bulk(g_desc: np.ndarray, q: float, a: int, sigma0: float) -> np.ndarray:
    """Ascending bulk of the spectrum (values at or below :func:`_bulk_fence`).

    Falls back to the whole spectrum when fewer than 2a+1 values would remain.
    """
    g_asc = g_desc[::-1]
    bulk = g_asc[g_asc <= _bulk_fence(g_desc, q, sigma0)]
    return (bulk if bulk.size >= 2 * a + 1 else g_asc).copy()


@dataclass(frozen=True)
class _BulkPieces:
    """What :func:`gb_sigma` and :func:`modified_mp_fit` share for one spectrum (arrays read-only)."""

    sigma0: float  # BEMA estimate: start value of both fits and scale of the outlier fence
    bulk: np.ndarray  # ascending values at or below the fence (or all, see _bulk)
    density: np.ndarray  # broadened density of the bulk at its own values, normalised by the bulk count


_PIECES_CACHE: OrderedDict[tuple, _BulkPieces] = OrderedDict()
_PIECES_CACHE_SIZE = 4  # spectra remembered: the fits of one layer run one after the other


def _bulk_pieces(g_desc: np.ndarray, q: float, a: int, alpha: float) -> _BulkPieces:
    """BEMA start, bulk and broadened density of a validated spectrum (descending), computed once.

    The fits of one layer (``gb`` and ``modified_mp``) need the same three pieces; the broadening is
    the costly one (a kernel per value at every value). A small cache keyed by the spectrum's bytes
    and the options hands the second fit what the first computed: the same numbers, not a copy.
    """
    key = (g_desc.tobytes(), q, a, alpha)
    pieces = _PIECES_CACHE.get(key)
    if pieces is None:
        sigma0 = bema_sigma(g_desc, q, alpha=alpha)
        bulk = _bulk(g_desc, q, a, sigma0)
        density = broadened_density(bulk, bulk, broadening_widths(bulk, a))  # App. B of [1]
        bulk.setflags(write=False)
        density.setflags(write=False)
        pieces = _BulkPieces(sigma0=sigma0, bulk=bulk, density=density)
        _PIECES_CACHE[key] = pieces
        if len(_PIECES_CACHE) > _PIECES_CACHE_SIZE:
            _PIECES_CACHE.popitem(last=False)
    return pieces


# A model of the fits below returns, at parameters theta, the residuals r = P - g(theta) and their
# Jacobian dr/dtheta (m x p); with hessian=True also the second-order term sum_i r_i d2r_i/dtheta2
# (p x p) of the Hessian of 0.5 |r|^2, which is J^T J + that term.
ResidualModel = Callable[..., tuple[np.ndarray, ...]]


def _mp_density_sigma(
    x: np.ndarray, q: float, sigma: float, second: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""The MP density :math:`g(x;\sigma)` of eq. (2) of [1]_ and its first (and second) derivative in :math:`\sigma`.

    With :math:`\ell = \sigma(1-\sqrt q)`, :math:`h = \sigma(1+\sqrt q)`,
    :math:`D = (x^2-\ell^2)(h^2-x^2)`, :math:`N = \ell^2 + h^2 - 2x^2` (inside the support; 0 outside):

    .. math::

        \frac{\partial g}{\partial\sigma} = -\frac{x N}{\pi q \sigma^3 \sqrt D}, \qquad
        \frac{\partial^2 g}{\partial\sigma^2} = -\frac{x\,[2(\ell^2+h^2)D - 3ND
            - N((\ell^2+h^2)x^2 - 2\ell^2h^2)]}{\pi q \sigma^4 D^{3/2}} .

    ``g`` is :func:`rmtweights.rmt.mp.mp_pdf` to the last bit (same edges, same function). A value
    on an edge (where the derivatives are infinite) contributes no derivative. The second
    derivative only with ``second=True`` (else None).
    """
    lo, hi = mp_edges(q, sigma)
    g = _generalised_pdf(x, lo, hi, q * sigma * sigma)  # eq. (2) of [1], as mp_pdf
    inside = g > 0.0  # x strictly inside the support (D > 0)
    xi = x[inside]
    D = (xi - lo) * (xi + lo) * (hi - xi) * (hi + xi)
    lh = lo * lo + hi * hi
    N = lh - 2.0 * xi * xi
    root = np.sqrt(D)
    c = math.pi * q
    d1 = np.zeros_like(x)
    d1[inside] = -xi * N / (c * sigma**3 * root)
    if not second:
        return g, d1, None
    d2 = np.zeros_like(x)
    d2[inside] = -xi * (2.0 * lh * D - 3.0 * N * D - N * (lh * xi * xi - 2.0 * lo * lo * hi * hi)) / (
        c * sigma**4 * D * root)
    return g, d1, d2


def _modified_density(
    x: np.ndarray, nu_min: float, sigma: float, nu_max: float, q: float, second: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""The modified MP density of Sec. 4 of [3]_, its gradient (and Hessian) in :math:`(\sigma, \nu_{\max})`.

    For :math:`g = \sqrt D/(\pi q\sigma^2 x)`, :math:`D = (x^2-\nu_{\min}^2)(\nu_{\max}^2-x^2)`:

    .. math::

        g_\sigma = -\frac{2g}{\sigma},\quad g_{\sigma\sigma} = \frac{6g}{\sigma^2},\quad
        g_\nu = \frac{(x^2-\nu_{\min}^2)\,\nu_{\max}}{\pi q\sigma^2 x\sqrt D},\quad
        g_{\sigma\nu} = -\frac{2g_\nu}{\sigma},\quad
        g_{\nu\nu} = -\frac{(x^2-\nu_{\min}^2)^2\,x}{\pi q\sigma^2 D^{3/2}} .

    Returns ``g`` (:func:`rmtweights.rmt.mp._generalised_pdf`, bit for bit), the gradient (m x 2)
    and, with ``second=True``, the three distinct second derivatives (m x 3: ss, s nu, nu nu).
    """
    s2q = q * sigma * sigma
    g = _generalised_pdf(x, nu_min, nu_max, s2q)  # eq. (2) of [3] with free edges
    inside = g > 0.0  # strictly inside (D > 0)
    xi = x[inside]
    gi = g[inside]
    low = (xi - nu_min) * (xi + nu_min)
    D = low * (nu_max - xi) * (nu_max + xi)
    root = np.sqrt(D)
    g_nu = low * nu_max / (math.pi * s2q * xi * root)
    grad = np.zeros((x.size, 2))
    grad[inside, 0] = -2.0 * gi / sigma
    grad[inside, 1] = g_nu
    if not second:
        return g, grad, None
    hess = np.zeros((x.size, 3))
    hess[inside, 0] = 6.0 * gi / (sigma * sigma)
    hess[inside, 1] = -2.0 * g_nu / sigma
    hess[inside, 2] = -low * low * xi / (math.pi * s2q * D * root)
    return g, grad, hess


_POLISH_STEPS = 8  # Newton converges quadratically: 2-3 steps from where the trust region stops
_POLISH_REACH = 1e-3  # largest step (relative to x_scale): beyond it the end point is not near a minimum
_POLISH_TOL = 1e-9  # a Newton step this small (relative) leaves an error of its square: done


def _newton_polish(
    model: ResidualModel, x: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps from the trust-region end point ``x`` to the local minimiser of ``0.5 |r|^2``.

    :func:`~rmtweights.rmt._trf.trf_least_squares` stops when the cost changes by less than ``ftol``
    (relative), which leaves the parameters up to about ``sqrt(ftol)`` off the minimiser. With the exact Hessian
    ``J^T J + sum_i r_i r_i''`` Newton's method converges quadratically from there. A parameter at a
    bound whose gradient points outwards stays there (projected Newton, Bertsekas 1982). The steps are
    taken only while the Hessian is positive definite, each is shorter than ``_POLISH_REACH * scale``
    and the cost does not rise beyond rounding; otherwise the last point is kept. Returns the point and
    its residuals.
    """
    r, J, S = model(x, hessian=True)
    cost = 0.5 * float(r @ r)
    for _ in range(_POLISH_STEPS):
        grad = J.T @ r
        blocked = ((x - lower <= 1e-10 * scale) & (grad > 0)) | ((upper - x <= 1e-10 * scale) & (grad < 0))
        free = ~blocked
        if not free.any():
            break
        hess = (J.T @ J + S)[np.ix_(free, free)]
        try:
            chol = np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            break  # not convex here: not in a minimum's neighbourhood
        step = np.zeros_like(x)
        step[free] = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad[free]))  # Newton step
        if not np.all(np.abs(step) <= _POLISH_REACH * scale):
            break
        x_new = np.clip(x + step, lower, upper)
        r_new, J_new, S_new = model(x_new, hessian=True)
        cost_new = 0.5 * float(r_new @ r_new)
        if cost_new > cost * (1.0 + 1e-12):
            break
        x, r, J, S, cost = x_new, r_new, J_new, S_new, cost_new
        if np.all(np.abs(step) <= _POLISH_TOL * np.abs(x)):
            break
    return x, r


def gb_sigma(gammas: npt.ArrayLike, q: float, a: int = DEFAULT_A, *, alpha: float = DEFAULT_ALPHA) -> float:
    r"""Gaussian-broadening estimate of :math:`\sigma`, App. B of [1]_.

    .. math::

        \hat\sigma = \arg\min_{\sigma > 0} \sum_{i=1}^m \big[P(\gamma_i) - g(\gamma_i;\sigma)\big]^2,

    with :math:`P` the Gaussian-broadened density (:func:`gaussian_broadening_density`) and
    :math:`g` the MP density of eq. (2) of [1]_. Solved by the trust-region reflective method
    (bounded to :math:`[\hat\sigma_0/100,\ 100\,\hat\sigma_0]`) started at the BEMA estimate
    :math:`\hat\sigma_0` (:func:`bema_sigma` with the same ``alpha`` as the BEMA estimate), then
    polished to the local minimiser (module docstring).

    **Outliers (our choice; [1]_ is silent):** the broadening and the fit use the bulk only,
    the values at or below the fence :math:`x_{\max}(\hat\sigma_0)\,(1 + 4\,s_{TW})`, with
    :math:`s_{TW}` the relative Tracy–Widom scale of the largest noise singular value
    (Johnstone 2001, [4]_ of the module); :math:`P` is normalised by the bulk count. Broadening
    every value, as a literal reading of [1]_ does, lets the windows of the top :math:`a` bulk
    values reach into the gap below the spikes; their widths then grow to about half that gap,
    the upper edge of :math:`P` is smeared and :math:`\hat\sigma` drops (seeded 500 × 1000,
    :math:`\sigma = 0.7`, five spikes :math:`\theta = 2 \dots 6`: −2 %; at 200 × 400: −4.5 %).
    With the fence the same spikes move :math:`\hat\sigma` by less than 0.5 % (the tests bound
    it at 1 %). Pure noise almost never has a value above the fence, so there the estimator is
    the literal one. If fewer than :math:`2a+1` values remain below the fence, all values are
    used. Values below the bulk (e.g. exact zeros of a rank-deficient matrix) are not screened.

    **End effects:** window indices are clipped at the ends of the (bulk) spectrum, see
    :func:`gaussian_broadening_density`.

    **Bias (measured, not low but high):** the broadening widens the spectrum and lowers
    :math:`P` where :math:`g` has sharp edges, and the least-squares fit answers with a wider
    (larger-:math:`\sigma`) MP law, so :math:`\hat\sigma` is biased *high* on small matrices,
    most at :math:`q = 1`, where the quarter-circle density is finite at 0 and the kernels leak
    below 0. Mean relative error over seeded Gaussian matrices (:math:`\sigma = 0.7`,
    ``a = 15``; ``numpy.random.default_rng(12345)``; standard error in brackets):

    ============  =====  ======  ================  ===============
    m × n         q      draws   GB                BEMA
    ============  =====  ======  ================  ===============
    100 × 100     1      20      +8.9 % (0.25)     +0.6 %
    300 × 300     1      10      +1.2 % (0.08)     +0.2 %
    100 × 200     0.5    20      +2.4 % (0.21)     +0.5 %
    200 × 400     0.5    20      +0.5 % (0.08)     +0.3 %
    500 × 1000    0.5    10      +0.06 % (0.04)    +0.1 %
    1000 × 3000   1/3    4       +0.04 % (0.02)    +0.1 %
    100 × 400     0.25   20      +0.9 % (0.18)     +0.3 %
    ============  =====  ======  ================  ===============

    At fixed ``a`` the bias decays roughly like :math:`m^{-2}`; below :math:`m \approx 300`
    (and for square matrices) prefer BEMA or read GB with this table in mind. The tests pin the
    100 × 100 and 500 × 1000 rows.

    Parameters
    ----------
    gammas : array_like
        Normalised singular values, any order; at least :math:`2a + 1` of them.
    q : float
        Aspect ratio :math:`m/n \in (0, 1]`.
    a : int
        Half-width of the broadening window; 15 in [1]_.
    alpha : float
        Trimming fraction of the BEMA start value and outlier fence (0.2 in [1]_).

    Returns
    -------
    float
        :math:`\hat\sigma`.

    Raises
    ------
    InsufficientDataError
        Fewer than :math:`2a + 1` values, NaN/Inf or an all-equal spectrum.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, App. B.
    """
    q = check_q(q)
    a = check_a(a)
    alpha = _check_alpha(alpha)
    g = _gb_spectrum(gammas, a)
    pieces = _bulk_pieces(g, q, a, alpha)
    sigma0, bulk, P = pieces.sigma0, pieces.bulk, pieces.density

    def model(theta: np.ndarray, hessian: bool = False) -> tuple[np.ndarray, ...]:
        dens, d1, d2 = _mp_density_sigma(bulk, q, float(theta[0]), second=hessian)
        r = P - dens  # App. B of [1]
        if d2 is not None:
            return r, -d1[:, None], np.array([[-float(r @ d2)]])
        return r, -d1[:, None]

    lower, upper, scale = np.array([sigma0 / 100.0]), np.array([sigma0 * 100.0]), np.array([sigma0])
    fit = trf_least_squares(model, np.array([sigma0]), lower, upper, scale)
    sigma, _ = _newton_polish(model, fit.x, lower, upper, scale)
    return float(sigma[0])


# --------------------------------------------------------------------------------------------------
# modified MP fit (paper 001)


@dataclass(frozen=True)
class ModifiedMPFit:
    r"""Result of :func:`modified_mp_fit`.

    Attributes
    ----------
    sigma : float
        Fitted scale :math:`\sigma` of the modified MP density.
    nu_min : float
        Lower edge, fixed at the smallest singular value.
    nu_max : float
        Fitted upper edge.
    fraction_mp : float
        Fraction of all :math:`m` singular values :math:`\le \nu_{\max}` (the part of the
        spectrum that follows MP).
    n_used : int
        Number of singular values fitted (those at or below the outlier fence).
    mp_mass : float
        Integral of the fitted density, :math:`(\nu_{\max} - \nu_{\min})^2/(4q\sigma^2)`: the MP
        fraction as the fit's amplitude sees it (paper 001's reading); close to ``fraction_mp``
        when the fit is good.
    rms_residual : float
        Root-mean-square residual of the density fit (same units as the density).
    success : bool
        Whether the trust-region method converged (``ftol``, ``xtol`` or ``gtol``; not the
        evaluation limit).
    """

    sigma: float
    nu_min: float
    nu_max: float
    fraction_mp: float
    n_used: int
    mp_mass: float
    rms_residual: float
    success: bool


def modified_mp_fit(gammas: npt.ArrayLike, q: float, *, a: int = DEFAULT_A,
                    alpha: float = DEFAULT_ALPHA) -> ModifiedMPFit:
    r"""Fit the modified Marchenko–Pastur law of Sec. 4 of [3]_ to a spectrum.

    The MP density (eq. (2) of [3]_, written in normalised singular values as eq. (2) of [1]_)
    with its edges freed from :math:`\sigma`:

    .. math::

        g_{\rm mod}(x) = \frac{1}{\pi q \sigma^2 x}
            \sqrt{(\nu_{\max}^2 - x^2)(x^2 - \nu_{\min}^2)}, \qquad
            \nu_{\min} \le x \le \nu_{\max},

    with :math:`\nu_{\min}` fixed at the smallest singular value and :math:`(\sigma, \nu_{\max})`
    fitted. The density's total mass :math:`(\nu_{\max} - \nu_{\min})^2/(4q\sigma^2)` is then free:
    it is "the percentage of the spectrum still following the Marchenko–Pastur law" of [3]_
    (``mp_mass``). We report as ``fraction_mp`` the fraction of singular values at or below the
    fitted :math:`\nu_{\max}`; for pure noise both are close to 1 and :math:`\sigma` is the noise
    standard deviation. With outliers above the bulk, :math:`\sigma` describes the bulk's scale
    normalised by the whole spectrum (:math:`\approx\sigma_{\rm noise}/\sqrt{\rm mass}`), not the
    noise level.

    **Fit target:** the Gaussian-broadened density :math:`P(\gamma_i)` of App. B of [1]_ /
    App. C of [3]_ (normalised by the whole spectrum, :math:`1/m`) at the singular values of the
    bulk, by the trust-region reflective method, polished to the minimiser (module docstring)
    (residuals :math:`P(\gamma_i) - g_{\rm mod}(\gamma_i)`), started at the BEMA :math:`\sigma`
    and :math:`\nu_{\max} = \sigma(1+\sqrt q)`. A density fit is used rather than one to the
    empirical cdf because the model describes only the MP part: singular values above
    :math:`\nu_{\max}` contribute small, parameter-independent residuals to a density fit, while
    in a cdf fit every outlier shifts the cdf of everything above it, and the mass of the
    non-MP part would need a model of its own. As in :func:`gb_sigma`, values above the fence
    :math:`x_{\max}(\hat\sigma_{\rm BEMA})(1 + 4 s_{TW})` are left out of the broadening and of
    the fit (``n_used`` counts the rest): otherwise the broadening windows of the top bulk values
    reach across the gap to the outliers, smear the upper edge and pull :math:`\nu_{\max}` down
    (five spikes in a 500 × 1000 noise matrix gave ``fraction_mp`` 0.976 instead of 0.99).
    Outliers still count in ``fraction_mp`` (they lie above :math:`\nu_{\max}`).

    Parameters
    ----------
    gammas : array_like
        Normalised singular values, any order; at least :math:`2a + 1` of them.
    q : float
        Aspect ratio :math:`m/n \in (0, 1]`.
    a : int
        Half-width of the broadening window (15, as in [3]_).
    alpha : float
        Trimming fraction of the BEMA start value and outlier fence (0.2 as in [1]_).

    Returns
    -------
    ModifiedMPFit

    Raises
    ------
    InsufficientDataError
        Fewer than :math:`2a + 1` values, NaN/Inf or an all-equal spectrum.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi (2025), paper 000, eq. (2) and App. B.
    .. [3] Thamm, Staats, Rosenow, paper 001, Sec. 4, eq. (2), App. C.
    """
    q = check_q(q)
    a = check_a(a)
    alpha = _check_alpha(alpha)
    g = _gb_spectrum(gammas, a)
    m = g.size
    g_asc = g[::-1]
    pieces = _bulk_pieces(g, q, a, alpha)
    sigma0, bulk = pieces.sigma0, pieces.bulk
    # broadened density of the bulk, normalised by the whole spectrum (its mass is m_bulk/m)
    P = pieces.density * (bulk.size / m)  # eq. (4) of [3]
    nu_min = float(g_asc[0])
    top = float(g_asc[-1])
    span = top - nu_min

    _, x_max0 = mp_edges(q, sigma0)
    nu_lo, nu_hi = nu_min + 1e-6 * span, top + 0.5 * span
    nu0 = min(max(x_max0, nu_lo + 0.01 * span), nu_hi - 0.01 * span)

    def model(theta: np.ndarray, hessian: bool = False) -> tuple[np.ndarray, ...]:
        dens, grad, hess = _modified_density(bulk, nu_min, float(theta[0]), float(theta[1]), q, second=hessian)
        r = P - dens  # eq. (2) of [3]
        if hess is not None:
            h = -(r @ hess)  # sum_i r_i d2r_i, d2r = -d2g
            return r, -grad, np.array([[h[0], h[1]], [h[1], h[2]]])
        return r, -grad

    lower, upper = np.array([sigma0 / 100.0, nu_lo]), np.array([sigma0 * 100.0, nu_hi])
    scale = np.array([sigma0, span])
    fit = trf_least_squares(model, np.array([sigma0, nu0]), lower, upper, scale)
    theta, r = _newton_polish(model, fit.x, lower, upper, scale)
    sigma, nu_max = float(theta[0]), float(theta[1])
    mass = (nu_max - nu_min) ** 2 / (4.0 * q * sigma * sigma)  # total mass of eq. (2) of [3]
    return ModifiedMPFit(
        sigma=sigma,
        nu_min=nu_min,
        nu_max=nu_max,
        fraction_mp=float(np.count_nonzero(g_asc <= nu_max)) / m,
        n_used=int(bulk.size),
        mp_mass=float(mass),
        rms_residual=float(np.sqrt(np.mean(r * r))),
        success=bool(fit.success),
    )
