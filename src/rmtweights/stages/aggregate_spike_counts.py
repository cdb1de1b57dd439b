"""Rule ``aggregate_spike_counts``: spikes versus N and the growth law r(N) = c N^kappa (paper 003, App. A).

Afanasiev, Berlyand and Kiyashko [1]_ (App. A) train a 784 x N, N x N, N x 10 network for N = 200
... 3000 and count the singular values of the N x N layer above the MP threshold; their theory
(Assumption 2) needs the count r(N) to grow without bound but slower than N.

References
----------
.. [1] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Assumption 2, App. A.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rmtweights.methods import THRESHOLD_METHODS
from rmtweights.stages.common import RUN_COLUMNS
from rmtweights.stages.over_seeds import final_epochs, mean_sd, status_over_seeds
from rmtweights.sweeps.growth_law import fit_growth_law, fit_growth_law_log_ls

__all__ = ["SPIKE_METHODS", "spike_count_tables"]

#: The thresholds whose spike counts are fitted (the estimators that give paper 000's threshold).
SPIKE_METHODS = THRESHOLD_METHODS


def spike_count_tables(fits: pd.DataFrame, training: pd.DataFrame,
                       widths: Mapping[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spike counts per N, layer and method, and one growth-law row per method.

    Returns the counts (``spikes`` = s-hat mean, SD and seeds; ``bulk_fraction`` = 1 − s-hat/m; test
    accuracy; the seeds' range ``spikes_min``, ``spikes_max``; status and reason over seeds) and the fits of
    :func:`rmtweights.sweeps.growth_law.fit_growth_law` (the count model) to the N x N layer's counts
    (``status`` "skipped" with the reason when they cannot be fitted, e.g. no spikes at any N), with the
    secondary log-LS estimate of :func:`~rmtweights.sweeps.growth_law.fit_growth_law_log_ls` in the
    ``ls_kappa, ls_kappa_ci_low, ls_kappa_ci_high, ls_c`` columns.
    """
    trained = fits[(fits.state == "trained") & fits.method.isin(SPIKE_METHODS)].copy()
    trained["N"] = trained.variant.map(widths).astype(int)
    ok = trained.status == "ok"
    trained["spikes"] = trained.s_hat.where(ok).astype(float)
    trained["bulk_fraction"] = 1.0 - trained.spikes / trained.m
    trained = trained.merge(final_epochs(training)[list(RUN_COLUMNS) + ["test_acc"]], on=list(RUN_COLUMNS), how="left")
    by = ["study", "dataset", "model", "N", "layer", "method"]
    counts = mean_sd(trained, by, ["spikes", "bulk_fraction", "test_acc"])
    seed_range = trained.groupby(by, sort=True, dropna=False).spikes.agg(spikes_min="min", spikes_max="max")
    counts = counts.merge(seed_range.reset_index(), on=by, how="left")
    counts = counts.merge(status_over_seeds(trained, by), on=by, how="left")
    square = trained[(trained.n == trained.m) & (trained.status == "ok")]
    growth = []
    for method in SPIKE_METHODS:
        group = square[square.method == method]
        row = dict(method=method, layer=str(group.layer.iloc[0]) if len(group) else "", status="ok", reason="")
        try:
            row.update(fit_growth_law(group[["N", "seed", "spikes"]]))
        except ValueError as err:  # e.g. no spikes at all on a short grid: say so, do not fail the study
            row.update(status="skipped", reason=str(err), kappa=np.nan, c=np.nan)
        try:  # the secondary estimate: least squares on the log counts of the rows with spikes
            ls = fit_growth_law_log_ls(group[["N", "seed", "spikes"]])
            row.update({f"ls_{key}": ls[key] for key in ("kappa", "kappa_ci_low", "kappa_ci_high", "c")})
        except ValueError:
            row.update(ls_kappa=np.nan, ls_kappa_ci_low=np.nan, ls_kappa_ci_high=np.nan, ls_c=np.nan)
        growth.append(row)
    return counts, pd.DataFrame(growth)
