"""Rule ``plot_comparison``: paper 000 Fig. 3 for a study's variants, drawn by :mod:`rmtweights.plots.comparison`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.comparison import comparison_figure

__all__ = ["plot_comparison"]


def plot_comparison(spectra: pd.DataFrame, fits: pd.DataFrame, table: pd.DataFrame, key: str,
                    layer: str | None) -> Figure:
    """One layer's spectrum per variant beside the variants' test accuracy, from the spectra and fit
    tables of every run of the study and its ``compare_<key>`` table
    (:func:`rmtweights.plots.comparison.comparison_figure`)."""
    return comparison_figure(spectra, fits, key, table=table, layer=layer)
