"""Rule ``plot_spectrum``: paper 000 Fig. 1 for one run, drawn by :mod:`rmtweights.plots.spectrum`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.spectrum import spectrum_figure

__all__ = ["plot_spectrum"]


def plot_spectrum(spectra: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """The run's spectra against the MP law, from its ``spectra.parquet`` and ``mp_fit.parquet``
    (:func:`rmtweights.plots.spectrum.spectrum_figure`)."""
    return spectrum_figure(spectra, fits)
