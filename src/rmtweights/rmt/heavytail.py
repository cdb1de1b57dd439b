r"""Heavy-tail tests of a singular-value spectrum: Clauset–Shalizi–Newman power-law fit and Hill.

Does a weight matrix look like "random plus a few spikes" (a Marchenko–Pastur bulk with a sharp
edge) or is its spectrum heavy-tailed (a power-law tail)? :func:`fit_heavy_tail` answers with the
method of Clauset, Shalizi and Newman [1]_ (CSN) as used for weight matrices in Sec. 4 of [2]_ and
by [3]_: fit :math:`p(x) \propto x^{-\alpha}` to the singular values above :math:`x_{\min}`, choose
:math:`x_{\min}` by minimising the Kolmogorov–Smirnov distance, give a goodness-of-fit p-value by
a semi-parametric bootstrap, and compare the power law with exponential, log-normal and truncated
power-law alternatives by likelihood-ratio tests. :func:`hill_estimator` is an independent
cross-check that needs no :math:`x_{\min}` search.

The ``powerlaw`` package [4]_ is the reference implementation: the tests check the KS distance, the
x_min search, the likelihoods and the likelihood-ratio statistics against it. It is not used here
(importing it pulls in matplotlib): the maximum-likelihood fits of the alternatives are closed forms
(power law, exponential) or a few Newton steps on a concave exponential-family likelihood that
depends on the data only through two means (log-normal, truncated power law; normalisers by
Gauss–Legendre quadrature), about a millisecond per layer instead of ``powerlaw``'s Nelder–Mead
fits; the bootstrap decides :math:`D_{syn} \ge D_{obs}` for a batch of replicates at once from
bounds on the KS distances, with the same draws and the same p-value as one full search per
replicate.

Faults of other tools this module avoids, on purpose:

* **x_min.** The candidates for :math:`x_{\min}` always leave at least ``min_tail`` points in the
  tail (no spurious :math:`\alpha` from a handful of top values) and are bounded in number
  (``max_xmin_candidates``, quantile-spaced on a logarithmic grid of tail sizes), which keeps the
  O(n · candidates) search fast without powerlaw's O(n²) scan over every value.
* **Goodness of fit.** Every row carries the bootstrap p-value (``gof_p``) next to :math:`\alpha`.
* **Small layers.** Too few values give a row with ``status="skipped"`` and a ``reason``.
* **Precision.** Input is cast to float64 before anything else, so a float32 and a float64 copy
  of the same numbers give the same row; randomness comes from the ``seed`` argument only.
* **Exponent range.** ``powerlaw`` 2.0 restricts the power-law exponent to ``[0, 3]`` by default
  (and its own x_min scan discards candidates with :math:`\alpha \ge 3`); here
  :math:`\alpha \in (1, \infty)`.
* **Optimiser.** ``powerlaw`` stops its Nelder–Mead fits at an absolute tolerance of
  :math:`10^{-4}` in the parameters (not scale invariant: the exponential rate of raw singular
  values is off by up to ~1 %), and its log-normal density underflows to subnormal numbers far from
  the data, where the optimiser then finds spurious likelihood gains. Here the fits are exact maxima
  and every likelihood is evaluated in log space.

Conventions: ``sv`` are singular values of a layer matrix, raw or normalised by
:math:`\sqrt n` (``gammas``): :math:`\alpha` and every p-value are scale invariant, only
:math:`x_{\min}` carries the scale. ``alpha_sv`` is the exponent of the density of the singular
values, ``alpha_eig`` that of the eigenvalues :math:`\lambda = s^2` of :math:`W^\top W` (the
exponent reported by WeightWatcher [3]_): :math:`\alpha_{sv} = 2\alpha_{eig} - 1`.

References
----------
.. [1] A. Clauset, C. R. Shalizi, M. E. J. Newman, "Power-law distributions in empirical data",
   SIAM Review 51(4), 661–703 (2009). arXiv:0706.1062, :doi:`10.1137/070710111`
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661);
   paper 001 of this project. (Its heavy-tail test is cited in Sec. 4 of paper 000: K. Nishikawa,
   K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight Matrices based
   on Random Matrix Theory", 2025.)
.. [3] C. H. Martin, M. W. Mahoney, "Implicit self-regularization in deep neural networks:
   evidence from random matrix theory and implications for learning", JMLR 22(165), 1–73 (2021).
   arXiv:1810.01075
.. [4] J. Alstott, E. Bullmore, D. Plenz, "powerlaw: a Python package for analysis of heavy-tailed
   distributions", PLoS ONE 9(1), e85777 (2014). :doi:`10.1371/journal.pone.0085777`
.. [5] B. M. Hill, "A simple general approach to inference about the tail of a distribution",
   Annals of Statistics 3(5), 1163–1174 (1975). :doi:`10.1214/aos/1176343247`
.. [6] M. J. Wainwright, M. I. Jordan, "Graphical models, exponential families, and variational
   inference", Foundations and Trends in Machine Learning 1(1–2), 1–305 (2008), Prop. 3.1.
   :doi:`10.1561/2200000001`
.. [7] M. Abramowitz, I. A. Stegun (eds.), "Handbook of Mathematical Functions", National Bureau of
   Standards (1964), eqs. 25.4.29–30 (Gauss–Legendre quadrature).
.. [8] S. Boyd, L. Vandenberghe, "Convex Optimization", Cambridge University Press (2004), Sec. 9.5
   (Newton's method, Newton decrement, backtracking line search).
.. [9] Q. H. Vuong, "Likelihood ratio tests for model selection and non-nested hypotheses",
   Econometrica 57(2), 307–333 (1989). :doi:`10.2307/1912557`
.. [10] D. P. Bertsekas, "Projected Newton methods for optimization problems with simple
   constraints", SIAM J. Control and Optimization 20(2), 221–246 (1982). :doi:`10.1137/0320018`
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from rmtweights.checks import check_int, check_open_unit

__all__ = [
    "ALTERNATIVES",
    "VERDICTS",
    "fit_heavy_tail",
    "hill_estimator",
    "power_law_mle",
    "ks_scan",
]

#: alternatives of the likelihood-ratio tests, names as in ``powerlaw``
ALTERNATIVES: tuple[str, ...] = ("exponential", "lognormal", "truncated_power_law")
#: values of the ``verdict`` column
VERDICTS: tuple[str, ...] = ("heavy_tailed", "not_heavy_tailed", "inconclusive")

_CHUNK_ELEMENTS = 1 << 20  # (candidates x values) block of the KS scan: 8 MiB of float64


# --------------------------------------------------------------------------------------------------
# validation


def _as_values(sv: Any) -> np.ndarray:
    """Flat float64 copy of ``sv`` (or of ``sv.gammas``); the cast comes first, always."""
    if hasattr(sv, "gammas"):
        sv = sv.gammas
    x = np.asarray(sv, dtype=np.float64).ravel()  # float64 first: float32 input gives the same row
    return x


# --------------------------------------------------------------------------------------------------
# closed-form pieces (shared by the observed fit and the bootstrap)


def power_law_mle(x: npt.ArrayLike, x_min: float) -> float:
    r"""Continuous power-law maximum-likelihood exponent above ``x_min``, eq. (3.1) of [1]_.

    .. math::

        \hat\alpha = 1 + n \Big[\sum_{x_i \ge x_{\min}} \ln\frac{x_i}{x_{\min}}\Big]^{-1},

    :math:`n` the number of values :math:`\ge x_{\min}`. Its standard error is
    :math:`(\hat\alpha - 1)/\sqrt n` (eq. (3.2) of [1]_).

    Parameters
    ----------
    x : array_like
        Positive values (any order); those below ``x_min`` are ignored.
    x_min : float
        Lower bound of the power-law tail, > 0.

    Returns
    -------
    float
        :math:`\hat\alpha`; ``inf`` if every tail value equals ``x_min``.

    References
    ----------
    .. [1] Clauset, Shalizi, Newman, SIAM Review 51, 661 (2009), eqs. (3.1), (3.2).
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    if not (np.isfinite(x_min) and x_min > 0):
        raise ValueError(f"x_min must be a positive finite number, got x_min={x_min!r}")
    tail = xa[xa >= x_min]
    if tail.size == 0:
        raise ValueError(f"no value of x is >= x_min={x_min!r}")
    s = float(np.sum(np.log(tail / x_min)))
    return math.inf if s == 0.0 else 1.0 + tail.size / s  # eq. (3.1) of [1]


def _candidate_alphas(
    logx: np.ndarray, tail_log_sum: np.ndarray, base: np.ndarray | int, starts: np.ndarray, n_c: np.ndarray
) -> np.ndarray:
    """Eq. (3.1) of [1] for each candidate: ``inf`` for a tail whose values all equal x_min."""
    s = tail_log_sum[base + starts] - n_c * logx[base + starts]  # sum ln(x / x_min) over the tail
    with np.errstate(divide="ignore"):
        return np.where(s > 0.0, 1.0 + n_c / np.where(s > 0.0, s, 1.0), np.inf)  # eq. (3.1) of [1]


def _ks_cdfs(
    log_ratio: np.ndarray, alpha: np.ndarray, below: np.ndarray, n_c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Model and empirical CDF of :func:`ks_scan` at tail points :math:`x_j \ge x_{\min}`.

    ``log_ratio`` is :math:`\ln x_j - \ln x_{\min}`, ``below`` the number of tail values strictly
    below :math:`x_j`; returns :math:`F(x_j) = 1 - (x_j/x_{\min})^{1-\alpha}` and
    :math:`S(x_j) =` ``below / n_c`` (arrays broadcast).
    """
    model = -np.expm1((1.0 - alpha) * np.maximum(log_ratio, 0.0))
    return model, below / n_c


def _ks_terms(
    logx: np.ndarray,
    left: np.ndarray,
    base: np.ndarray | int,
    start: np.ndarray,
    n_c: np.ndarray,
    alpha: np.ndarray,
    offset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_ks_cdfs` at tail point ``j = start + offset`` of rows stored flat (row ``r`` from
    ``base = r n``; ``left``: index of the first occurrence of each value in its row)."""
    j = base + start + offset
    return _ks_cdfs(logx[j] - logx[base + start], alpha, left[j] - start, n_c)


def _ks_full(
    logx: np.ndarray,
    left: np.ndarray,
    base: np.ndarray,
    starts: np.ndarray,
    n_c: np.ndarray,
    alphas: np.ndarray,
) -> np.ndarray:
    """KS distance of each candidate over its whole tail (flat ragged evaluation, in chunks)."""
    lengths = n_c.astype(np.int64)
    out = np.empty(starts.size)
    ends = np.cumsum(lengths)
    lo = 0
    while lo < starts.size:  # chunks of about _CHUNK_ELEMENTS points
        limit = ends[lo] - lengths[lo] + _CHUNK_ELEMENTS
        hi = max(lo + 1, int(np.searchsorted(ends, limit, side="right")))
        ln = lengths[lo:hi]
        first = np.cumsum(ln) - ln
        owner = np.repeat(np.arange(hi - lo), ln)
        offset = np.arange(int(ln.sum())) - first[owner]
        owner += lo
        model, empirical = _ks_terms(
            logx, left, base[owner], starts[owner], n_c[owner], alphas[owner], offset
        )
        out[lo:hi] = np.maximum.reduceat(np.abs(model - empirical), first)
        lo = hi
    return out


def ks_scan(x_sorted: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Power-law MLE and KS distance for every candidate :math:`x_{\min}` = ``x_sorted[starts]``.

    For the tail :math:`x_{(i)} \ge x_{\min}` (``n_c`` values) the exponent is eq. (3.1) of [1]_
    and the distance is that of ``powerlaw`` 2.0 [4]_ (Sec. 3.3 of [1]_):

    .. math::

        D = \max_{x_j \ge x_{\min}} \big| F(x_j) - S(x_j) \big|, \qquad
        F(x) = 1 - (x / x_{\min})^{1-\hat\alpha},

    with :math:`S(x_j)` the fraction of tail values strictly below :math:`x_j` (``powerlaw``'s
    empirical CDF; it differs from the two-sided supremum by at most :math:`1/n_c`).

    Parameters
    ----------
    x_sorted : ndarray
        Positive float64 values sorted ascending.
    starts : ndarray of int
        Candidate indices into ``x_sorted``; each must be the first occurrence of its value.

    Returns
    -------
    alphas, distances : ndarray
        One entry per candidate; ``inf`` distance for a degenerate tail (all values tied).

    References
    ----------
    .. [1] Clauset, Shalizi, Newman (2009), eq. (3.1) and Sec. 3.3.
    .. [4] Alstott, Bullmore, Plenz (2014), ``powerlaw`` 2.0.0 ``Distribution.compute_distance_metrics``.
    """
    n = x_sorted.size
    logx = np.log(x_sorted)
    tail_log_sum = np.cumsum(logx[::-1])[::-1]  # sum_{j >= i} ln x_j
    left = np.searchsorted(x_sorted, x_sorted, side="left").astype(np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    n_c = (n - starts).astype(np.float64)
    if starts.size == 0:
        return np.empty(0), np.empty(0)
    alphas = _candidate_alphas(logx, tail_log_sum, 0, starts, n_c)
    distances = np.full(starts.size, np.inf)
    ok = np.isfinite(alphas)
    # Blocks of candidates whose tails lie within a factor 2 of each other, each block only over
    # the columns of its largest tail: work ~ sum of tail sizes, not candidates x n.
    octave = np.floor(np.log2(n_c)).astype(np.int64)
    for oc in np.unique(octave):
        members = np.flatnonzero((octave == oc) & ok)
        if members.size == 0:
            continue
        first = int(starts[members].min())
        step = max(1, _CHUNK_ELEMENTS // (n - first))
        for lo in range(0, members.size, step):
            idx = members[lo : lo + step]
            st = starts[idx]
            inside = np.arange(first, n)[None, :] >= st[:, None]  # x_j >= x_min (st: first occurrence)
            model, empirical = _ks_cdfs(
                logx[None, first:] - logx[st][:, None],
                alphas[idx][:, None],
                left[None, first:] - st[:, None],
                n_c[idx][:, None],
            )
            distances[idx] = np.where(inside, np.abs(model - empirical), 0.0).max(axis=1)
    return alphas, distances


def _tail_sizes(n: int, min_tail: int, max_candidates: int | None) -> np.ndarray:
    """Tail sizes of the x_min candidates: every k >= min_tail, or max_candidates of them log-spaced."""
    if max_candidates is None or n - min_tail + 1 <= max_candidates:
        return np.arange(min_tail, n + 1)
    return np.unique(np.rint(np.geomspace(min_tail, n, max_candidates)).astype(np.int64))


def _candidate_starts(x_sorted: np.ndarray, min_tail: int, max_candidates: int | None) -> np.ndarray:
    """Indices of the candidate x_min: tail sizes >= min_tail, log-spaced, first occurrences only."""
    n = x_sorted.size
    tail_sizes = _tail_sizes(n, min_tail, max_candidates)
    starts = np.searchsorted(x_sorted, x_sorted[n - tail_sizes], side="left")  # first occurrence
    starts = np.unique(starts)
    # a candidate whose tail is a single repeated value cannot be fitted
    return starts[x_sorted[starts] < x_sorted[-1]]


def _best_xmin(
    x_sorted: np.ndarray, min_tail: int, max_candidates: int | None
) -> tuple[int, float, float, int]:
    """CSN x_min (Sec. 3.3 of [1]): KS-minimising candidate. Returns (start, alpha, D, n_candidates)."""
    starts = _candidate_starts(x_sorted, min_tail, max_candidates)
    if starts.size == 0:
        return -1, math.nan, math.nan, 0
    alphas, distances = ks_scan(x_sorted, starts)
    best = int(np.argmin(distances))  # ties: the smallest x_min (largest tail), like powerlaw
    return int(starts[best]), float(alphas[best]), float(distances[best]), int(starts.size)


_SAMPLES = 8  # points per candidate tail at the first refinement level (x4 per level)
_CERTAIN = 1e-9  # margin on the interval bound (covers rounding of the monotone F and S)


def _min_distance_below(
    synthetic: np.ndarray, tail_sizes: np.ndarray, distance: float, first_tail: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""For each sorted row of ``synthetic``: is :math:`\min_c D_c` over its x_min candidates (the
    search of :func:`_best_xmin`) below ``distance``? Returns ``(below, has_candidate)``.

    Decided without computing every :math:`D_c`: on :math:`m` points :math:`j_1 < \dots < j_m` of a
    candidate's tail (first and last included) the largest :math:`|F - S|` is a lower bound of
    :math:`D_c`, computed with exactly the operations of :func:`ks_scan` (so :math:`D_c \ge` it is
    decided as the full scan would), and, since :math:`F` and :math:`S` are non-decreasing,

    .. math::

        D_c \le \max_k \max\big(F(x_{j_{k+1}}) - S(x_{j_k}),\ S(x_{j_{k+1}}) - F(x_{j_k})\big)

    is an upper bound. A row is decided once one candidate has :math:`D_c` (or the upper bound, by
    more than ``_CERTAIN``) below ``distance``, or every candidate has the lower bound at or above it.
    After the first level the candidate with the smallest lower bound of each open row is evaluated
    on its whole tail (it usually decides the row); the others are refined with 4 times as many
    points per level and evaluated on every point once :math:`m \ge n_c`.

    ``first_tail``: before that, the candidate whose tail size is nearest to it is evaluated on its
    whole tail in every row. The bootstrap passes the observed fit's tail size: a set drawn from the
    fitted model usually fits about as well there as anywhere, so when the observed distance is large
    (a spectrum far from a power law, p near 0) this one evaluation per row decides every row.
    Either way the answer is the exact one; only the order of the work changes.
    """
    b, n = synthetic.shape
    log_rows = np.log(synthetic)
    logx = log_rows.ravel()
    new_run = np.ones((b, n), dtype=bool)  # row starts are new runs: no leak across rows
    new_run[:, 1:] = synthetic[:, 1:] != synthetic[:, :-1]
    flat = np.arange(b * n)
    left2 = (np.maximum.accumulate(np.where(new_run.ravel(), flat, 0)) - flat // n * n).reshape(b, n)
    left = left2.astype(np.float64).ravel()  # first occurrence of each value in its row
    tail_log_sum = np.cumsum(log_rows[:, ::-1], axis=1)[:, ::-1].ravel()
    starts2 = left2[:, n - tail_sizes]
    valid = np.take_along_axis(synthetic, starts2, axis=1) < synthetic[:, -1:]
    has_candidate = valid.any(axis=1)
    row, cand = np.nonzero(valid)
    base = row * n
    starts = starts2[row, cand]
    n_c = (n - starts).astype(np.float64)
    alphas = _candidate_alphas(logx, tail_log_sum, base, starts, n_c)
    below = np.zeros(b, dtype=bool)
    open_row = has_candidate.copy()
    alive = np.isfinite(alphas)  # a tail of one repeated value has D = inf
    lower = np.zeros(row.size)

    def settle(idx: np.ndarray, low: np.ndarray, up: np.ndarray) -> None:
        hit = row[idx[up < distance]]  # exact: D_c < distance; sampled: bound < distance - margin
        below[hit] = True
        open_row[hit] = False
        alive[idx[low >= distance]] = False
        lower[idx] = low
        still = np.zeros(b, dtype=bool)
        still[row[alive]] = True
        open_row[:] &= still  # no candidate left that could be below: D_min >= distance

    if first_tail is not None:
        pick = np.flatnonzero(alive & (cand == int(np.argmin(np.abs(tail_sizes - first_tail)))))
        if pick.size:
            d = _ks_full(logx, left, base[pick], starts[pick], n_c[pick], alphas[pick])
            settle(pick, d, d)

    m = _SAMPLES
    level = 0
    while True:
        alive &= open_row[row]
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        if level == 1:  # the most promising candidate of each open row, on its whole tail
            order = idx[np.lexsort((lower[idx], row[idx]))]
            first = order[np.r_[True, row[order][1:] != row[order][:-1]]]
            d = _ks_full(logx, left, base[first], starts[first], n_c[first], alphas[first])
            settle(first, d, d)
            level += 1
            continue
        exact = n_c[idx] <= m
        low = np.empty(idx.size)
        up = np.empty(idx.size)
        e = idx[exact]
        if e.size:
            low[exact] = up[exact] = _ks_full(logx, left, base[e], starts[e], n_c[e], alphas[e])
        s = idx[~exact]
        low_s, up_s = np.empty(s.size), np.empty(s.size)
        fraction = np.linspace(0.0, 1.0, m)[:, None]
        block = max(1, _CHUNK_ELEMENTS // m)
        for lo in range(0, s.size, block):  # (m, pairs): first and last point of each tail, m - 2 between
            k = s[lo : lo + block]
            offset = np.rint(fraction * (n_c[k] - 1.0)).astype(np.int64)
            model, empirical = _ks_terms(logx, left, base[k], starts[k], n_c[k], alphas[k], offset)
            low_s[lo : lo + block] = np.abs(model - empirical).max(axis=0)
            window = np.maximum(model[1:] - empirical[:-1], empirical[1:] - model[:-1])
            up_s[lo : lo + block] = window.max(axis=0) + _CERTAIN
        low[~exact], up[~exact] = low_s, up_s
        settle(idx, low, up)
        m *= 4
        level += 1
    return below, has_candidate


def _gof_decided(gof_p: float, gof_p_se: float, level: float) -> bool:
    r"""Is the bootstrap p-value on a known side of ``level``: :math:`|p - \text{level}| > 2\,SE`?

    :math:`SE = \sqrt{p(1-p)/B}` is the Monte-Carlo standard error of a p-value from :math:`B`
    replicates; 0 (p of 0 or 1, or no error given) decides by the plain comparison. NaN: no p-value.
    """
    if math.isnan(gof_p):
        return False
    return gof_p_se == 0.0 or abs(gof_p - level) > 2.0 * gof_p_se


def _p_value_se(exceed: int, used: int) -> tuple[float, float]:
    """Fraction ``exceed / used`` and its binomial standard error ``sqrt(p (1 - p) / used)``."""
    if used == 0:
        return math.nan, math.nan
    p = exceed / used
    return p, math.sqrt(p * (1.0 - p) / used)


def _bootstrap_gof(
    x_sorted: np.ndarray,
    start: int,
    alpha: float,
    distance: float,
    n_bootstrap: int,
    rng: np.random.Generator,
    min_tail: int,
    max_candidates: int | None,
    *,
    max_bootstrap: int | None = None,
    level: float = 0.1,
) -> tuple[float, float, int]:
    r"""Semi-parametric bootstrap p-value of the power-law fit, Sec. 4.1 of [1], drawn until decided.

    Each synthetic set has ``n`` values: with probability :math:`n_{tail}/n` a draw from the fitted
    power law above :math:`x_{\min}` (inverse CDF :math:`x_{\min}(1-u)^{-1/(\alpha-1)}`), otherwise
    a value drawn uniformly from the observed values below :math:`x_{\min}`. Each is refitted with the
    same bounded :math:`x_{\min}` search; p is the fraction with :math:`D_{syn} \ge D_{obs}`.
    Replicates whose search finds no candidate are dropped (the returned count says how many were used).
    The draws come one replicate after the other from ``rng`` (binomial count, uniforms, indices);
    the refits of a batch of replicates are decided together by :func:`_min_distance_below`.

    **Rounds until decided** (so that a verdict near the level does not flip with the seed). Replicates come
    in rounds of ``n_bootstrap``. After each round, p and its Monte-Carlo standard error
    :math:`SE = \sqrt{p(1-p)/B}` are computed from all :math:`B` replicates used so far; drawing stops
    once :math:`|p - \text{level}| > 2\,SE` (:func:`_gof_decided`) or ``max_bootstrap`` replicates
    were drawn (default ``10 * n_bootstrap``; ``n_bootstrap`` draws exactly one round). A clear case
    stops after the first round with the draws and the p-value of a fixed-size bootstrap. Looking
    after every round is a sequential test: a p-value truly at the level is still declared decided
    when chance puts it more than 2 SE away (about 5 % at each look), but no longer whenever it lands
    on either side, as one fixed round of 50 did (one Student-t(2.5) 1000 x 500 matrix gave
    p = 0.10, 0.02, 0.02, 0.06 for bootstrap seeds 0-3 and two verdicts; with rounds 0.055, 0.02,
    0.02, 0.05 after 200, 50, 50, 100 sets and one verdict, as the tests check).

    Returns ``(p, se, used)``.
    """
    n = x_sorted.size
    x_min = x_sorted[start]
    body = x_sorted[:start]
    p_tail = (n - start) / n
    tail_sizes = _tail_sizes(n, min_tail, max_candidates)
    cap = 10 * n_bootstrap if max_bootstrap is None else max(max_bootstrap, n_bootstrap)
    batch = max(1, _CHUNK_ELEMENTS // (8 * n))
    exceed = 0
    used = 0
    done = 0
    while True:
        round_end = min(done + n_bootstrap, cap)
        while done < round_end:
            rows = min(batch, round_end - done)
            synthetic = np.empty((rows, n))
            for r in range(rows):
                n_tail = int(rng.binomial(n, p_tail)) if body.size else n
                u = rng.random(n_tail)
                synthetic[r, n - n_tail :] = x_min * np.exp(-np.log1p(-u) / (alpha - 1.0))  # Sec. 4.1 of [1]
                if body.size:
                    synthetic[r, : n - n_tail] = body[rng.integers(0, body.size, n - n_tail)]
            synthetic.sort(axis=1)
            below, has_candidate = _min_distance_below(synthetic, tail_sizes, distance, first_tail=n - start)
            used += int(has_candidate.sum())
            exceed += int((has_candidate & ~below).sum())
            done += rows
        p, se = _p_value_se(exceed, used)
        if done >= cap or used == 0 or _gof_decided(p, se, level):
            return p, se, used


# --------------------------------------------------------------------------------------------------
# Hill


def hill_estimator(x: npt.ArrayLike, k: int | None = None) -> float:
    r"""Hill estimate of the density exponent :math:`\alpha` from the ``k`` largest values, [5]_.

    With :math:`x_{(1)} \ge x_{(2)} \ge \dots` the values sorted descending, Hill's estimator of the
    tail index :math:`\xi = 1/(\alpha - 1)` of :math:`P(X > x) \propto x^{-1/\xi}` is

    .. math::

        \hat\xi_k = \frac1k \sum_{i=1}^{k} \ln\frac{x_{(i)}}{x_{(k+1)}}, \qquad
        \hat\alpha_{Hill} = 1 + 1/\hat\xi_k ,

    reported as a *density* exponent so that it compares with the CSN :math:`\alpha` (it is the
    CSN estimate, eq. (3.1) of [1]_, with :math:`x_{\min} = x_{(k+1)}` and the threshold point
    itself left out).

    Parameters
    ----------
    x : array_like
        Positive values (e.g. singular values), any order, float64 internally.
    k : int, optional
        Number of upper order statistics, ``1 <= k < len(x)``. Default
        :math:`k = \lfloor\sqrt n\rfloor`, a standard choice with :math:`k \to \infty`,
        :math:`k/n \to 0` that does not depend on any :math:`x_{\min}` search.

    Returns
    -------
    float
        :math:`\hat\alpha_{Hill}`; ``inf`` if the ``k + 1`` largest values are tied.

    References
    ----------
    .. [1] Clauset, Shalizi, Newman (2009), eq. (3.1).
    .. [5] B. M. Hill, Ann. Statist. 3, 1163 (1975), eq. (2.4).
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    if xa.size < 2:
        raise ValueError(f"hill_estimator needs at least 2 values, got {xa.size}")
    if not np.all(np.isfinite(xa)) or np.any(xa <= 0):
        raise ValueError("hill_estimator needs positive finite values")
    if k is None:
        k = math.isqrt(xa.size)
    k = check_int("k", k, 1)
    if k >= xa.size:
        raise ValueError(f"k must be smaller than the number of values {xa.size}, got k={k}")
    top = np.sort(xa)[::-1][: k + 1]
    xi = float(np.mean(np.log(top[:k] / top[k])))  # eq. (2.4) of [5]
    return math.inf if xi == 0.0 else 1.0 + 1.0 / xi


# --------------------------------------------------------------------------------------------------
# likelihood-ratio tests: the alternatives as exponential families of u = ln(x / x_min)
#
# Each alternative's density of x above x_min is p(x) = exp(h(u)) / (x Z), u = ln(x / x_min) >= 0,
# with h(u) = c(u) - theta . T(u) concave in u and linear in theta:
#   log-normal          theta = (beta, eps),  T = (u, u^2),         c = 0
#   truncated power law theta = (alpha, z),   T = (u, e^u - 1),     c = u     (z = lambda x_min)
# so ln Z(theta) is convex, grad ln Z = -E[T], Hessian = Cov[T]: the mean log-likelihood
# l(theta) = mean(c(u)) - theta . mean(T) - ln Z - mean(ln x) is concave and depends on the data
# only through mean(T). Z and the moments of T come from one Gauss-Legendre rule on panels between
# the level sets h = h_max - level (the integrand below the last level is < e^-50 of its maximum).

_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)  # 12 nodes per panel: exact to degree 23
_GL_LOGW = np.log(_GL_W)
_LEVELS = np.array([0.5, 2.0, 5.0, 10.0, 17.0, 26.0, 37.0, 50.0])  # h_max - h at the panel ends
_MAX_PANEL = 4.0  # longest panel where e^u matters: e^{2t} on [-1, 1] to 1e-16 with 12 nodes
_NEWTON_STEPS = 4  # level-set points are panel ends only: any point beyond the level is correct


def _log_normal_levels(beta: float, eps: float) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Mode and level-set distances of :math:`h(u) = -\beta u - \varepsilon u^2` on :math:`u \ge 0`.

    Returns ``(u_mode, right, left)``: :math:`h(u_{mode} + r_k) = h(u_{mode} - l_k) = h_{max} -
    \Delta_k` (``left`` clipped at :math:`u = 0`); the roots of a quadratic, in the cancellation-free
    form for the mode at 0.
    """
    if eps > 0.0 and beta < 0.0:
        u_mode = -beta / (2.0 * eps)
        right = np.sqrt(_LEVELS / eps)
        return u_mode, right, np.minimum(right, u_mode)
    right = 2.0 * _LEVELS / (beta + np.sqrt(beta * beta + 4.0 * eps * _LEVELS))
    return 0.0, right, np.zeros_like(right)


def _truncated_power_law_levels(alpha: float, z: float) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Mode and level-set distances of :math:`h(u) = (1-\alpha) u - z(e^u - 1)` on :math:`u \ge 0`.

    With :math:`b = 1 - \alpha`, the mode is :math:`\ln(b/z)` if :math:`b > z`, else 0. Newton's
    method for :math:`h = h_{max} - \Delta` converges monotonically from the outer side of a concave
    function, started at an explicit outer bound. Right of an interior mode
    :math:`h(u_{mode} + v) - h_{max} = -b(e^v - 1 - v) \le -b v^2/2`, and :math:`\le -b e^v/2` for
    :math:`v \ge 1.7`; left of it :math:`\le b(1 + v)`. With the mode at 0,
    :math:`h(v) \le -(z - b) v,\ -z v^2/2`, and :math:`\le -z e^v/2` for :math:`v \ge 1.7`.
    """
    b = 1.0 - alpha
    levels = _LEVELS
    if z > 0.0 and b > z:
        u_mode = math.log(b / z)
        h_max = b * u_mode - (b - z)  # z e^{u_mode} = b
        right = np.minimum(np.sqrt(2.0 * levels / b), np.maximum(1.7, np.log(2.0 * levels / b)))
        reach = h_max - levels >= 0.0  # = h(0): the level is reached before u = 0
        left = np.where(reach, np.minimum(1.0 + levels / b, u_mode), u_mode)
    else:
        u_mode, h_max = 0.0, 0.0
        right = np.full_like(levels, np.inf)
        if z > b:
            right = levels / (z - b)
        if z > 0.0:
            right = np.minimum(right, np.sqrt(2.0 * levels / z))
            right = np.minimum(right, np.maximum(1.7, np.log(2.0 * levels / z)))
        reach = np.zeros(levels.size, dtype=bool)
        left = np.zeros_like(levels)
    if z > 0.0:  # Newton from the outer side, right and left together (z = 0: h linear, exact)
        k = levels.size
        v = np.concatenate([right, -left]) if u_mode > 0.0 else right
        target = h_max - (np.concatenate([levels, levels]) if u_mode > 0.0 else levels)
        for _ in range(_NEWTON_STEPS):
            u = u_mode + v
            v = v - (b * u - z * np.expm1(u) - target) / (b - z * np.exp(u))
        right = v[:k]
        if u_mode > 0.0:
            left = np.where(reach, np.minimum(-v[k:], u_mode), left)
    return u_mode, right, left


def _quadrature_nodes(
    u_mode: float, right: np.ndarray, left: np.ndarray, fine_from: float = math.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and log-weights on the panels between the level-set points.

    Above ``fine_from`` panels are at most ``_MAX_PANEL`` long (where the truncated power law's
    :math:`z e^u` term is not negligible: its log varies by a factor e per unit of u).
    """
    ends = np.concatenate([(u_mode - left)[::-1], [u_mode], u_mode + right])
    if ends[-1] - max(fine_from, 0.0) > _MAX_PANEL:
        extra = ends[-1] - _MAX_PANEL * np.arange(1, 1 + int((ends[-1] - max(fine_from, 0.0)) // _MAX_PANEL))
        ends = np.sort(np.concatenate([ends, extra]))  # repeated ends: empty panels, dropped below
    lo, hi = ends[:-1], ends[1:]
    keep = hi > lo
    half = 0.5 * (hi[keep] - lo[keep])
    nodes = (0.5 * (hi[keep] + lo[keep]))[:, None] + half[:, None] * _GL_X
    log_w = np.log(half)[:, None] + _GL_LOGW
    return nodes.ravel(), log_w.ravel()


def _family_moments(family: str, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    r""":math:`\ln Z(\theta)`, :math:`E_\theta[T]` and :math:`\mathrm{Cov}_\theta[T]` by quadrature.

    .. math::

        Z(\theta) = \int_0^\infty e^{h(u)}\,du, \qquad
        \nabla_\theta \ln Z = -E_\theta[T], \qquad \nabla^2_\theta \ln Z = \mathrm{Cov}_\theta[T],

    the exponential-family identities (e.g. Sec. 3.4 of [6]_), with the composite Gauss–Legendre rule
    (eqs. 25.4.29–30 of [7]_) in log space.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # far-out iterates: inf/nan
        return _family_moments_raw(family, theta)


def _family_moments_raw(family: str, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """:func:`_family_moments` without the floating-point guard; ``inf`` ln Z if not computable."""
    if family == "lognormal":
        beta, eps = float(theta[0]), float(theta[1])
        u, log_w = _quadrature_nodes(*_log_normal_levels(beta, eps))
        t2 = u * u
        h = -beta * u - eps * t2
    else:
        alpha, z = float(theta[0]), float(theta[1])
        fine_from = math.log(1e-17 / z) if z > 0.0 else math.inf  # z e^u < 1e-17 below
        u, log_w = _quadrature_nodes(*_truncated_power_law_levels(alpha, z), fine_from)
        t2 = np.expm1(u)
        h = (1.0 - alpha) * u - z * t2
    psi = h + log_w
    top = psi.max() if psi.size else math.nan
    if not math.isfinite(top):
        return math.inf, np.full(2, math.nan), np.full((2, 2), math.nan)
    w = np.exp(psi - top)
    total = w.sum()
    w /= total
    m1, m2 = w @ u, w @ t2
    d1, d2 = u - m1, t2 - m2
    wd1, wd2 = w * d1, w * d2
    cov = np.array([[wd1 @ d1, wd1 @ d2], [wd1 @ d2, wd2 @ d2]])
    return top + math.log(total), np.array([m1, m2]), cov


def _maximise_family(
    family: str, mean_t: np.ndarray, n: int, theta: np.ndarray, lower: tuple[float, float]
) -> tuple[np.ndarray, float]:
    r"""Maximise the concave :math:`\ell(\theta) = -\theta\cdot\overline{T} - \ln Z(\theta)` over
    :math:`\theta_i \ge \text{lower}_i`: damped projected Newton (Sec. 9.5 of [8]_; active set as
    in [10]_).

    Newton direction :math:`d = \mathrm{Cov}_\theta[T]^{-1} g`, :math:`g = E_\theta[T] - \overline{T}`.
    A coordinate whose Newton step would cross its bound while :math:`g_i < 0` is *active*: it moves
    7/8 of its way to the bound and the other coordinate takes its own Newton step
    :math:`g_j / \mathrm{Var}_\theta[T_j]` (the full direction would stall there, its component
    along the free coordinate being set by the unreachable point beyond the bound). Every coordinate
    moves at most 7/8 of its way to its bound per step; steps are halved until :math:`\ell` increases
    by the Armijo fraction of :math:`g\cdot\text{step}`. Stops when the Newton decrement predicts a
    log-likelihood gap :math:`n\, g\cdot d / 2 < 10^{-12}`, after one last full step (the parameters
    then have about the square of that relative error). Returns :math:`(\hat\theta, \ln Z)`.
    """
    lo = np.array(lower)
    bounded = np.isfinite(lo)
    log_z, mean, cov = _family_moments(family, theta)
    f = -float(theta @ mean_t) - log_z
    for _ in range(200):
        g = mean - mean_t
        det = cov[0, 0] * cov[1, 1] - cov[0, 1] * cov[1, 0]
        if not (det > 0.0 and cov[0, 0] > 0.0):
            break
        d = np.array([cov[1, 1] * g[0] - cov[0, 1] * g[1], cov[0, 0] * g[1] - cov[1, 0] * g[0]]) / det
        room = np.where(bounded, theta - np.where(bounded, lo, 0.0), np.inf)
        if not n * float(g @ d) > 1e-12:
            # converged in the log-likelihood; one more full step squares the parameters' error
            # (the normalised ratio depends on them to first order); f changes only by rounding
            polished = theta + d
            if np.all(d > -room):
                p_log_z = _family_moments(family, polished)[0]
                if math.isfinite(p_log_z):
                    theta, log_z = polished, p_log_z
            break
        active = bounded & (d < -room) & (g < 0.0)
        if active.all():
            break  # both bounds binding: not the interior case this is called for
        if active.any():
            j = int(np.flatnonzero(~active)[0])
            d[j] = g[j] / cov[j, j]
        floor = -0.875 * room
        step_size = 1.0
        while step_size > 1e-12:
            step = np.maximum(step_size * d, floor)
            gain = float(g @ step)
            trial = theta + step
            t_log_z, t_mean, t_cov = _family_moments(family, trial)
            f_trial = -float(trial @ mean_t) - t_log_z
            if gain > 0.0 and f_trial >= f + 1e-4 * gain:
                break
            step_size *= 0.5
        else:
            break
        theta, f, log_z, mean, cov = trial, f_trial, t_log_z, t_mean, t_cov
    return theta, log_z


def _best_start(family: str, starts: list[np.ndarray], mean_t: np.ndarray) -> np.ndarray:
    """The starting point with the largest mean log-likelihood."""
    return max(starts, key=lambda th: -float(th @ mean_t) - _family_moments(family, th)[0])


def _fit_alternatives(x_sorted: np.ndarray, x_min: float) -> dict[str, Any]:
    r"""Maximum-likelihood fits above :math:`x_{\min}` of the power law and its three alternatives.

    With :math:`u_i = \ln(x_i/x_{\min})` for the :math:`n` values :math:`x_i \ge x_{\min}`
    (continuous densities, normalised on :math:`[x_{\min}, \infty)`, parameter ranges of ``powerlaw``
    [4]_ as set by rmtweights):

    * power law :math:`p(x) = \frac{\alpha-1}{x_{\min}}(x/x_{\min})^{-\alpha}`,
      :math:`\hat\alpha = 1 + n/\sum_i u_i` (eq. (3.1) of [1]_);
    * exponential :math:`p(x) = \lambda e^{-\lambda(x - x_{\min})}`,
      :math:`\hat\lambda = 1/(\bar x - x_{\min})` (Table 2.1 of [1]_; closed-form MLE);
    * log-normal truncated at :math:`x_{\min}`, :math:`p(x) \propto x^{-1}
      e^{-(\ln x - \mu)^2/2\sigma^2}` (Table 2.1 of [1]_), written as the exponential family
      :math:`p(x) \propto x^{-1} e^{-\beta u - \varepsilon u^2}` with
      :math:`\varepsilon = 1/(2\sigma^2) > 0`, :math:`\beta = (\ln x_{\min} - \mu)/\sigma^2`;
    * truncated power law :math:`p(x) = \frac{\lambda^{1-\alpha}}{\Gamma(1-\alpha, \lambda x_{\min})}
      x^{-\alpha} e^{-\lambda x}` (Table 2.1 of [1]_), :math:`\alpha \ge 0`, :math:`\lambda \ge 0`,
      in :math:`z = \lambda x_{\min}`: :math:`p(x) \propto x^{-1} e^{(1-\alpha)u - z(e^u - 1)}`.

    Both two-parameter families are concave in their natural parameters and contain the power law
    on their boundary (:math:`\varepsilon \to 0`: log-normal with :math:`\mu \to -\infty`,
    :math:`\sigma \to \infty`; :math:`z = 0`), the truncated power law also the exponential
    (:math:`\alpha = 0`). A boundary point is the maximum iff the derivative into the domain is
    :math:`\le 0` there (Karush–Kuhn–Tucker for a concave function), in closed form for the power-law
    boundary: :math:`E_{PL}[u^2] = 2/(\hat\alpha - 1)^2 \le \overline{u^2}` (log-normal) and
    :math:`E_{PL}[x/x_{\min}] = (\hat\alpha-1)/(\hat\alpha-2) \le \overline{x/x_{\min}}`
    (truncated power law, :math:`\hat\alpha > 2`). Otherwise the interior maximum is found by
    :func:`_maximise_family`, started at the better of the boundary optimum and ``powerlaw``'s
    starting point (moments of :math:`\ln x`; :math:`\alpha = \hat\alpha`, :math:`\lambda = 1/\bar x`).

    Returns a dict with the fitted parameters (``alpha``, ``lambda``, ``mu``, ``sigma``,
    ``tpl_alpha``, ``tpl_lambda``; ``mu``/``sigma`` are -inf/inf on the power-law boundary), flags
    ``lognormal_is_power_law``, ``tpl_is_power_law``, ``tpl_is_exponential``, and the per-value
    log-likelihoods ``ll_<name>`` (natural log of the density at each tail value, ascending order).
    """
    tail = x_sorted[x_sorted >= x_min]
    n = tail.size
    u = np.log(tail / x_min)
    t1 = np.expm1(u)  # x / x_min - 1
    log_x = np.log(tail)
    mean_u, mean_u2, mean_t1 = float(u.mean()), float((u * u).mean()), float(t1.mean())
    alpha = 1.0 + 1.0 / mean_u  # eq. (3.1) of [1]
    beta_pl = alpha - 1.0
    z_exp = 1.0 / mean_t1  # lambda x_min, lambda = 1 / (mean(x) - x_min)
    out: dict[str, Any] = {"n": n, "alpha": alpha, "lambda": z_exp / x_min}
    out["ll_power_law"] = math.log(beta_pl) - log_x + (1.0 - alpha) * u  # ln[(a-1)/x_min (x/x_min)^-a]
    out["ll_exponential"] = math.log(z_exp / x_min) - z_exp * t1  # ln[lambda e^{-lambda (x - x_min)}]

    # log-normal: power-law boundary (eps = 0, beta = alpha - 1) or interior
    eps = 0.0
    if 2.0 / beta_pl**2 > mean_u2 * (1.0 + 1e-12):  # KKT at the boundary fails: E_PL[u^2] > mean(u^2)
        mean_t = np.array([mean_u, mean_u2])
        var_u = float(u.var())
        starts = [np.array([beta_pl, 0.0])]  # the power law
        if var_u > 0.0:  # powerlaw's start: mu = mean(ln x), sigma = std(ln x)
            starts.append(np.array([-mean_u / var_u, 0.5 / var_u]))
        theta0 = _best_start("lognormal", starts, mean_t)
        theta, log_z = _maximise_family("lognormal", mean_t, n, theta0, (-math.inf, 0.0))
        beta, eps = float(theta[0]), float(theta[1])
    if eps > 0.0:
        sigma = math.sqrt(0.5 / eps)
        out.update(mu=math.log(x_min) - beta * sigma**2, sigma=sigma, lognormal_is_power_law=False)
        out["ll_lognormal"] = -log_x - beta * u - eps * u * u - log_z
    else:  # the power law (sigma -> inf, mu -> -inf) is the maximum
        out.update(mu=-math.inf, sigma=math.inf, lognormal_is_power_law=True)
        out["ll_lognormal"] = out["ll_power_law"]

    # truncated power law: power-law boundary (z = 0), exponential boundary (alpha = 0) or interior
    out.update(tpl_is_power_law=False, tpl_is_exponential=False)
    mean_t = np.array([mean_u, mean_t1])
    a_t, z_t = alpha, 0.0
    if not (alpha > 2.0 and (alpha - 1.0) / (alpha - 2.0) <= (1.0 + mean_t1) * (1.0 + 1e-12)):
        # KKT at z = 0 (E_PL[x/x_min] <= mean(x/x_min)) fails; try alpha = 0, where
        # d l / d alpha = E[u] - mean(u) <= 0 makes the exponential the maximum
        exp_point = np.array([0.0, z_exp])
        a_t, z_t = 0.0, z_exp
        if _family_moments("truncated_power_law", exp_point)[1][0] > mean_u * (1.0 + 1e-12):
            # powerlaw's start (lambda = 1 / mean(x)) and the exponential
            starts = [np.array([alpha, 1.0 / (1.0 + mean_t1)]), exp_point]
            theta0 = _best_start("truncated_power_law", starts, mean_t)
            theta, log_z = _maximise_family("truncated_power_law", mean_t, n, theta0, (0.0, 0.0))
            a_t, z_t = float(theta[0]), float(theta[1])
    if z_t <= 0.0:  # the power law is the maximum
        out.update(tpl_alpha=alpha, tpl_lambda=0.0, tpl_is_power_law=True)
        out["ll_truncated_power_law"] = out["ll_power_law"]
    elif a_t <= 0.0:  # the exponential is the maximum
        out.update(tpl_alpha=0.0, tpl_lambda=out["lambda"], tpl_is_exponential=True)
        out["ll_truncated_power_law"] = out["ll_exponential"]
    else:
        out.update(tpl_alpha=a_t, tpl_lambda=z_t / x_min)
        out["ll_truncated_power_law"] = -log_x + (1.0 - a_t) * u - z_t * t1 - log_z
    return out


def _vuong(ll_1: np.ndarray, ll_2: np.ndarray, nested: bool) -> tuple[float, float]:
    r"""Normalised log-likelihood ratio and the p-value of its sign, as ``powerlaw`` 2.0.0 [4]_.

    With :math:`\ell_i = \ln p_1(x_i) - \ln p_2(x_i)`, :math:`R = \sum_i \ell_i` and
    :math:`\hat s^2 = \frac1n \sum_i (\ell_i - \bar\ell)^2` (Sec. 5.1 and App. C of [1]_, Vuong's
    test [9]_), the statistic is :math:`R / (\sqrt n\,\hat s)` and

    .. math::

        p = \operatorname{erfc}\!\Big(\frac{|R|}{\sqrt{2n}\,\hat s}\Big) \quad\text{(non-nested)},
        \qquad p = P(\chi^2_1 > 2|R|) = \operatorname{erfc}\sqrt{|R|} \quad\text{(nested)} .
    """
    from scipy.special import erfc  # local: keeps `import rmtweights.rmt.heavytail` light

    diff = ll_1 - ll_2
    r = float(diff.sum())
    spread = math.sqrt(float(np.sum((diff - diff.mean()) ** 2)))  # sqrt(n) * s
    if not spread > 0.0:
        return 0.0, 1.0
    if nested:
        p = float(erfc(math.sqrt(abs(r))))  # chi-squared, 1 degree of freedom: Sec. 5.1 of [1]
    else:
        p = float(erfc(abs(r) / (math.sqrt(2.0) * spread)))  # App. C of [1], [9]
    return r / spread, p


def _likelihood_ratios(x_sorted: np.ndarray, x_min: float) -> dict[str, tuple[float, float]]:
    r"""Normalised LR tests of the power law against each alternative at fixed :math:`x_{\min}`.

    Same statistics and p-values as ``powerlaw`` 2.0.0's ``Fit.distribution_compare(...,
    normalized_ratio=True)`` [4]_ with the power-law exponent range :math:`(1, \infty)` and the
    truncated power law's :math:`(0, \infty)`; the power law vs truncated power law comparison is
    nested (chi-squared p-value, Sec. 5.1 of [1]_). The fits are exact maxima
    (:func:`_fit_alternatives`), so the numbers differ from ``powerlaw``'s by its Nelder–Mead
    tolerance. Where the alternative's maximum-likelihood fit *is* the power law (boundary of its
    family), the two models coincide: ``(0.0, 1.0)``. ``powerlaw`` reports the ratio wherever its
    optimiser stopped near that boundary: for the truncated power law a small :math:`|R|` with
    :math:`p` near 1, for the log-normal sometimes a spurious preference for the log-normal (its
    density underflows to subnormal numbers at :math:`\mu \ll \ln x_{\min}`).
    """
    fit = _fit_alternatives(x_sorted, x_min)
    ll_pl = fit["ll_power_law"]
    boundary = {"exponential": False, "lognormal": fit["lognormal_is_power_law"],
                "truncated_power_law": fit["tpl_is_power_law"]}
    return {
        name: (0.0, 1.0) if boundary[name] else _vuong(ll_pl, fit[f"ll_{name}"], name == "truncated_power_law")
        for name in ALTERNATIVES
    }


def _verdict(
    gof_p: float, lr: dict[str, tuple[float, float]], gof_level: float, lr_level: float, gof_p_se: float = 0.0
) -> str:
    """Decision rule of :func:`fit_heavy_tail` (documented there); the one place verdicts are made.

    The goodness of fit counts only where it is decided (:func:`_gof_decided`: ``gof_p`` more than two
    standard errors ``gof_p_se`` from ``gof_level``; ``gof_p_se = 0`` compares plainly).
    """

    def better(name: str) -> bool:  # the alternative fits significantly better
        r, p = lr[name]
        return r < 0 and p < lr_level

    decided = _gof_decided(gof_p, gof_p_se, gof_level)
    r_exp, p_exp = lr["exponential"]
    if (decided and gof_p < gof_level) or better("exponential"):
        return "not_heavy_tailed"
    if (
        decided
        and gof_p >= gof_level
        and r_exp > 0
        and p_exp < lr_level
        and not better("lognormal")
        and not better("truncated_power_law")
    ):
        return "heavy_tailed"
    return "inconclusive"


# --------------------------------------------------------------------------------------------------
# the row


_NAN_FIELDS = (
    "x_min",
    "x_max",
    "alpha_sv",
    "alpha_eig",
    "alpha_sv_se",
    "ks_distance",
    "gof_p",
    "gof_p_se",
    *[f"{kind}_{alt}" for alt in ALTERNATIVES for kind in ("lr", "lr_p")],
    "hill_alpha_sv",
)


def fit_heavy_tail(
    sv: Any,
    *,
    n_bootstrap: int = 50,
    seed: int = 0,
    max_bootstrap: int | None = None,
    max_xmin_candidates: int | None = 200,
    min_tail: int = 10,
    hill_k: int | None = None,
    gof_level: float = 0.1,
    lr_level: float = 0.1,
    compare: bool = True,
) -> dict[str, Any]:
    r"""Clauset–Shalizi–Newman power-law test of a singular-value spectrum; one tidy row.

    **Model.** The singular values above :math:`x_{\min}` follow
    :math:`p(x) = \frac{\alpha - 1}{x_{\min}} (x/x_{\min})^{-\alpha}` (eq. (2.2) of [1]_; the test of
    Sec. 4 of paper 000 and of [2]_). :math:`\hat\alpha` is the MLE, eq. (3.1) of [1]_.

    **x_min** minimises the KS distance (Sec. 3.3 of [1]_, distance as in :func:`ks_scan`) over
    at most ``max_xmin_candidates`` candidates: the empirical quantiles leaving
    :math:`k` values in the tail, :math:`k` on a logarithmic grid from ``min_tail`` to :math:`n`
    (every :math:`k` when there are fewer; ``None`` = every value, the exact CSN search).

    **Eigenvalue exponent.** If the singular values have density :math:`\propto s^{-\alpha_{sv}}`,
    the eigenvalues :math:`\lambda = s^2` of :math:`W^\top W` have density
    :math:`p_\lambda(\lambda) = p_s(\sqrt\lambda)\,\frac{1}{2\sqrt\lambda}
    \propto \lambda^{-\alpha_{sv}/2 - 1/2}`, so

    .. math::

        \alpha_{eig} = \frac{\alpha_{sv} + 1}{2}, \qquad \alpha_{sv} = 2\alpha_{eig} - 1 .

    The relation holds exactly for the estimates too: the KS distance is invariant under
    :math:`s \mapsto s^2`, so the same tail is chosen, and eq. (3.1) on :math:`s^2` gives
    :math:`1 + (\hat\alpha_{sv} - 1)/2`.

    **Goodness of fit** ``gof_p``: semi-parametric bootstrap of Sec. 4.1 of [1]_ with
    ``n_bootstrap`` synthetic sets (seeded by ``seed``; the power-law part drawn by inverse CDF,
    the part below :math:`x_{\min}` resampled from the data), each refitted with the same bounded
    :math:`x_{\min}` search; p = fraction of synthetic KS distances :math:`\ge` the observed one,
    ``gof_p_se`` :math:`= \sqrt{p(1-p)/B}` its Monte-Carlo standard error. While p lies within
    2 SE of ``gof_level`` another ``n_bootstrap`` sets are drawn, up to ``max_bootstrap`` in all
    (:func:`_bootstrap_gof`); ``n_bootstrap`` (the column) says how many were used. [1]_ recommend
    ~2500 sets for two-digit accuracy; the rounds spend them only where the verdict needs them.
    The replicates use the closed-form MLE and the KS distance of :func:`ks_scan` (identical to
    ``powerlaw``'s numbers for the observed data, checked in the tests); whether a replicate's
    smallest distance reaches the observed one is decided from lower and upper bounds on the
    candidates' distances (:func:`_min_distance_below`), with the result of the full search.

    **Likelihood ratios** (Sec. 5 of [1]_, at the fitted :math:`x_{\min}`; the statistics of
    ``powerlaw``'s ``distribution_compare`` with ``normalized_ratio=True``, from exact maximum-likelihood
    fits, :func:`_fit_alternatives`): ``lr_<alt>`` > 0 favours the power law, < 0 the alternative;
    ``lr_p_<alt>`` is the p-value of its sign. The truncated power law nests the power law
    (chi-squared p-value, ``lr`` ≤ 0). Where the alternative's best fit is the power law itself
    (log-normal with :math:`\sigma \to \infty`, truncated power law with :math:`\lambda = 0`),
    ``lr = 0`` and ``lr_p = 1``.

    **Verdict** (``gof_level`` = ``lr_level`` = 0.1, the thresholds of [1]_):

    * ``not_heavy_tailed`` if the power law is rejected (``gof_p < gof_level``, by more than
      ``2 gof_p_se`` unless that is 0) or the exponential fits significantly better
      (``lr_exponential < 0`` and ``lr_p_exponential < lr_level``);
    * ``heavy_tailed`` if the power law is plausible (``gof_p >= gof_level``, by more than
      ``2 gof_p_se`` unless that is 0), fits significantly
      better than the exponential (``lr_exponential > 0`` and ``lr_p_exponential < lr_level``) and
      neither the log-normal nor the truncated power law fits significantly better
      (not ``lr < 0`` with ``lr_p < lr_level``);
    * ``inconclusive`` otherwise: e.g. a power law that cannot be told from an exponential (a few
      top values of a Marchenko–Pastur spectrum), a tail better described by a log-normal or a
      cut-off power law, a ``gof_p`` still within ``2 gof_p_se`` of ``gof_level`` after
      ``max_bootstrap`` sets, no bootstrap (``n_bootstrap=0``: ``gof_p`` is NaN and the verdict is
      never ``heavy_tailed``), ``compare=False``, or a skipped row.

    Parameters
    ----------
    sv : array_like or object with ``gammas``
        Singular values (raw or divided by :math:`\sqrt n`), any order, any float dtype; an object
        with a ``gammas`` attribute (e.g. :class:`rmtweights.analyze.MatrixAnalysis`) is accepted.
        Zeros (rank deficiency) are dropped and counted in ``n_dropped``; NaN/Inf give a skipped row.
    n_bootstrap : int
        Bootstrap sets per round for ``gof_p`` (0 disables it). 50 by default (p to ±0.07); 1000 in
        a paper study.
    seed : int
        Seed of the bootstrap's ``numpy.random.Generator``; same seed, same row.
    max_bootstrap : int, optional
        Most bootstrap sets drawn while ``gof_p`` is within 2 standard errors of ``gof_level``
        (>= ``n_bootstrap``; default ``10 * n_bootstrap``; ``n_bootstrap`` draws exactly one round).
    max_xmin_candidates : int or None
        Upper bound on the number of :math:`x_{\min}` candidates (>= 2); ``None`` tries them all.
    min_tail : int
        Smallest tail (values :math:`\ge x_{\min}`) a candidate may leave, >= 2. Spectra with fewer
        positive values are skipped.
    hill_k : int, optional
        ``k`` of :func:`hill_estimator` (default :math:`\lfloor\sqrt n\rfloor`; NaN if >= n).
    gof_level, lr_level : float
        Significance levels of the verdict.
    compare : bool
        Run the likelihood-ratio tests.

    Returns
    -------
    dict
        One row: ``status`` ("ok" | "skipped"), ``reason`` ("" when ok), ``n_values`` (positive
        values used), ``n_dropped`` (zeros), ``x_min``, ``x_max`` (largest value), ``n_tail``,
        ``alpha_sv``, ``alpha_eig``, ``alpha_sv_se`` (:math:`(\hat\alpha-1)/\sqrt{n_{tail}}`),
        ``ks_distance``, ``gof_p``, ``gof_p_se``, ``n_bootstrap`` (replicates used), ``seed``,
        ``n_xmin_candidates``, ``min_tail``, ``lr_exponential``, ``lr_p_exponential``,
        ``lr_lognormal``, ``lr_p_lognormal``, ``lr_truncated_power_law``,
        ``lr_p_truncated_power_law``, ``hill_alpha_sv``, ``hill_k``, ``verdict``. Numbers that
        could not be computed are NaN (integers: -1 for ``n_tail``/``hill_k``).

    Raises
    ------
    ValueError
        A negative value in ``sv`` or an invalid argument (named in the message).

    References
    ----------
    .. [1] Clauset, Shalizi, Newman (2009), eqs. (2.2), (3.1), (3.2), Secs. 3.3, 4.1, 5.
    .. [2] Thamm, Staats, Rosenow (2024), paper 001; cited in Sec. 4 of paper 000.
    """
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 0)
    seed = check_int("seed", seed, 0)
    if max_bootstrap is not None:
        max_bootstrap = check_int("max_bootstrap", max_bootstrap, n_bootstrap)
    min_tail = check_int("min_tail", min_tail, 2)
    if max_xmin_candidates is not None:
        max_xmin_candidates = check_int("max_xmin_candidates", max_xmin_candidates, 2)
    if hill_k is not None:
        hill_k = check_int("hill_k", hill_k, 1)
    gof_level = check_open_unit("gof_level", gof_level)
    lr_level = check_open_unit("lr_level", lr_level)

    x = _as_values(sv)
    finite = np.isfinite(x)
    if np.any(x[finite] < 0):
        raise ValueError(f"singular values must be >= 0, got min(sv)={x[finite].min()!r}")
    row: dict[str, Any] = {
        "status": "ok",
        "reason": "",
        "n_values": 0,
        "n_dropped": 0,
        **{f: math.nan for f in _NAN_FIELDS},
        "n_tail": -1,
        "n_bootstrap": 0,
        "seed": seed,
        "n_xmin_candidates": 0,
        "min_tail": min_tail,
        "hill_k": -1,
        "verdict": "inconclusive",
    }
    order = [
        "status", "reason", "n_values", "n_dropped", "x_min", "x_max", "n_tail", "alpha_sv",
        "alpha_eig", "alpha_sv_se", "ks_distance", "gof_p", "gof_p_se", "n_bootstrap", "seed",
        "n_xmin_candidates", "min_tail",
        *[f"{kind}_{alt}" for alt in ALTERNATIVES for kind in ("lr", "lr_p")],
        "hill_alpha_sv", "hill_k", "verdict",
    ]  # fmt: skip

    def done(status: str = "ok", reason: str = "") -> dict[str, Any]:
        row["status"], row["reason"] = status, reason
        return {key: row[key] for key in order}

    if not np.all(finite):
        return done("skipped", f"{int((~finite).sum())} non-finite singular values")
    positive = x[x > 0]
    row["n_dropped"] = int(x.size - positive.size)
    row["n_values"] = int(positive.size)
    if positive.size < min_tail:
        reason = f"only {positive.size} positive singular values, fewer than min_tail={min_tail}"
        return done("skipped", reason)
    xs = np.sort(positive)
    row["x_max"] = float(xs[-1])

    start, alpha, distance, n_cand = _best_xmin(xs, min_tail, max_xmin_candidates)
    row["n_xmin_candidates"] = n_cand
    if start < 0 or not math.isfinite(alpha):
        reason = f"no x_min candidate leaves >= min_tail={min_tail} distinct values in the tail"
        return done("skipped", reason)
    n_tail = int(xs.size - start)
    row.update(
        x_min=float(xs[start]),
        n_tail=n_tail,
        alpha_sv=alpha,
        alpha_eig=(alpha + 1.0) / 2.0,  # alpha_sv = 2 alpha_eig - 1
        alpha_sv_se=(alpha - 1.0) / math.sqrt(n_tail),  # eq. (3.2) of [1]
        ks_distance=distance,
    )
    k = hill_k if hill_k is not None else math.isqrt(xs.size)
    if k < xs.size:
        row["hill_alpha_sv"], row["hill_k"] = hill_estimator(xs, k), k

    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        gof_p, gof_p_se, used = _bootstrap_gof(
            xs, start, alpha, distance, n_bootstrap, rng, min_tail, max_xmin_candidates,
            max_bootstrap=max_bootstrap, level=gof_level,
        )
        row["gof_p"], row["gof_p_se"], row["n_bootstrap"] = gof_p, gof_p_se, used
    if compare:
        lr = _likelihood_ratios(xs, xs[start])
        for name, (r, p) in lr.items():
            row[f"lr_{name}"], row[f"lr_p_{name}"] = r, p
        row["verdict"] = _verdict(row["gof_p"], lr, gof_level, lr_level, row["gof_p_se"])
    return done()
