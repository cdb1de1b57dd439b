"""The singular values of one weight matrix in, the paper-000 analysis out.

Pipeline (Sec. 3 of [1]_, conventions of ``docs/architecture.md``):

1. orient W as n x m with n >= m (transpose otherwise), q = m / n;
2. singular values accurate in float64 (:func:`rmtweights.spectrum.layer_spectrum`; from a matrix:
   :func:`rmtweights.api.analyze_matrix`), :math:`\\gamma_i = \\mathrm{sv}_i / \\sqrt n` sorted descending;
3. :math:`\\hat\\sigma` by BEMA, Gaussian broadening or the modified MP fit
   (:mod:`rmtweights.methods`, :mod:`rmtweights.rmt.estimators`; one dispatch by name:
   :func:`estimate_sigma`);
4. threshold :math:`\\gamma_+` (Tracy–Widom corrected edge, eq. (3) of [1]_, or the Gavish–Donoho
   hard threshold), :math:`\\hat s = \\#\\{\\gamma_i > \\gamma_+\\}`;
5. :math:`\\hat\\theta_i`, :math:`\\hat\\phi_i` (eq. (4)) and :math:`\\mathrm{Ave}_w` (eq. (6)).

Bad input (NaN/Inf, empty, not 2-d) raises ``ValueError``. A matrix that is valid but cannot be
analysed (too few singular values, all equal, all zero, an estimate of sigma that is not
positive) gives a :class:`MatrixAnalysis` with ``status`` "skipped" or "failed" and a ``reason``,
never an exception: a workflow row, not a traceback.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight
       Matrices based on Random Matrix Theory" (paper 000; arXiv:2512.12911), eqs. (3)–(6).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rmtweights.checks import check_a, check_open_unit
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA, DEFAULT_BETA, check_method
from rmtweights.rmt.bbp import ave_w, phi_hat, theta_hat
# the module of the functions the registry names: its code is part of every fit's fingerprint
from rmtweights.rmt.estimators import InsufficientDataError
from rmtweights.rmt.threshold import count_spikes, gavish_donoho_threshold, mp_threshold

__all__ = ["MatrixAnalysis", "analyze_spectrum", "check_options", "not_analysed", "estimate_sigma", "SigmaEstimate",
           "THRESHOLDS", "FRAME_COLUMNS"]

#: Threshold rules: "tw" = eq. (3) of paper 000 (Tracy–Widom corrected MP edge);
#: "gd" = Gavish–Donoho optimal hard threshold for known sigma (at sigma-hat).
THRESHOLDS = ("tw", "gd")

#: Columns of :meth:`MatrixAnalysis.to_frame`, in order.
FRAME_COLUMNS = ("method", "n", "m", "q", "sigma", "gamma_plus", "s_hat", "ave_w", "index", "gamma",
                 "theta_hat", "phi_hat", "status", "reason", "threshold")


@dataclass(eq=False)
class MatrixAnalysis:
    """Result of :func:`analyze_spectrum` / :func:`rmtweights.api.analyze_matrix` for one matrix.

    Attributes
    ----------
    n, m : int
        Dimensions after orientation (n >= m).
    q : float
        m / n.
    sigma : float
        Estimated noise standard deviation :math:`\\hat\\sigma` (NaN unless ``status == "ok"``); for
        ``modified_mp`` the amplitude of the modified MP fit
        (:data:`rmtweights.methods.THRESHOLD_METHODS`).
    gamma_plus : float
        Threshold :math:`\\gamma_+` in gamma units (NaN unless ok).
    s_hat : int
        Number of gammas above ``gamma_plus``; -1 when there is none (not ok, or a method without a
        threshold: :data:`rmtweights.methods.THRESHOLD_METHODS`).
    ave_w : float
        Eq. (6) of paper 000; NaN when ``s_hat == 0`` or not ok.
    gammas : numpy.ndarray
        sv / sqrt(n), descending (always filled when singular values exist).
    theta_hat, phi_hat : numpy.ndarray
        Eq. (4) per gamma (NaN / 0 below the transition; NaN everywhere unless ok).
    method : str
        A name of :data:`rmtweights.methods.METHODS`: "bema", "gb" or "modified_mp".
    params : dict
        alpha, beta, a, threshold (and the method's ``records``: for "modified_mp", ``fraction_mp``
        and the fitted edge ``nu_max``).
    gd_threshold : float
        Gavish–Donoho hard threshold at :math:`\\hat\\sigma`
        (:func:`rmtweights.rmt.threshold.gavish_donoho_threshold`; NaN unless ok).
    s_hat_gd : int
        Number of gammas above ``gd_threshold``; -1 unless ok.
    status : str
        "ok", "skipped" (spectrum too small or degenerate) or "failed" (estimation broke down).
    reason : str
        Empty when ok, else why.
    """

    n: int
    m: int
    q: float
    sigma: float
    gamma_plus: float
    s_hat: int
    ave_w: float
    gammas: np.ndarray = field(repr=False)
    theta_hat: np.ndarray = field(repr=False)
    phi_hat: np.ndarray = field(repr=False)
    method: str
    params: dict[str, Any]
    status: str = "ok"
    reason: str = ""
    gd_threshold: float = float("nan")
    s_hat_gd: int = -1

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per singular value (``index`` 0 = largest, nullable Int64).

        Columns :data:`FRAME_COLUMNS`; matrix-level values repeat on every row. A result without
        singular values keeps one row with ``index`` NA, so a layer is never silently dropped.
        """
        size = self.gammas.size
        if size:
            index = pd.array(np.arange(size), dtype="Int64")
            gam, th, ph = self.gammas, self.theta_hat, self.phi_hat
        else:
            index = pd.array([pd.NA], dtype="Int64")
            gam = th = ph = np.array([np.nan])
        rows = len(index)
        return pd.DataFrame({
            "method": [self.method] * rows,
            "n": np.full(rows, self.n, dtype=np.int64),
            "m": np.full(rows, self.m, dtype=np.int64),
            "q": np.full(rows, self.q),
            "sigma": np.full(rows, self.sigma),
            "gamma_plus": np.full(rows, self.gamma_plus),
            "s_hat": np.full(rows, self.s_hat, dtype=np.int64),
            "ave_w": np.full(rows, self.ave_w),
            "index": index,
            "gamma": np.asarray(gam, dtype=float),
            "theta_hat": np.asarray(th, dtype=float),
            "phi_hat": np.asarray(ph, dtype=float),
            "status": [self.status] * rows,
            "reason": [self.reason] * rows,
            "threshold": [self.params.get("threshold", "tw")] * rows,
        }, columns=list(FRAME_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """One row per matrix: the scalar fields, ``gamma_max`` and the flattened ``params``."""
        row: dict[str, Any] = {
            "method": self.method, "n": self.n, "m": self.m, "q": self.q, "sigma": self.sigma,
            "gamma_plus": self.gamma_plus, "s_hat": self.s_hat, "ave_w": self.ave_w,
            "gd_threshold": self.gd_threshold, "s_hat_gd": self.s_hat_gd,
            "gamma_max": float(self.gammas[0]) if self.gammas.size else float("nan"),
            "status": self.status, "reason": self.reason,
        }
        row.update(self.params)
        return row


def check_options(method: str, alpha: float, beta: float, a: int, threshold: str) -> None:
    """``ValueError`` naming the first bad option of :func:`analyze_spectrum` (checked once, up front)."""
    check_method(method)
    if threshold not in THRESHOLDS:
        raise ValueError(f"threshold must be one of {THRESHOLDS}, got {threshold!r}")
    check_open_unit("alpha", alpha, 0.5)
    check_open_unit("beta", beta)
    check_a(a)


def not_analysed(n: int, m: int, gammas: np.ndarray, method: str, params: dict[str, Any], status: str,
                 reason: str) -> MatrixAnalysis:
    """A :class:`MatrixAnalysis` with ``status`` and ``reason`` and no estimate (NaN, ``s_hat`` -1)."""
    nan = np.full(gammas.shape, np.nan)
    return MatrixAnalysis(n=n, m=m, q=m / n, sigma=float("nan"), gamma_plus=float("nan"), s_hat=-1,
                          ave_w=float("nan"), gammas=gammas, theta_hat=nan, phi_hat=nan.copy(),
                          method=method, params=params, status=status, reason=reason)


def _rank_tolerance(gammas: np.ndarray, n: int) -> float:
    """Numerical-rank cut-off: singular values below 10 n eps sv_max are rounding noise of zeros.

    (The ``numpy.linalg.matrix_rank`` rule with a factor 10 of headroom; the smallest singular value
    of a square Gaussian matrix, ~ sv_max / (2n), is far above it.)
    """
    return 10.0 * n * np.finfo(np.float64).eps * float(gammas[0]) if gammas.size else 0.0


class SigmaEstimate(NamedTuple):
    """:func:`estimate_sigma`'s result: sigma and the values the method records besides it."""

    sigma: float
    records: dict[str, float]


def estimate_sigma(gammas: ArrayLike, q: float, method: str, *, alpha: float = DEFAULT_ALPHA,
                   a: int = DEFAULT_A) -> SigmaEstimate:
    """sigma-hat by the estimator named ``method`` (:data:`rmtweights.methods.METHODS`): the one
    dispatch by name.

    The registry entry names the function and the options it takes (every estimator that starts
    from BEMA gets the same ``alpha``); a function that returns a fit rather than a number gives
    its ``sigma`` and the attributes the entry ``records`` (the modified MP fit: ``fraction_mp`` and
    the fitted upper edge ``nu_max``).

    Raises
    ------
    ValueError
        An unknown (or renamed) method, or bad ``q``, ``alpha``, ``a``.
    rmtweights.rmt.estimators.InsufficientDataError
        Too small or degenerate a spectrum.
    """
    spec = check_method(method)
    options = {"alpha": check_open_unit("alpha", alpha, 0.5), "a": check_a(a)}
    fit = spec.load()(gammas, q, **{name: options[name] for name in spec.options})
    if not spec.records:
        return SigmaEstimate(float(fit), {})
    return SigmaEstimate(float(fit.sigma), {name: float(getattr(fit, name)) for name in spec.records})


def analyze_spectrum(sv: ArrayLike, n: int, m: int, method: str = "bema", *, alpha: float = DEFAULT_ALPHA,
                     beta: float = DEFAULT_BETA, a: int = DEFAULT_A, threshold: str = "tw") -> MatrixAnalysis:
    """Analyse the singular values of an n x m matrix (Sec. 3 of [1]_).

    .. math::

        \\gamma_i = \\mathrm{sv}_i/\\sqrt{\\max(n, m)}, \\quad
        \\gamma_+^2 = \\hat\\sigma^2\\left[(1+\\sqrt q)^2 + t_{1-\\beta} n^{-2/3} q^{-1/6}
        (1+\\sqrt q)^{4/3}\\right], \\quad
        \\mathrm{Ave}_w = \\frac{\\sum_{i \\le \\hat s} \\hat\\phi_i(\\gamma_i - \\gamma_+)}
                                {\\sum_{i \\le \\hat s}(\\gamma_i - \\gamma_+)}

    (eqs. (3), (4), (6) of [1]_).

    Parameters
    ----------
    sv : array_like
        Raw singular values, any order (finite, >= 0, at least one). Normally min(n, m) of them;
        pooled spectra of several n x m slices are accepted as they are.
    n, m : int
        Matrix shape; swapped if n < m.
    method : {"bema", "gb", "modified_mp"}
        Estimator of sigma (:data:`rmtweights.methods.METHODS`: paper 000 App. A, B; paper 001 Sec. 4).
    alpha : float, default 0.2
        BEMA trimming fraction.
    beta : float, default 0.1
        Tail probability of the Tracy–Widom correction, eq. (3).
    a : int, default 15
        Gaussian-broadening half-width (``gb`` and ``modified_mp``).
    threshold : {"tw", "gd"}, default "tw"
        ``tw``: eq. (3) of [1]_; ``gd``: :func:`rmtweights.rmt.threshold.gavish_donoho_threshold`
        at :math:`\\hat\\sigma` (``beta`` is then unused).

    Returns
    -------
    MatrixAnalysis
        ``status`` "skipped" with a reason when the spectrum is rank-deficient (singular values
        below ``10 n eps sv_max`` count as zeros), too small or degenerate
        (:class:`~rmtweights.rmt.estimators.InsufficientDataError`); "failed" when the estimator
        broke down (an exception or a floating-point warning) or its sigma is not positive.

    Raises
    ------
    ValueError
        Bad options, non-positive shape, empty or non-finite or negative ``sv``.

    References
    ----------
    .. [1] Nishikawa, Shimizu, Hashiguchi, paper 000, eqs. (3)–(6).
    """
    check_options(method, alpha, beta, a, threshold)
    if isinstance(n, bool) or isinstance(m, bool) or int(n) != n or int(m) != m or n < 1 or m < 1:
        raise ValueError(f"n and m must be positive integers, got n={n!r}, m={m!r}")
    values = np.asarray(sv, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("sv is empty: no singular values to analyse")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"sv contains {int(np.count_nonzero(~np.isfinite(values)))} NaN/Inf value(s)")
    if np.any(values < 0):
        raise ValueError(f"singular values must be >= 0, got min(sv)={values.min()!r}")
    n, m = (int(n), int(m)) if n >= m else (int(m), int(n))  # orientation: n >= m
    q = m / n
    gammas = np.sort(values)[::-1] / math.sqrt(n)
    params: dict[str, Any] = {"alpha": float(alpha), "beta": float(beta), "a": int(a),
                              "threshold": threshold}

    rank = int(np.count_nonzero(gammas > _rank_tolerance(gammas, n)))
    if rank == 0:
        return not_analysed(n, m, gammas, method, params, "skipped", "all singular values are zero (zero matrix)")
    if rank < gammas.size:
        return not_analysed(n, m, gammas, method, params, "skipped",
                       f"rank-deficient: numerical rank {rank} of {gammas.size} singular values "
                       "(the MP noise model needs full-rank noise)")

    try:
        with warnings.catch_warnings():
            # a floating-point warning inside an estimator means its number is garbage: report it
            warnings.simplefilter("error", RuntimeWarning)
            sigma, records = estimate_sigma(gammas, q, method, alpha=alpha, a=int(a))
            params.update(records)
    except InsufficientDataError as err:
        return not_analysed(n, m, gammas, method, params, "skipped", str(err))
    except (ValueError, ArithmeticError, RuntimeWarning, np.linalg.LinAlgError) as err:
        return not_analysed(n, m, gammas, method, params, "failed", f"{method} estimator failed: {err}")
    if not (math.isfinite(sigma) and sigma > 0):
        return not_analysed(n, m, gammas, method, params, "failed",
                       f"{method} estimate of sigma is {sigma!r}, not a positive number "
                       "(bulk of the spectrum is zero: rank-deficient or degenerate matrix)")

    if not check_method(method).threshold:  # the modified MP fit: the fit, no threshold
        nan = np.full(gammas.shape, np.nan)
        return MatrixAnalysis(n=n, m=m, q=q, sigma=sigma, gamma_plus=float("nan"), s_hat=-1, ave_w=float("nan"),
                              gammas=gammas, theta_hat=nan, phi_hat=nan.copy(), method=method, params=params)
    if threshold == "tw":
        gamma_plus = mp_threshold(sigma, q, n, beta)  # eq. (3) of [1]
    else:
        gamma_plus = gavish_donoho_threshold(sigma, q)
    phis = phi_hat(gammas, sigma, q)  # eq. (4) of [1]
    gd = float(gavish_donoho_threshold(sigma, q))
    return MatrixAnalysis(
        n=n, m=m, q=q, sigma=sigma, gamma_plus=float(gamma_plus),
        s_hat=count_spikes(gammas, gamma_plus),
        ave_w=ave_w(phis, gammas, gamma_plus),  # eq. (6) of [1]
        gammas=gammas, theta_hat=theta_hat(gammas, sigma, q), phi_hat=phis,
        method=method, params=params, gd_threshold=gd, s_hat_gd=count_spikes(gammas, gd))
