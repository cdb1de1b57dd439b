"""Rule ``plot_spectrum``: paper 000 Fig. 1 for one run, in figures of bounded size, and the run's overview.

A run's layers are drawn by :func:`rmtweights.plots.spectrum.spectrum_pages`, at most
:data:`~rmtweights.plots.spectrum.PANELS_PER_PAGE` panels a page, so that a model of many layers
gives several pages of one size instead of one figure of its height; the per-layer overview
(:func:`rmtweights.plots.overview.overview_figure`: ŝ/min(n, m), σ̂, Ave_w, γ_max/γ₊ per layer in the
model's order) comes first. ``spectrum.png`` is the first page, ``spectrum_overview.png`` the
overview, ``spectrum.pdf`` the overview and every page.
"""

from __future__ import annotations

import os

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.overview import overview_figure
from rmtweights.plots.spectrum import spectrum_pages

__all__ = ["spectrum_figures", "plot_spectrum"]


def spectrum_figures(spectra: pd.DataFrame, fits: pd.DataFrame) -> tuple[Figure, list[Figure]]:
    """The run's overview and its pages of spectra against the MP law, from its ``spectra.parquet`` and
    ``mp_fit.parquet``."""
    return overview_figure(fits), spectrum_pages(spectra, fits)


def plot_spectrum(spectra: pd.DataFrame, fits: pd.DataFrame, *, png: str | os.PathLike,
                  overview_png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Rule ``plot_spectrum``: :func:`spectrum_figures`, written as the first page (PNG), the overview (PNG)
    and all of them (one PDF, the overview first), each atomically; the figures are closed."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from rmtweights import io

    overview, pages = spectrum_figures(spectra, fits)
    try:
        with io.atomic_path(png, suffix=".png") as tmp:
            pages[0].savefig(tmp, dpi=150, format="png")
        with io.atomic_path(overview_png, suffix=".png") as tmp:
            overview.savefig(tmp, dpi=150, format="png")
        with io.atomic_path(pdf, suffix=".pdf") as tmp, PdfPages(tmp) as document:
            for figure in [overview, *pages]:
                document.savefig(figure)
    finally:
        for figure in [overview, *pages]:
            plt.close(figure)
