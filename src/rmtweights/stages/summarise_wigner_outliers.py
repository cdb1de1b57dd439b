"""Rule ``summarise_wigner_outliers``: outlier error per N with its fitted rate, and the Péché check (paper 003).

For the deformed Wigner matrix W = R/sqrt(N) + S with r(N) spikes, Theorem 2.2 of [1]_ predicts
each outlier from the spike through the map of eq. (1.9); the error should shrink with N. For a
single spike theta the largest eigenvalue tends to Péché's limit (eq. (1.8)). The figure of the
error against N is :func:`rmtweights.plots.wigner_error.wigner_error_figure`.

References
----------
.. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, eqs. (1.8)–(1.9), Theorem 2.2.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.wigner_error import wigner_error_figure
from rmtweights.sweeps.outlier_error import error_summary, fit_error_rate

__all__ = ["summarise_wigner_outliers", "wigner_summary_tables"]


def summarise_wigner_outliers(outliers: pd.DataFrame,
                              peche: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, Figure]:
    """The outlier-error table, the Péché table (:func:`wigner_summary_tables`) and the figure of the
    error against N with its fitted rate."""
    errors, peche_table, rate = wigner_summary_tables(outliers, peche)
    return errors, peche_table, wigner_error_figure(errors, rate)


def wigner_summary_tables(outliers: pd.DataFrame, peche: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The outlier-error table, the Péché table and the fitted rate.

    Returns (per N: spike count ``r``, mean over seeds of the per-draw max and mean error, seeds,
    fitted ``rate_exponent``), (per N and theta: mean largest eigenvalue, Péché's limit, mean and
    max absolute error, seeds) and ``{"exponent", "intercept"}`` of the log–log fit.
    """
    per_draw = error_summary(outliers)
    exponent, intercept = fit_error_rate(per_draw)
    errors = per_draw.groupby("N", sort=True).agg(r=("r", "first"), max_error=("max_error", "mean"),
                                                  mean_error=("mean_error", "mean"),
                                                  n_seeds=("seed", "nunique")).reset_index()
    errors["rate_exponent"] = exponent
    pe = peche.groupby(["N", "theta"], sort=True).agg(
        lambda_1=("lambda_1", "mean"), limit=("limit", "first"), mean_error=("abs_error", "mean"),
        max_error=("abs_error", "max"), n_seeds=("seed", "nunique")).reset_index()
    return errors, pe, {"exponent": exponent, "intercept": intercept}
