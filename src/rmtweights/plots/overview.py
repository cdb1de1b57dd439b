r"""A model at a glance: per layer, in the model's order, what the spectral analysis found.

One column of panels over the layers (x axis: the layers in the order of the table, i.e. the
checkpoint's), one line per method:

* :math:`\hat s / \min(n, m)`, the fraction of singular values above the threshold :math:`\gamma_+`
  (eq. (3) of [1]_);
* :math:`\hat\sigma`, the noise level of the bulk;
* Ave_w, the mean overlap of the spikes' singular vectors with the signal (eq. (6) of [1]_);
* :math:`\alpha`, the power-law exponent of the singular values' tail (when the table has it);
* :math:`\gamma_{\max}/\gamma_+`: how far the largest singular value lies beyond the threshold
  (1 on the dashed line: nothing above it).

The figure's size is bounded whatever the number of layers: its width grows with the layers up to
:data:`MAX_WIDTH` inches, and the layer names on the x axis are thinned to at most :data:`MAX_LABELS`.
Drawn for :func:`rmtweights.api.analyze_model`'s table (the report, :mod:`rmtweights.report`) and a
workflow run's fit table (rule ``plot_spectrum``).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (3), (6).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rmtweights.formatting import run_label
from rmtweights.methods import THRESHOLD_METHODS
from rmtweights.plots.style import finish, method_style, no_data, ok_rows, ordered_layers, require_columns

__all__ = ["MAX_WIDTH", "MAX_LABELS", "overview_figure"]

#: Widest the overview gets, inches.
MAX_WIDTH = 16.0
#: Most layer names written on the x axis.
MAX_LABELS = 60


def _panels(frame: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """``(column, y label, threshold methods only)`` of each panel the table can fill."""
    panels = [("s_fraction", r"$\hat s\,/\,\min(n, m)$", True), ("sigma", r"$\hat\sigma$", False),
              ("ave_w", "Ave$_w$", True)]
    if "alpha_sv" in frame.columns and frame["alpha_sv"].notna().any():
        panels.append(("alpha_sv", r"$\alpha$ (tail of the $s_i$)", False))
    panels.append(("edge_ratio", r"$\gamma_{\max}/\gamma_+$", True))
    return panels


def overview_figure(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """The per-layer overview of one model (module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per layer and method: :func:`rmtweights.api.analyze_model`'s output or a run's
        ``mp_fit.parquet`` (columns ``layer, method, n, m, sigma, gamma_plus, s_hat, ave_w, gamma_max,
        status``; ``state`` and ``alpha_sv`` when present). Only the trained weights' analysed rows are drawn.
    title : str, optional
        The figure's title (default: what it shows and the run keys).

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(table, ("layer", "method", "m", "sigma", "gamma_plus", "s_hat", "ave_w", "gamma_max"), "table")
    frame = table[ok_rows(table)] if len(table) else table
    if "state" in frame.columns:
        frame = frame[frame["state"] == "trained"]
    layers = ordered_layers(frame)
    frame = frame.assign(
        s_fraction=pd.to_numeric(frame["s_hat"], errors="coerce").astype(float) / frame["m"].astype(float),
        edge_ratio=frame["gamma_max"].astype(float) / frame["gamma_plus"].astype(float))
    panels = _panels(frame)
    width = min(MAX_WIDTH, max(7.0, 2.5 + 0.16 * len(layers)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(width, 1.55 * len(panels) + 0.9), sharex=True, squeeze=False)
    axes = list(axes[:, 0])
    position = {layer: i for i, layer in enumerate(layers)}
    methods = list(dict.fromkeys(frame["method"])) if len(frame) else []
    handles = {}
    for ax, (column, label, threshold_only) in zip(axes, panels):
        for method in methods:
            if threshold_only and method not in THRESHOLD_METHODS:
                continue
            if column == "alpha_sv" and method != methods[0]:
                continue  # one value per layer, whatever the method
            rows = frame[frame["method"] == method]
            x = rows["layer"].map(position).to_numpy(dtype=float)
            y = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
            style = method_style(method) if column != "alpha_sv" else dict(name="power law", color="0.25", ls="-",
                                                                             marker="o")
            line, = ax.plot(x, y, color=style["color"], ls=style["ls"] if len(layers) < 40 else "none",
                            marker=style["marker"], ms=3.5, lw=1.0, label=style["name"], gid=f"{column}:{method}")
            handles.setdefault(style["name"], line)
        if column == "edge_ratio":
            ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
        ax.set_ylabel(label, fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        ax.grid(axis="y", color="0.9", lw=0.6)
    if not layers:
        no_data(axes[0], "no layer of this model was analysed")
    step = max(1, int(np.ceil(len(layers) / MAX_LABELS)))
    ticks = list(range(0, len(layers), step))
    axes[-1].set_xticks(ticks)
    axes[-1].set_xticklabels([layers[i].replace("$", r"\$") for i in ticks], rotation=90, fontsize=6.5 if len(layers) > 20 else 7.5)
    axes[-1].set_xlabel("layer, in the model's order" + (f" (every {step}th named)" if step > 1 else ""), fontsize=8.5)
    if layers:
        axes[-1].set_xlim(-0.6, len(layers) - 0.4)
    if title is None:
        title = (f"Per-layer overview: {len(layers)} analysed layers\n{run_label(table)} · state: trained weights")
    return finish(fig, title, handles=list(handles.values()), ncol=max(1, min(4, len(handles))))
