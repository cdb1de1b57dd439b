"""Rule ``plot_spike_counts``: paper 003 App. A for a spike-count sweep, drawn by
:mod:`rmtweights.plots.spike_counts`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.spike_counts import spike_count_figure

__all__ = ["plot_spike_counts"]


def plot_spike_counts(counts: pd.DataFrame, growth: pd.DataFrame) -> Figure:
    """Spikes against the width N with the fitted growth law, from the study's ``spike_counts`` and
    ``spike_growth`` tables (:func:`rmtweights.plots.spike_counts.spike_count_figure`)."""
    return spike_count_figure(counts, growth)
