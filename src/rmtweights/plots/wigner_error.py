r"""Paper 003 Theorem 2.2: the deformed-Wigner outlier error against N on log–log axes.

Rule ``summarise_wigner_outliers`` (:mod:`rmtweights.stages.summarise_wigner_outliers`).
Conventions of every figure: :mod:`rmtweights.plots.style`.

References
----------
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, eqs. (1.9), (2.5), Theorem 2.2.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from rmtweights.formatting import distinct, number
from rmtweights.plots.style import (
    finish,
    require_columns,
)

__all__ = ["wigner_error_figure"]

def wigner_error_figure(summary: pd.DataFrame, rate: dict | None = None) -> Figure:
    r"""Paper 003 Theorem 2.2: outlier error against N on log–log axes.

    For the deformed Wigner matrix :math:`W = R/\sqrt N + S` with r spikes, the error
    :math:`|\lambda_j(W) - \Phi(\lambda_j(S))|` (eq. (2.5) of [3]_) is shown as its maximum and
    mean over the spikes (each averaged over seeds), with the log–log least-squares fit
    :math:`\mathrm{err} \propto N^{\text{rate}}` of the mean error and the reference slope
    :math:`N^{-1/2}` (finite-rank fluctuations) through the first mean-error point.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per N: ``N, max_error, mean_error``, optionally ``r``, ``n_seeds``, ``rate_exponent``.
    rate : dict, optional
        ``{"exponent", "intercept"}`` of the fit (natural log); default: ``rate_exponent`` of the
        summary, through the geometric mean of the mean errors.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(summary, ("N", "max_error", "mean_error"), "summary")
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    agg = summary.groupby("N", sort=True)[["max_error", "mean_error"]].mean().reset_index()
    Ns = agg.N.to_numpy(float)
    positive = (agg.max_error > 0) & (agg.mean_error > 0)
    agg = agg[positive]
    Ns = agg.N.to_numpy(float)
    ax.loglog(Ns, agg.max_error, "o-", color="tab:blue", lw=1.3, label="max error over the r spikes", gid="max")
    ax.loglog(Ns, agg.mean_error, "s-", color="tab:orange", lw=1.3, label="mean error over the r spikes",
              gid="mean")
    exponent = number((rate or {}).get("exponent", math.nan))
    intercept = number((rate or {}).get("intercept", math.nan))
    if not math.isfinite(exponent) and "rate_exponent" in summary.columns and len(summary):
        exponent = number(summary.rate_exponent.iloc[0])
    if math.isfinite(exponent) and Ns.size:
        if not math.isfinite(intercept):
            intercept = float(np.mean(np.log(agg.mean_error)) - exponent * np.mean(np.log(Ns)))
        ax.loglog(Ns, np.exp(intercept) * Ns ** exponent, "k--", lw=1.0,
                  label=rf"fit to the mean error: $\propto N^{{{exponent:.2f}}}$", gid="fit")
    if Ns.size:
        anchor = float(agg.mean_error.iloc[0])
        ax.loglog(Ns, anchor * (Ns / Ns[0]) ** -0.5, color="0.5", ls=":", lw=1.4,  # reference slope only
                  label=r"reference slope $N^{-1/2}$ (through the first mean error)", gid="reference")
    if "r" in summary.columns:
        rs = summary.groupby("N", sort=True).r.first()
        for N, y in zip(Ns, agg.max_error):
            if N in rs.index:
                ax.annotate(f"r={int(rs[N])}", (N, y), textcoords="offset points", xytext=(0, 6), ha="center",
                            fontsize=7, color="tab:blue")
    if 0 < Ns.size <= 8:
        ax.set_xticks(Ns, [str(int(N)) for N in Ns])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("matrix size N (log scale)", fontsize=9)
    ax.set_ylabel(r"outlier error $|\lambda_j(W) - \Phi(\lambda_j(S))|$ (log scale)", fontsize=9)
    ax.set_title(r"deformed Wigner matrix $W = R/\sqrt{N} + S$ with r spikes", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    seeds = distinct([summary], "n_seeds")
    rs_all = distinct([summary], "r")
    title = ("Outlier error against N (paper 003 Theorem 2.2)\n"
             f"synthetic sweep (no network) · r = {', '.join(rs_all) or 'n/a'} spikes · "
             f"seeds per N: {', '.join(seeds) or 'n/a'}")
    notes = [r"Error of eq. 2.5: eigenvalue $\lambda_j(W)$ minus its prediction $\Phi(\lambda_j(S))$ of eq. 1.9, "
             "averaged over seeds; the fitted rate uses every (N, seed) mean error."]
    if np.unique(Ns).size == 2 and distinct([summary], "n_seeds") == ["1"]:
        notes.append("With two sizes and one seed the fitted line passes through both mean errors.")
    return finish(fig, title, notes=notes, title_size=10.5)
