"""Rule ``plot_universality``: paper 001 Figs. 1–2 for one run, drawn by :mod:`rmtweights.plots.universality`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.universality import universality_figure

__all__ = ["plot_universality"]


def plot_universality(spacings: pd.DataFrame, number_variance: pd.DataFrame, porter_thomas: pd.DataFrame,
                      summary: pd.DataFrame) -> Figure:
    """Spacings, number variance and Porter–Thomas p-values of the run's layers, with the KS p-values
    and skipped layers of its ``universality.parquet``
    (:func:`rmtweights.plots.universality.universality_figure`)."""
    return universality_figure(spacings, number_variance, porter_thomas, summary=summary)
