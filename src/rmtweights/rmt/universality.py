r"""Universal random-matrix statistics of a spectrum: unfolding, spacings, number variance, Porter–Thomas.

Paper 001 ([1]_, Secs. 3–5, App. B–C) tests whether a weight matrix is random by quantities that
depend only on the symmetry class, not on the density of states:

* :func:`unfold` — maps the levels to unit mean density with the Gaussian-broadened cumulative
  density (App. C of [1]_, eqs. (4)–(5));
* :func:`spacing_test` / :func:`spacing_histogram` — nearest-neighbour spacings of the unfolded
  levels against the Wigner surmise of the GOE (eq. (1) of [1]_), with a Kolmogorov–Smirnov test;
* :func:`number_variance` / :func:`goe_number_variance` — level number variance
  :math:`\Sigma^2(l)` against the exact GOE curve (Mehta [2]_, Sec. 16.1);
* :func:`porter_thomas` — KS tests of the entries of each right singular vector against the
  Gaussian (Porter–Thomas) law, with the window-15 moving average of Fig. 2 of [1]_.

Conventions: following Sec. 3 and App. C of [1]_, the spectrum unfolded is that of the
**singular values** :math:`\nu_i` of the layer matrix (raw or divided by :math:`\sqrt n`:
unfolding is scale invariant); ``square=True`` unfolds their squares, the eigenvalues of
:math:`W^\top W`, instead. Any real spectrum (e.g. GOE eigenvalues) can be passed as is. Functions
taking a spectrum also accept an object with a ``gammas`` attribute (e.g.
:class:`rmtweights.analyze.MatrixAnalysis`). Rows carry no run keys; the workflow adds them.

References
----------
.. [1] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", preprint (2024), arXiv:2407.03589; paper 001 of this project.
.. [2] M. L. Mehta, *Random Matrices*, 3rd ed., Pure and Applied Mathematics 142, Elsevier (2004),
   Sec. 16.1 (number variance) and Ch. 6–7 (GOE two-level cluster function).
.. [3] T. Guhr, A. Müller-Groeling, H. A. Weidenmüller, "Random-matrix theories in quantum
   physics: common concepts", Physics Reports 299, 189–425 (1998). arXiv:cond-mat/9707301,
   :doi:`10.1016/S0370-1573(97)00088-4`
.. [4] C. E. Porter, R. G. Thomas, "Fluctuations of nuclear reaction widths", Physical Review 104,
   483–491 (1956). :doi:`10.1103/PhysRev.104.483`
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

from rmtweights.rmt.estimators import InsufficientDataError

__all__ = [
    "unfold",
    "wigner_surmise_pdf",
    "wigner_surmise_cdf",
    "spacing_test",
    "spacing_histogram",
    "number_variance",
    "goe_number_variance",
    "porter_thomas",
]

_CHUNK_ELEMENTS = 1 << 21  # (levels x kernels) block of the broadened CDF: 16 MiB of float64
_EULER_GAMMA = 0.5772156649015329  # Euler–Mascheroni constant


# --------------------------------------------------------------------------------------------------
# validation


def _spectrum(values: Any, square: bool) -> np.ndarray:
    """Flat float64 spectrum (``values`` or ``values.gammas``), squared if asked, sorted ascending."""
    if hasattr(values, "gammas"):
        values = values.gammas
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise InsufficientDataError(f"the spectrum has {int((~np.isfinite(x)).sum())} non-finite values")
    if square:
        x = x * x
    return np.sort(x)


def _check_a(a: Any) -> int:
    if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or int(a) < 1:
        raise ValueError(f"a (half-width of the broadening window) must be an integer >= 1, got a={a!r}")
    return int(a)


# --------------------------------------------------------------------------------------------------
# unfolding


def _broadening_widths(x_asc: np.ndarray, a: int) -> np.ndarray:
    r""":math:`\sigma_k = (\nu_{k+a} - \nu_{k-a})/2`, indices clipped to the spectrum.

    Same convention as :func:`rmtweights.rmt.estimators.gaussian_broadening_density`: a zero
    width (tied levels) is raised to the smallest positive width.
    """
    m = x_asc.size
    idx = np.arange(m)
    widths = 0.5 * (x_asc[np.minimum(idx + a, m - 1)] - x_asc[np.maximum(idx - a, 0)])  # App. C of [1]
    positive = widths[widths > 0.0]
    if positive.size == 0:
        raise InsufficientDataError("all broadening widths are zero (all levels equal)")
    return np.maximum(widths, positive.min())


def _broadened_count(points: np.ndarray, x_asc: np.ndarray, widths: np.ndarray) -> np.ndarray:
    r""":math:`F(\nu) = \sum_k \Phi((\nu - \nu_k)/\sigma_k)` at each point, in blocks (eq. (5) of [1])."""
    out = np.empty(points.size)
    inv = 1.0 / widths
    step = max(1, _CHUNK_ELEMENTS // x_asc.size)
    for lo in range(0, points.size, step):
        z = (points[lo : lo + step, None] - x_asc[None, :]) * inv[None, :]
        out[lo : lo + step] = special.ndtr(z).sum(axis=1)  # eqs. (4)-(5) of [1]
    return out


def unfold(values: Any, a: int = 15, *, square: bool = False) -> np.ndarray:
    r"""Unfold a spectrum to unit mean level density by Gaussian broadening, App. C of [1]_.

    The density is the broadened sum of eq. (4) of [1]_ over the :math:`m` levels sorted
    ascending, and the unfolded levels are its counting function (eq. (5) of [1]_) at each level:

    .. math::

        P(\nu) = \frac1m \sum_{k=1}^m \frac{1}{\sqrt{2\pi\sigma_k^2}}
                 e^{-(\nu-\nu_k)^2 / 2\sigma_k^2}, \quad
        \sigma_k = \frac{\nu_{k+a} - \nu_{k-a}}{2}, \quad
        \xi_i = F(\nu_i) = m\!\int_{-\infty}^{\nu_i}\! P(x)\,dx
              = \sum_{k=1}^m \Phi\!\Big(\frac{\nu_i - \nu_k}{\sigma_k}\Big),

    :math:`\Phi` the standard normal CDF. Near the ends the indices :math:`k \pm a` are clipped to
    :math:`[1, m]` (as in :func:`rmtweights.rmt.estimators.gaussian_broadening_density`), and because
    the broadened density is unreliable there, the ``a`` lowest and ``a`` highest unfolded levels
    are dropped.

    Parameters
    ----------
    values : array_like or object with ``gammas``
        The spectrum, any order: singular values (paper 001's choice, the default reading) or any
        real levels (e.g. GOE eigenvalues). float64 internally.
    a : int
        Half-width of the broadening window (2a is the window size of [1]_); 15 as in [1]_.
    square : bool
        Unfold ``values**2`` instead — the eigenvalues of :math:`W^\top W` when ``values`` are
        singular values.

    Returns
    -------
    ndarray
        The :math:`m - 2a` unfolded levels :math:`\xi_{a+1} \le \dots \le \xi_{m-a}` (ascending);
        their mean spacing is close to 1.

    Raises
    ------
    InsufficientDataError
        (a ``ValueError``) fewer than :math:`2a + 2` levels, NaN/Inf, or all levels equal.
    ValueError
        ``a`` is not an integer >= 1.

    References
    ----------
    .. [1] Thamm, Staats, Rosenow (2024), paper 001, App. C, eqs. (4)-(5).
    """
    a = _check_a(a)
    x = _spectrum(values, square)
    if x.size < 2 * a + 2:
        raise InsufficientDataError(
            f"unfolding with a={a} drops {a} levels at each end and needs at least 2a+2={2 * a + 2} "
            f"levels, got {x.size}"
        )
    xi = _broadened_count(x, x, _broadening_widths(x, a))  # eq. (5) of [1]
    return xi[a : x.size - a]


# --------------------------------------------------------------------------------------------------
# spacings


def wigner_surmise_pdf(s: npt.ArrayLike) -> np.ndarray:
    r"""Wigner surmise of the GOE, eq. (1) of [1]_.

    :math:`p(s) = \frac{\pi s}{2} e^{-\pi s^2/4}` for :math:`s \ge 0`, 0 for :math:`s < 0`.
    """
    sa = np.asarray(s, dtype=np.float64)
    return np.where(sa > 0, 0.5 * np.pi * sa * np.exp(-0.25 * np.pi * sa * sa), 0.0)  # eq. (1) of [1]


def wigner_surmise_cdf(s: npt.ArrayLike) -> np.ndarray:
    r"""CDF of the Wigner surmise (integral of eq. (1) of [1]_).

    :math:`F(s) = 1 - e^{-\pi s^2/4}` for :math:`s \ge 0`, 0 for :math:`s < 0`.
    """
    sa = np.asarray(s, dtype=np.float64)
    return np.where(sa > 0, -np.expm1(-0.25 * np.pi * sa * sa), 0.0)


def _normalised_spacings(values: Any, a: int, square: bool) -> tuple[np.ndarray, float]:
    xi = unfold(values, a, square=square)
    s = np.diff(xi)
    mean = float(s.mean())
    if not mean > 0:
        raise InsufficientDataError("unfolded levels are all equal")
    return s / mean, mean


def spacing_test(values: Any, a: int = 15, *, square: bool = False) -> dict[str, Any]:
    r"""Kolmogorov–Smirnov test of the unfolded nearest-neighbour spacings against the Wigner surmise.

    The spacings :math:`s_k = \xi_{k+1} - \xi_k` of the unfolded levels (:func:`unfold`, App. C of
    [1]_) are divided by their mean (so that :math:`\langle s\rangle = 1`, the surmise's mean) and
    compared with

    .. math::

        P_{GOE}(s) = \frac{\pi s}{2}\, e^{-\pi s^2/4}, \qquad
        F_{GOE}(s) = 1 - e^{-\pi s^2/4}

    (eq. (1) of [1]_) by ``scipy.stats.kstest``, as in Sec. 3 and App. B of [1]_. A large p-value
    means the spacings are compatible with GOE level repulsion (a random bulk); independent levels
    (Poisson statistics, exponential spacings) give a tiny p-value. The p-value is nominal: the
    spacings are weakly correlated, and the unfolding and the mean normalisation are estimated from
    the same levels.

    Parameters
    ----------
    values : array_like or object with ``gammas``
        Singular values (or any real spectrum), any order.
    a : int
        Broadening half-width of :func:`unfold` (15, as in [1]_).
    square : bool
        Unfold the squares (eigenvalues of :math:`W^\top W`) instead.

    Returns
    -------
    dict
        One row: ``status`` ("ok" | "skipped"), ``reason``, ``n_levels`` (input size),
        ``n_spacings``, ``mean_spacing`` (before normalisation; close to 1 if the unfolding is good),
        ``ks_stat``, ``p_value``, ``a``, ``square``.

    References
    ----------
    .. [1] Thamm, Staats, Rosenow (2024), paper 001, eq. (1), Sec. 3, App. B-C.
    """
    a = _check_a(a)
    n_levels = int(np.size(values.gammas if hasattr(values, "gammas") else values))
    row: dict[str, Any] = {
        "status": "ok",
        "reason": "",
        "n_levels": n_levels,
        "n_spacings": 0,
        "mean_spacing": math.nan,
        "ks_stat": math.nan,
        "p_value": math.nan,
        "a": a,
        "square": bool(square),
    }
    try:
        s, mean = _normalised_spacings(values, a, square)
    except InsufficientDataError as err:
        row.update(status="skipped", reason=str(err))
        return row
    res = stats.kstest(s, wigner_surmise_cdf)  # eq. (1) of [1], App. B
    row.update(
        n_spacings=int(s.size), mean_spacing=mean, ks_stat=float(res.statistic), p_value=float(res.pvalue)
    )
    return row


def spacing_histogram(
    values: Any, a: int = 15, *, square: bool = False, bins: int = 30, s_max: float = 4.0
) -> pd.DataFrame:
    r"""Histogram of the normalised unfolded spacings next to the Wigner surmise (Fig. 1a of [1]_).

    Parameters
    ----------
    values, a, square
        As in :func:`spacing_test`.
    bins : int
        Number of equal bins on :math:`[0, s_{max}]`.
    s_max : float
        Upper end of the histogram; spacings beyond it count in ``empirical_cdf`` only.

    Returns
    -------
    DataFrame
        One row per bin: ``bin_left``, ``bin_right``, ``density`` (fraction of all spacings in the
        bin divided by its width), ``surmise`` (eq. (1) of [1]_ averaged over the bin,
        :math:`(F(b_r) - F(b_l))/(b_r - b_l)`), ``empirical_cdf`` and ``surmise_cdf`` at
        ``bin_right`` (for the insets of Fig. 1a).

    Raises
    ------
    InsufficientDataError
        The spectrum is too small to unfold (see :func:`unfold`).
    """
    a = _check_a(a)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got bins={bins!r}")
    if not (math.isfinite(s_max) and s_max > 0):
        raise ValueError(f"s_max must be a positive finite number, got s_max={s_max!r}")
    s, _ = _normalised_spacings(values, a, square)
    edges = np.linspace(0.0, float(s_max), int(bins) + 1)
    counts, _ = np.histogram(s, bins=edges)
    width = np.diff(edges)
    cdf_edges = wigner_surmise_cdf(edges)
    return pd.DataFrame(
        {
            "bin_left": edges[:-1],
            "bin_right": edges[1:],
            "density": counts / (s.size * width),
            "surmise": np.diff(cdf_edges) / width,  # eq. (1) of [1], bin average
            "empirical_cdf": np.searchsorted(np.sort(s), edges[1:], side="right") / s.size,
            "surmise_cdf": cdf_edges[1:],
        }
    )


# --------------------------------------------------------------------------------------------------
# number variance


def _check_ls(ls: npt.ArrayLike) -> np.ndarray:
    la = np.atleast_1d(np.asarray(ls, dtype=np.float64))
    if la.ndim != 1 or not np.all(np.isfinite(la)) or np.any(la <= 0):
        raise ValueError(f"ls must be positive finite window lengths, got ls={ls!r}")
    return la


def number_variance(unfolded: npt.ArrayLike, ls: npt.ArrayLike) -> pd.DataFrame:
    r"""Level number variance :math:`\Sigma^2(l)` of an unfolded spectrum (Sec. 3 of [1]_).

    With :math:`N(x, l) = \#\{\xi_i \in [x, x + l)\}` the number of unfolded levels in a window of
    length :math:`l` starting at :math:`x`, the window start slides continuously over
    :math:`[\xi_{\min}, \xi_{\max} - l]` and

    .. math::

        \Sigma^2(l) = \big\langle (N(x,l) - \langle N \rangle)^2 \big\rangle_x ,

    the average taken exactly (``N`` is piecewise constant in ``x``; each piece is weighted by its
    length). Paper 001 writes :math:`\langle (N - l)^2\rangle`, which equals ``sigma2 +
    (mean_count - l)**2`` and coincides with it for a perfectly unfolded spectrum (mean density 1).
    GOE: :func:`goe_number_variance`; Poisson levels: :math:`\Sigma^2(l) = l`.

    Parameters
    ----------
    unfolded : array_like
        Unfolded levels (e.g. from :func:`unfold`), any order.
    ls : array_like
        Window lengths, > 0. Lengths longer than the spectrum give NaN.

    Returns
    -------
    DataFrame
        One row per ``l``: ``l``, ``sigma2``, ``mean_count``.

    References
    ----------
    .. [1] Thamm, Staats, Rosenow (2024), paper 001, Sec. 3.
    """
    xi = np.sort(np.asarray(unfolded, dtype=np.float64).ravel())
    if xi.size < 2 or not np.all(np.isfinite(xi)):
        raise ValueError(f"number_variance needs at least 2 finite unfolded levels, got {xi.size}")
    la = _check_ls(ls)
    lo, hi = xi[0], xi[-1]
    sigma2 = np.full(la.size, np.nan)
    mean = np.full(la.size, np.nan)
    for i, length in enumerate(la):
        end = hi - length
        if end <= lo:
            continue
        # N(x) changes only where x or x + l crosses a level
        cuts = np.concatenate(([lo, end], xi, xi - length))
        cuts = np.unique(cuts[(cuts >= lo) & (cuts <= end)])
        w = np.diff(cuts)
        mid = 0.5 * (cuts[:-1] + cuts[1:])
        count = np.searchsorted(xi, mid + length, side="left") - np.searchsorted(xi, mid, side="left")
        mean[i] = np.average(count, weights=w)
        sigma2[i] = np.average((count - mean[i]) ** 2, weights=w)  # Sigma^2(l), Sec. 3 of [1]
    return pd.DataFrame({"l": la, "sigma2": sigma2, "mean_count": mean})


def goe_number_variance(ls: npt.ArrayLike, *, asymptotic: bool = False) -> np.ndarray:
    r"""Number variance :math:`\Sigma^2(L)` of the GOE (unfolded, infinite-size limit), Mehta Sec. 16.1 [2]_.

    Exact two-level form (:math:`\beta = 1`, [2]_ Sec. 16.1; [3]_ Sec. 3):

    .. math::

        \Sigma^2(L) = \frac{2}{\pi^2}\Big[\ln(2\pi L) + \gamma_E + 1
            + \tfrac12 \mathrm{Si}^2(\pi L) - \tfrac{\pi}{2}\mathrm{Si}(\pi L)
            - \cos(2\pi L) - \mathrm{Ci}(2\pi L)
            + \pi^2 L \Big(1 - \frac{2}{\pi}\mathrm{Si}(2\pi L)\Big)\Big],

    i.e. :math:`\Sigma^2(L) = L - 2\int_0^L (L - r)\, Y_2(r)\,dr` with the GOE cluster function
    :math:`Y_2` (checked against that integral in the tests). It behaves as :math:`L` for
    :math:`L \to 0` and tends to the asymptote (``asymptotic=True``)

    .. math::

        \Sigma^2(L) \simeq \frac{2}{\pi^2}\Big(\ln(2\pi L) + \gamma_E + 1 - \frac{\pi^2}{8}\Big),

    the :math:`\propto \ln(2\pi l)` law quoted in Sec. 3 of paper 001.

    Parameters
    ----------
    ls : array_like
        Window lengths :math:`L > 0` in units of the mean spacing.
    asymptotic : bool
        Return the large-:math:`L` asymptote instead of the exact curve.

    Returns
    -------
    ndarray
        :math:`\Sigma^2(L)`, shaped like ``ls`` (1-d).

    References
    ----------
    .. [2] M. L. Mehta, Random Matrices, 3rd ed. (2004), Sec. 16.1.
    .. [3] Guhr, Müller-Groeling, Weidenmüller, Phys. Rep. 299, 189 (1998), Sec. 3.
    """
    L = _check_ls(ls)
    two_pi_l = 2.0 * np.pi * L
    if asymptotic:
        return (2.0 / np.pi**2) * (np.log(two_pi_l) + _EULER_GAMMA + 1.0 - np.pi**2 / 8.0)
    si_pi, _ = special.sici(np.pi * L)
    si_2pi, ci_2pi = special.sici(two_pi_l)
    bracket = (
        np.log(two_pi_l)
        + _EULER_GAMMA
        + 1.0
        + 0.5 * si_pi**2
        - 0.5 * np.pi * si_pi
        - np.cos(two_pi_l)
        - ci_2pi
        + np.pi**2 * L * (1.0 - (2.0 / np.pi) * si_2pi)
    )  # Mehta Sec. 16.1, beta = 1
    return (2.0 / np.pi**2) * bracket


# --------------------------------------------------------------------------------------------------
# Porter–Thomas


def _moving_average(p: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the window is truncated at the ends (mean of the available values)."""
    left, right = (window - 1) // 2, window // 2
    csum = np.concatenate(([0.0], np.cumsum(p)))
    idx = np.arange(p.size)
    lo = np.maximum(idx - left, 0)
    hi = np.minimum(idx + right + 1, p.size)
    return (csum[hi] - csum[lo]) / (hi - lo)


def _ks_normal(z_sorted: np.ndarray) -> np.ndarray:
    """Two-sided KS distance of each column of ``z_sorted`` (sorted along axis 0) to N(0, 1)."""
    m = z_sorted.shape[0]
    cdf = special.ndtr(z_sorted)
    i = np.arange(1, m + 1, dtype=np.float64)[:, None]
    return np.maximum(np.max(i / m - cdf, axis=0), np.max(cdf - (i - 1.0) / m, axis=0))


def porter_thomas(
    vectors: npt.ArrayLike,
    window: int = 15,
    *,
    null: str = "gaussian",
    n_null: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""KS test of every singular vector's entries against the Porter–Thomas (Gaussian) law, Sec. 4 of [1]_.

    For a random matrix the entries of a normalised eigenvector of the :math:`m \times m` matrix
    :math:`W^\top W` (a right singular vector of :math:`W`, length :math:`m`) are distributed as
    :math:`N(0, 1/m)` (Porter–Thomas [4]_; Sec. 4 of [1]_). For each vector :math:`v` the entries
    :math:`\sqrt m\, v_i` are compared with :math:`N(0,1)`:

    .. math::

        D = \sup_z \big| \hat F_{\sqrt m v}(z) - \Phi(z) \big| .

    Two null distributions for :math:`D` (``null``):

    * ``"gaussian"`` (paper 001): :math:`p = P(D_m \ge D)` for :math:`m` i.i.d. :math:`N(0,1)`
      values, exact finite-:math:`m` law (``scipy.stats.kstwo``, what ``scipy.stats.kstest`` uses
      for :math:`m \le 10^4`). For a *unit* vector the mean square of the entries is exactly 1, so
      this test is conservative: under the random-matrix null the p-values are stochastically larger
      than uniform (mean ≈ 0.54 for :math:`m = 300`; checked in the tests).
    * ``"sphere"``: :math:`p = (1 + \#\{D^{(b)} \ge D\})/(n_{null} + 1)` with :math:`D^{(b)}`
      the distances of ``n_null`` seeded uniformly random unit vectors of length :math:`m` (the
      exact law of a singular vector of a Gaussian matrix). Calibrated: p is uniform under the null,
      with resolution :math:`1/(n_{null}+1)`.

    Small p-values flag vectors that carry structure (learned information). As in Fig. 2 of [1]_,
    ``p_value_moving_avg`` averages the p-values over ``window`` neighbouring ranks (centred;
    truncated at the ends).

    Parameters
    ----------
    vectors : array_like, shape (m, k)
        Unit vectors as **columns**, e.g. ``Vh.T`` from ``numpy.linalg.svd(W, full_matrices=False)``
        for a layer matrix :math:`W` (:math:`n \times m`, :math:`n \ge m`): the right singular
        vectors, of length :math:`m`. The sign of each vector is irrelevant.
    window : int
        Moving-average window (15 in [1]_), >= 1.
    null : {"gaussian", "sphere"}
        Null distribution of the KS distance (see above); "gaussian" reproduces [1]_.
    n_null : int
        Number of random unit vectors for ``null="sphere"``.
    seed : int
        Seed of the ``numpy.random.Generator`` for ``null="sphere"``.

    Returns
    -------
    DataFrame
        One row per column: ``rank`` (1-based column index; with ``numpy.linalg.svd`` output rank 1
        is the largest singular value), ``position`` (:math:`(k - \mathrm{rank})/(k - 1)`: 0 for the
        smallest and 1 for the largest singular value, the x-axis of Fig. 2 of [1]_), ``ks_stat``,
        ``p_value``, ``p_value_moving_avg``, ``null``.

    References
    ----------
    .. [1] Thamm, Staats, Rosenow (2024), paper 001, Sec. 4, Fig. 2.
    .. [4] Porter, Thomas, Phys. Rev. 104, 483 (1956).
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 1:
        raise ValueError(f"vectors must be an (m, k) array with m >= 2 and k >= 1, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vectors contain NaN or Inf")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got window={window!r}")
    if null not in ("gaussian", "sphere"):
        raise ValueError(f"null must be 'gaussian' or 'sphere', got null={null!r}")
    if isinstance(n_null, bool) or not isinstance(n_null, (int, np.integer)) or n_null < 1:
        raise ValueError(f"n_null must be an integer >= 1, got n_null={n_null!r}")
    m, k = v.shape
    d = _ks_normal(np.sort(math.sqrt(m) * v, axis=0))  # sqrt(m) v ~ N(0, 1), Sec. 4 of [1]
    if null == "gaussian":
        p = np.clip(stats.kstwo.sf(d, m), 0.0, 1.0)
    else:
        rng = np.random.default_rng(seed)
        g = rng.standard_normal((m, int(n_null)))
        g /= np.linalg.norm(g, axis=0, keepdims=True)  # uniform on the unit sphere
        d_null = np.sort(_ks_normal(np.sort(math.sqrt(m) * g, axis=0)))
        exceed = d_null.size - np.searchsorted(d_null, d, side="left")  # #{D_null >= D}
        p = (1.0 + exceed) / (d_null.size + 1.0)
    rank = np.arange(1, k + 1)
    position = (k - rank) / (k - 1) if k > 1 else np.ones(1)
    return pd.DataFrame(
        {
            "rank": rank,
            "position": position,
            "ks_stat": d,
            "p_value": p,
            "p_value_moving_avg": _moving_average(p, int(window)),
            "null": null,
        }
    )
