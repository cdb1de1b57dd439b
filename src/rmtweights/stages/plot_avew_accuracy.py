"""Rule ``plot_avew_accuracy``: paper 000 Fig. 2 for one run, drawn by :mod:`rmtweights.plots.avew_accuracy`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.avew_accuracy import avew_accuracy_figure

__all__ = ["plot_avew_accuracy"]


def plot_avew_accuracy(curve: pd.DataFrame, prune: pd.DataFrame, fits: pd.DataFrame, layer: str) -> Figure:
    """Ave_w and the keep-top-s accuracy of the run's pruned ``layer`` against s, from its
    ``avew_curve.parquet``, ``prune.parquet`` and ``mp_fit.parquet``
    (:func:`rmtweights.plots.avew_accuracy.avew_accuracy_figure`)."""
    return avew_accuracy_figure(curve, prune, fits, layer)
