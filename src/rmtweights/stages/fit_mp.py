"""Rule ``fit_mp``: per layer and method, sigma-hat, the threshold, s-hat, theta-hat, phi-hat and Ave_w.

Everything that follows from one layer's spectrum and one estimate of :math:`\\sigma` is computed
here, once: the fit row (eqs. (3) and (6) of [1]_, the Gavish–Donoho count at the same
:math:`\\hat\\sigma`), the spikes above the threshold with :math:`\\hat\\theta_i` and
:math:`\\hat\\phi_i` (eq. (4) of [1]_), and the Ave_w curve over a candidate rank ``s`` in both
readings (Fig. 2 of [1]_; :func:`rmtweights.rmt.bbp.ave_w_curve`) that the correlation with the
keep-top-s accuracy needs. Every state of the spectra table is fitted, the random controls of the
pruned layer (:mod:`rmtweights.controls`) included: their curves are what rule ``correlate``
compares the trained weights' correlation with. The study tables built from the fit table
(``table2``, ``compare_<key>``, the spike counts) use the trained weights only.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (3)–(6), Fig. 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.analyze import analyze_spectrum
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA, DEFAULT_BETA
from rmtweights.rmt.bbp import ave_w_curve, curve_k
from rmtweights.stages.common import add_run_keys, layer_groups, skipped_reason

__all__ = ["FIT_COLUMNS", "SPIKE_COLUMNS", "CURVE_COLUMNS", "fit_mp", "fit_tables"]

#: Columns of the fit table, in order.
FIT_COLUMNS: tuple[str, ...] = ("state", "layer", "kind", "reshape", "method", "n", "m", "q", "min_nm", "sigma",
                                "gamma_plus", "s_hat", "ave_w", "gd_threshold", "s_hat_gd", "fraction_mp",
                                "nu_max", "gamma_max", "status", "reason")
#: Columns of the spikes table: one row per singular value above the threshold.
SPIKE_COLUMNS: tuple[str, ...] = ("state", "layer", "method", "index", "gamma", "theta_hat", "phi_hat",
                                  "gamma_plus")
#: Columns of the Ave_w curve (every state: the trained weights and their controls).
CURVE_COLUMNS: tuple[str, ...] = ("state", "layer", "method", "s", "reading", "gamma_plus", "sigma", "ave_w")


def fit_tables(spectra: pd.DataFrame, methods: Sequence[str], *, alpha: float = DEFAULT_ALPHA, a: int = DEFAULT_A,
               beta: float = DEFAULT_BETA, k_fraction: float = 0.2,
               curve: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The fit, spikes and Ave_w-curve tables of one run's spectra (columns :data:`FIT_COLUMNS`,
    :data:`SPIKE_COLUMNS`, :data:`CURVE_COLUMNS`).

    Each row of the fit table is :meth:`rmtweights.analyze.MatrixAnalysis.summary` of
    :func:`rmtweights.analyze.analyze_spectrum` (so the per-matrix API and the workflow give the same
    numbers), plus the layer's keys; a layer without a spectrum gets ``status`` "skipped" and its
    reason for every method. ``s_hat`` and ``s_hat_gd`` are ``<NA>`` where there is no count (a
    row that is not ok, or ``modified_mp``, which fits the bulk's shape and gives no threshold:
    :data:`rmtweights.methods.THRESHOLD_METHODS`); ``fraction_mp`` and the fitted upper
    edge ``nu_max`` are NaN except for ``modified_mp``. The curve runs over
    s = 1..k with k from :func:`rmtweights.rmt.bbp.curve_k`, for every state and layer whose fit is
    ok (``curve=False``: an empty curve table).
    """
    fits, spikes, curves = [], [], []
    for state, layer, group in layer_groups(spectra):
        first = group.iloc[0]
        base = dict(state=state, layer=layer, kind=first.kind, reshape=first.reshape)
        reason = skipped_reason(group)
        for method in methods:
            if reason is not None:
                fits.append(dict(base, method=method, n=int(first.n), m=int(first.m), q=float(first.q),
                                 min_nm=int(first.m), status="skipped", reason=reason))
                continue
            result = analyze_spectrum(group.sv.to_numpy(), int(first.n), int(first.m), method,
                                      alpha=alpha, beta=beta, a=a)
            fits.append(dict(base, min_nm=result.m, **result.summary()))
            if result.status != "ok" or result.s_hat < 0:  # no threshold (modified_mp): no spikes, no curve
                continue
            s = result.s_hat
            if s > 0:
                spikes.append(pd.DataFrame(dict(
                    state=state, layer=layer, method=method, index=np.arange(1, s + 1), gamma=result.gammas[:s],
                    theta_hat=result.theta_hat[:s], phi_hat=result.phi_hat[:s], gamma_plus=result.gamma_plus)))
            k = curve_k(result.m, k_fraction, result.gammas.size)
            if curve and k >= 1:
                rows = ave_w_curve(result.gammas, result.sigma, result.q, result.n, k, beta=beta)
                rows.insert(0, "method", method)
                rows.insert(0, "layer", layer)
                rows.insert(0, "state", state)
                curves.append(rows)
    fit_frame = pd.DataFrame(fits).reindex(columns=list(FIT_COLUMNS))
    fit_frame = fit_frame.astype({"n": "int64", "m": "int64", "min_nm": "int64"})
    for column in ("s_hat", "s_hat_gd"):  # no count (not ok, or no threshold): <NA>, never a number
        fit_frame[column] = fit_frame[column].where(fit_frame[column] >= 0).astype("Int64")
    spike_frame = (pd.concat(spikes, ignore_index=True) if spikes else pd.DataFrame())
    spike_frame = spike_frame.reindex(columns=list(SPIKE_COLUMNS))
    curve_frame = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return fit_frame, spike_frame, curve_frame.reindex(columns=list(CURVE_COLUMNS))


def fit_mp(spectra: pd.DataFrame, run_keys: Mapping[str, Any] | Any, methods: Sequence[str], *, alpha: float,
           a: int, beta: float, k_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rule ``fit_mp``: :func:`fit_tables` of one run's spectra, each table prefixed with the run keys
    (:func:`rmtweights.stages.common.add_run_keys`)."""
    tables = fit_tables(spectra, methods, alpha=alpha, a=a, beta=beta, k_fraction=k_fraction)
    return tuple(add_run_keys(table, run_keys) for table in tables)
