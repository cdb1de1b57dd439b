r"""The outlier error of a deformed-Wigner sweep per draw, and its rate of decay with N.

:func:`error_summary` reduces an :func:`rmtweights.sweeps.wigner_outliers.outlier_sweep` frame to
one row per (N, seed); :func:`fit_error_rate` fits :math:`\log \text{err} = a + b \log N` (outlier
fluctuations are :math:`O(N^{-1/2})` for finite rank, Theorem 2.2 of [1]_).

References
----------
.. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", preprint, 2025 (paper 003; arXiv:2507.12182).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["error_summary", "fit_error_rate"]


def error_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (N, seed) summary of an :func:`~rmtweights.sweeps.wigner_outliers.outlier_sweep` frame.

    Returns columns ``N, seed, r, max_error, mean_error`` (over the spikes j).
    """
    missing = {"N", "seed", "r", "abs_error"} - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks columns {sorted(missing)}")
    grouped = frame.groupby(["N", "seed"], sort=True)
    return grouped.agg(
        r=("r", "first"), max_error=("abs_error", "max"), mean_error=("abs_error", "mean")
    ).reset_index()


def fit_error_rate(summary: pd.DataFrame, column: str = "mean_error") -> tuple[float, float]:
    r"""Log-log least squares :math:`\log \text{err} = \text{intercept} + \text{rate}\cdot\log N`.

    Every (N, seed) row of :func:`error_summary` is one observation (seeds are replicates).
    Outlier fluctuations are :math:`O(N^{-1/2})` for finite rank, so ``rate`` near :math:`-1/2` is
    expected. Returns ``(rate, intercept)``.
    """
    if column not in summary.columns or "N" not in summary.columns:
        raise ValueError(f"summary needs columns 'N' and {column!r}, has {list(summary.columns)}")
    n = summary["N"].to_numpy(dtype=float)
    err = summary[column].to_numpy(dtype=float)
    if np.unique(n).size < 2 or np.any(err <= 0) or np.any(~np.isfinite(err)):
        raise ValueError("need at least two distinct N and positive finite errors to fit a rate")
    rate, intercept = np.polyfit(np.log(n), np.log(err), 1)
    return float(rate), float(intercept)
