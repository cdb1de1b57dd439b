"""Rule ``correlate``: Pearson correlation of the Ave_w(s) curve with the keep-top-s accuracy(s) of one layer.

Sec. 4 and Fig. 2 of [1]_ report that Ave_w over a candidate rank s tracks the accuracy of the
network that keeps the top s singular values (r = 0.85–0.93). Both curves are cumulative in s and
belong to one network, so their points are not independent: a p-value over s = 1..k would assume
they were. The table reports r only; its spread over seeds is in the study table.

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

from rmtweights.stages.common import add_run_keys

__all__ = ["CORRELATION_COLUMNS", "correlate", "correlation_table"]

CORRELATION_COLUMNS: tuple[str, ...] = ("layer", "method", "reading", "k", "pearson_r", "status", "reason")


def correlation_table(curve: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame, layer: str) -> pd.DataFrame:
    """One row per method and reading (``fixed``, ``implied``): Pearson r of Ave_w(s) and accuracy(s).

    Every method of ``fits`` gets its rows; where r cannot be computed the row says why (``status``
    "skipped" and a ``reason``: no fit for the layer, fewer than 3 common points, or a curve that
    is constant or undefined).
    """
    acc = accuracy.set_index("s")["accuracy"]
    trained = fits[(fits.state == "trained") & (fits.layer == layer)]
    rows = []
    for method in trained.method.unique():
        fit = trained[trained.method == method].iloc[0]
        for reading in ("fixed", "implied"):
            row = dict(layer=layer, method=method, reading=reading, k=0, pearson_r=np.nan, status="ok", reason="")
            group = curve[(curve.layer == layer) & (curve.method == method) & (curve.reading == reading)]
            merged = group.set_index("s")["ave_w"].to_frame().join(acc, how="inner")
            defined = merged.dropna()
            row["k"] = len(defined)
            if fit.status != "ok":
                row.update(status="skipped", reason=f"no {method} fit for {layer}: {fit.reason}")
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
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(CORRELATION_COLUMNS))


def correlate(curve: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame, layer: str,
              run_keys: Mapping[str, Any] | Any) -> pd.DataFrame:
    """Rule ``correlate``: :func:`correlation_table` of one run, prefixed with the run keys."""
    return add_run_keys(correlation_table(curve, accuracy, fits, layer), run_keys)
