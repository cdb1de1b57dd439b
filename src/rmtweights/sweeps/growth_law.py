r"""The spike-count growth law :math:`r(N) = c N^\kappa` of [1]_, fitted by log-log least squares.

Assumption 2 of [1]_ asks :math:`r \to \infty` and :math:`r = o(N)`, i.e. :math:`0 < \kappa < 1` for a
power law (:func:`fit_growth_law`).

References
----------
.. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

__all__ = ["fit_growth_law"]


def fit_growth_law(
    frame: pd.DataFrame,
    *,
    zeros: Literal["drop", "add_half"] = "drop",
    level: float = 0.95,
) -> dict[str, Any]:
    r"""Fit :math:`r(N) = c N^\kappa` to spike counts by log-log OLS (Assumption 2 of [1]_).

    .. math::

        \log r_{N,s} = \log c + \kappa \log N + \varepsilon_{N,s},

    one observation per (N, seed) row: seeds are replicates, the OLS standard errors treat the rows
    as independent. Assumption 2 of [1]_ (:math:`r \to \infty`, :math:`r = o(N)`) holds for a power
    law iff :math:`0 < \kappa < 1`: ``grows`` is "CI lower bound > 0", ``sublinear`` is "CI upper
    bound < 1".

    Zero counts have no logarithm. ``zeros="drop"`` (default) removes them and reports how many
    (``n_zero``); conditioning on :math:`r > 0` overstates the small-N counts when zeros
    concentrate there, biasing kappa downward. ``zeros="add_half"`` fits :math:`\log(r + 1/2)` on all
    rows instead (the usual continuity correction); zeros clustered at small N then pull kappa
    upward. Compare both when ``n_zero > 0``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``N`` (matrix size > 1), ``seed`` and ``spikes`` (non-negative counts).
    zeros : {"drop", "add_half"}
        Handling of rows with ``spikes == 0``.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    dict
        ``kappa, kappa_se, kappa_ci_low, kappa_ci_high, kappa_pvalue`` (H0: kappa = 0),
        ``kappa_pvalue_linear`` (H0: kappa = 1), ``log_c, log_c_pvalue, c, c_ci_low, c_ci_high,
        r_squared, n_obs, n_sizes, n_seeds, n_zero, zeros, level, grows, sublinear, verdict``.
    """
    missing = {"N", "seed", "spikes"} - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks columns {sorted(missing)}")
    if zeros not in ("drop", "add_half"):
        raise ValueError(f"zeros must be 'drop' or 'add_half', got {zeros!r}")
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    n_vals = frame["N"].to_numpy(dtype=float)
    spikes = frame["spikes"].to_numpy(dtype=float)
    if np.any(~np.isfinite(n_vals)) or np.any(n_vals <= 1):
        raise ValueError(f"N must be finite and > 1, got {sorted(set(n_vals.tolist()))!r}")
    if np.any(~np.isfinite(spikes)) or np.any(spikes < 0):
        raise ValueError("spikes must be finite non-negative counts")
    is_zero = spikes == 0
    n_zero = int(is_zero.sum())
    if zeros == "drop":
        keep = ~is_zero
        y = np.log(spikes[keep])
    else:
        keep = np.ones_like(is_zero)
        y = np.log(spikes + 0.5)
    x = np.log(n_vals[keep])
    if np.unique(x).size < 2 or y.size < 3:
        raise ValueError(
            f"need at least 3 rows over 2 distinct N after handling zeros ({n_zero} zero rows, zeros={zeros!r})"
        )
    result = sm.OLS(y, sm.add_constant(x)).fit()
    ci = result.conf_int(alpha=1.0 - level)
    log_c, kappa = (float(v) for v in result.params)
    kappa_lo, kappa_hi = (float(v) for v in ci[1])
    logc_lo, logc_hi = (float(v) for v in ci[0])
    p_linear = float(np.asarray(result.t_test(([0.0, 1.0], 1.0)).pvalue).item())  # H0: kappa = 1
    grows = kappa_lo > 0
    sublinear = kappa_hi < 1
    pct = f"{100 * level:g}%"
    span = f"kappa = {kappa:.3f} [{pct} CI {kappa_lo:.3f}, {kappa_hi:.3f}]"
    if grows and sublinear:
        verdict = f"r(N) grows sublinearly ({span}): consistent with Assumption 2 (r -> inf, r = o(N))"
    elif grows:
        verdict = f"r(N) grows, but linear growth is not excluded ({span}): r = o(N) not supported"
    else:
        verdict = f"no significant growth of r(N) ({span}): the finite-rank regime is not excluded"
    return {
        "kappa": kappa,
        "kappa_se": float(result.bse[1]),
        "kappa_ci_low": kappa_lo,
        "kappa_ci_high": kappa_hi,
        "kappa_pvalue": float(result.pvalues[1]),
        "kappa_pvalue_linear": p_linear,
        "log_c": log_c,
        "log_c_pvalue": float(result.pvalues[0]),
        "c": float(np.exp(log_c)),
        "c_ci_low": float(np.exp(logc_lo)),
        "c_ci_high": float(np.exp(logc_hi)),
        "r_squared": float(result.rsquared),
        "n_obs": int(y.size),
        "n_sizes": int(np.unique(x).size),
        "n_seeds": int(frame["seed"].nunique()),
        "n_zero": n_zero,
        "zeros": zeros,
        "level": level,
        "grows": bool(grows),
        "sublinear": bool(sublinear),
        "verdict": verdict,
    }
