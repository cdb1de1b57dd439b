r"""Universal random-matrix statistics of a spectrum: unfolding, spacings, number variance.

Paper 001 ([1]_, Secs. 3–5, App. B–C) tests whether a weight matrix is random by quantities that
depend only on the symmetry class, not on the density of states:

* :func:`unfold` — maps the levels to unit mean density with the Gaussian-broadened cumulative
  density (App. C of [1]_, eqs. (4)–(5));
* :func:`spacing_test` / :func:`spacing_histogram` — nearest-neighbour spacings of the unfolded
  levels against the Wigner surmise of the GOE (eq. (1) of [1]_), with a Kolmogorov–Smirnov test;
* :func:`number_variance` / :func:`goe_number_variance` — level number variance
  :math:`\Sigma^2(l)` against the exact GOE curve (Mehta [2]_, Sec. 16.1);
(The Porter–Thomas test of the singular vectors is :mod:`rmtweights.rmt.porter_thomas`.)

Conventions: following Sec. 3 and App. C of [1]_, the spectrum unfolded is that of the
**singular values** :math:`\nu_i` of the layer matrix (raw or divided by :math:`\sqrt n`:
unfolding is scale invariant); ``square=True`` unfolds their squares, the eigenvalues of
:math:`W^\top W`, instead. Any real spectrum (e.g. GOE eigenvalues) can be passed as is. Functions
taking a spectrum also accept an object with a ``gammas`` attribute (e.g.
:class:`rmtweights.analyze.MatrixAnalysis`). Rows carry no run keys; the workflow adds them.

References
----------
.. [1] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661); paper 001 of this project.
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

from rmtweights.checks import InsufficientDataError, check_a
from rmtweights.rmt.broadening import broadened_count, broadening_widths

__all__ = [
    "MIN_SPACINGS",
    "unfold",
    "wigner_surmise_pdf",
    "wigner_surmise_cdf",
    "spacing_test",
    "spacing_histogram",
    "number_variance",
    "goe_number_variance",
]

_EULER_GAMMA = 0.5772156649015329  # Euler–Mascheroni constant

#: Fewest spacings :func:`spacing_test` tests. The test is meant to tell GOE level repulsion from
#: independent (Poisson) levels, so its minimum comes from its power against Poisson levels: m i.i.d.
#: uniform levels, unfolded with a = 15 and tested at 5 % as here, are rejected in 9 % of 1000 draws
#: at 9 spacings (m = 40, the smallest layer the tests used to accept), 59 % at 29, 76 % at 39, 88 % at
#: 50 and 96 % at 60 (seeded simulation; ``tests/unit/test_universality.py`` repeats it). Below 50
#: spacings a "pass" would be likely even for levels without any repulsion, so it is not counted.
MIN_SPACINGS = 50


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


# --------------------------------------------------------------------------------------------------
# unfolding


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
    a = check_a(a)
    x = _spectrum(values, square)
    if x.size < 2 * a + 2:
        raise InsufficientDataError(
            f"unfolding with a={a} drops {a} levels at each end and needs at least 2a+2={2 * a + 2} "
            f"levels, got {x.size}"
        )
    xi = broadened_count(x, x, broadening_widths(x, a))  # eq. (5) of [1]
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


def spacing_test(values: Any, a: int = 15, *, square: bool = False, min_spacings: int = MIN_SPACINGS) -> dict[str, Any]:
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
    the same levels. With fewer than ``min_spacings`` spacings the test is not run (``status``
    "skipped" and the reason): it would pass most spectra without level repulsion too
    (:data:`MIN_SPACINGS`).

    Parameters
    ----------
    values : array_like or object with ``gammas``
        Singular values (or any real spectrum), any order.
    a : int
        Broadening half-width of :func:`unfold` (15, as in [1]_).
    square : bool
        Unfold the squares (eigenvalues of :math:`W^\top W`) instead.
    min_spacings : int
        Fewest spacings tested (:data:`MIN_SPACINGS`, 50: power about 0.9 against Poisson levels).

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
    a = check_a(a)
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
    row.update(n_spacings=int(s.size), mean_spacing=mean)
    if s.size < min_spacings:
        row.update(status="skipped", reason=f"{s.size} spacings < {min_spacings}: too few for the KS test to tell "
                                            "GOE from Poisson levels (power below 0.9)")
        return row
    res = stats.kstest(s, wigner_surmise_cdf)  # eq. (1) of [1], App. B
    row.update(ks_stat=float(res.statistic), p_value=float(res.pvalue))
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
    a = check_a(a)
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
