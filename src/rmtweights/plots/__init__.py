"""Figures of the study: one module per figure, each returning a matplotlib figure unsaved.

Each figure takes tidy frames as written by :mod:`rmtweights.stages` (one run, or one study) and
returns a :class:`matplotlib.figure.Figure`; the rules' adapters in ``scripts/`` save it as PNG and
PDF through a stage module named like the rule (``rmtweights.stages.plot_spectrum``, ...).

* :mod:`~rmtweights.plots.spectrum`: paper 000 Fig. 1, ``spectrum_figure``;
* :mod:`~rmtweights.plots.avew_accuracy`: paper 000 Fig. 2, ``avew_accuracy_figure``;
* :mod:`~rmtweights.plots.comparison`: paper 000 Fig. 3, ``comparison_figure``;
* :mod:`~rmtweights.plots.universality`: paper 001 Figs. 1–2, ``universality_figure``;
* :mod:`~rmtweights.plots.spike_counts`: paper 003 App. A, ``spike_count_figure``;
* :mod:`~rmtweights.plots.wigner_error`: paper 003 Theorem 2.2, ``wigner_error_figure``;
* :mod:`~rmtweights.plots.style`: what every figure shares (colours, method styles, titles, notes).

A rule's code fingerprint is the import closure of its stage module (:mod:`rmtweights.provenance`),
so this initialiser imports no module of the package: editing one figure redraws that figure only.
"""

import matplotlib

matplotlib.use("Agg")  # headless: figures are written to files only
