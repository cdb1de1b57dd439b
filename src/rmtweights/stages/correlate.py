"""Rule ``correlate``: Pearson correlation of the Ave_w(s) curve with the keep-top-s accuracy(s) of one layer,
for the trained weights and for their random controls.

Sec. 4 and Fig. 2 of [1]_ report that Ave_w over a candidate rank s tracks the accuracy of the
network that keeps the top s singular values (r = 0.85–0.93). Both curves are cumulative in s and
belong to one network, so their points are not independent: a p-value over s = 1..k would assume
they were. The table reports r only; its spread over seeds is in the study table.

Under the ``implied`` reading Ave_w(s) rises with s for almost any spectrum, so the same accuracy
curve is also correlated with the Ave_w curves of the layer's controls
(:data:`rmtweights.controls.CONTROLS`: the initial weights, a Gaussian matrix of the layer's shape,
the entry-shuffled trained matrix; rule ``extract_spectra`` decomposes them and rule ``fit_mp``
computes their curves). ``trained_advantage`` is the trained weights' r minus the control's r in the
same run, method and reading: the paired difference the study table averages over seeds and the
summary's verdict judges.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Sec. 4, Fig. 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.controls import CONTROLS
from rmtweights.stages.common import add_run_keys

__all__ = ["CORRELATION_COLUMNS", "STATES", "correlate", "correlation_table"]

#: Columns of the correlation table, in order.
CORRELATION_COLUMNS: tuple[str, ...] = ("layer", "state", "method", "reading", "k", "pearson_r", "trained_advantage",
                                        "status", "reason")
#: The states whose Ave_w curve is correlated with the accuracy: the trained weights, then each control.
STATES: tuple[str, ...] = ("trained", *CONTROLS)


def _row(curve: pd.DataFrame, acc: pd.Series, fits: pd.DataFrame, layer: str, state: str, method: str,
         reading: str) -> dict[str, Any]:
    """One (state, method, reading) row: r, or ``status`` "skipped" and why there is none."""
    row = dict(layer=layer, state=state, method=method, reading=reading, k=0, pearson_r=np.nan, status="ok",
               reason="")
    fit = fits[(fits.state == state) & (fits.method == method)]
    if fit.empty:
        row.update(status="skipped", reason=f"no {state} spectrum of {layer} (its controls are decomposed by rule "
                                            "extract_spectra for runs with the prune analysis)")
        return row
    fit = fit.iloc[0]
    group = curve[(curve.state == state) & (curve.method == method) & (curve.reading == reading)]
    merged = group.set_index("s")["ave_w"].to_frame().join(acc, how="inner")
    defined = merged.dropna()
    row["k"] = len(defined)
    if fit.status != "ok":
        what = layer if state == "trained" else f"the {state} control of {layer}"
        row.update(status="skipped", reason=f"no {method} fit for {what}: {fit.reason}")
    elif pd.isna(fit.s_hat):
        row.update(status="skipped", reason=f"{method} gives no threshold (it fits the shape of the bulk), "
                                            "so no Ave_w curve")
    elif len(defined) < 3:
        row.update(status="skipped", reason=f"Ave_w(s) is defined at {len(defined)} of {len(merged)} "
                                            "ranks s; at least 3 are needed")
    elif defined.ave_w.nunique() < 2 or defined.accuracy.nunique() < 2:
        which = "Ave_w(s)" if defined.ave_w.nunique() < 2 else "accuracy(s)"
        row.update(status="skipped", reason=f"{which} is constant over s = 1..{len(merged)}")
    else:
        row["pearson_r"] = float(np.corrcoef(defined.ave_w, defined.accuracy)[0, 1])
    return row


def correlation_table(curve: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame, layer: str) -> pd.DataFrame:
    """One row per state of :data:`STATES`, method and reading (``fixed``, ``implied``): Pearson r of
    Ave_w(s) and the keep-top-s accuracy(s) of the trained network, the same accuracy for every state.

    Every method of the trained fits gets its rows; where r cannot be computed the row says why
    (``status`` "skipped" and a ``reason``: no spectrum of that state, no fit for the layer, fewer than
    3 common points, or a curve that is constant or undefined). ``trained_advantage`` is the trained
    row's r minus this row's r (NaN on the trained rows, and where either r is missing).
    """
    acc = accuracy.set_index("s")["accuracy"]
    layer_fits = fits[fits.layer == layer]
    layer_curve = curve[curve.layer == layer]
    methods = layer_fits[layer_fits.state == "trained"].method.unique()
    rows = [_row(layer_curve, acc, layer_fits, layer, state, method, reading)
            for state in STATES for method in methods for reading in ("fixed", "implied")]
    table = pd.DataFrame(rows)
    if table.empty:
        return table.reindex(columns=list(CORRELATION_COLUMNS))
    trained = table[table.state == "trained"].set_index(["method", "reading"]).pearson_r
    reference = trained.reindex(pd.MultiIndex.from_frame(table[["method", "reading"]])).to_numpy()
    table["trained_advantage"] = np.where(table.state == "trained", np.nan, reference - table.pearson_r)
    return table.reindex(columns=list(CORRELATION_COLUMNS))


def correlate(curve: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame, layer: str,
              run_keys: Mapping[str, Any] | Any) -> pd.DataFrame:
    """Rule ``correlate``: :func:`correlation_table` of one run, prefixed with the run keys."""
    return add_run_keys(correlation_table(curve, accuracy, fits, layer), run_keys)
