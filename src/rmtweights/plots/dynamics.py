r"""Spectra through training: s-hat and Ave_w of every layer against the epoch (or step), accuracy beside.

Rule ``plot_dynamics`` (:mod:`rmtweights.stages.plot_dynamics`), one figure per run group, from the
study table ``dynamics``. Per analysed layer, the number of singular values above the Tracy–Widom
threshold :math:`\hat s` (eq. (3) of [1]_) and :math:`\mathrm{Ave}_w` (eq. (6) of [1]_) for each method
with a threshold: the mean over seeds with a band of ± one SD. Beside them the test accuracy (mean ±
SD over seeds), and the overlap of each layer's spike subspace with that of the previous snapshot
(mean squared principal cosine, :mod:`rmtweights.rmt.subspace`) beside the level of independent random
subspaces. Conventions of every figure: :mod:`rmtweights.plots.style`.

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
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from rmtweights.formatting import distinct, run_label
from rmtweights.plots.style import (
    ACCURACY_COLOUR,
    finish,
    layer_name,
    method_style,
    no_data,
    ordered_layers,
    require_columns,
    skipped_notes,
)

__all__ = ["dynamics_figure"]

_AXIS_LABELS = {"epoch": "epoch (0: initial weights)", "step": "training step of the checkpoint"}


def _band(ax, x: np.ndarray, mean: np.ndarray, sd: np.ndarray, colour, low: float, high: float | None,
          **line) -> None:
    """A mean line with markers and a band of ± one SD (where the SD is known), clipped to [low, high]."""
    sd = np.where(np.isfinite(sd), sd, 0.0)
    ax.fill_between(x, np.clip(mean - sd, low, high), np.clip(mean + sd, low, high), color=colour, alpha=0.18, lw=0)
    ax.plot(x, mean, color=colour, ms=4, lw=1.3, **line)


def _series(rows: pd.DataFrame, axis: str, value: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = rows.sort_values(axis)
    mean = rows[f"{value}_mean"].to_numpy(float)
    sd = rows[f"{value}_sd"].to_numpy(float) if f"{value}_sd" in rows else np.zeros_like(mean)
    keep = np.isfinite(mean)
    return rows[axis].to_numpy(float)[keep], mean[keep], sd[keep]


def dynamics_figure(table: pd.DataFrame) -> Figure:
    """The figure of one run group's rows of the ``dynamics`` table (axis ``epoch`` or ``step``).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``study, dataset, model, variant``, the axis (``epoch`` or ``step``), ``layer, n, m,
        method``, ``s_hat_*``, ``ave_w_*``, ``overlap_mean``, ``overlap_random_mean``, ``test_acc_*``
        (mean, sd, n), ``n_seeds``, ``status`` and ``reason``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    axis = "epoch" if "epoch" in table.columns else "step"
    require_columns(table, (axis, "layer", "method", "s_hat_mean", "ave_w_mean", "status"), "dynamics")
    analysed = table[table.status.isin(["ok", "partial"]) & table.s_hat_mean.notna()]
    layers = ordered_layers(analysed)
    methods = list(dict.fromkeys(str(m) for m in analysed.method))
    points = np.sort(table[axis].unique()).astype(float)
    # one grid: a row per layer (s-hat, Ave_w) and a right column split between accuracy and overlap
    grid_rows = 2 * max(len(layers), 1)
    fig = plt.figure(figsize=(13.0, 0.6 + 1.3 * max(grid_rows, 4)))
    grid = GridSpec(grid_rows, 3, figure=fig)
    span = grid_rows // max(len(layers), 1)
    xlabel = _AXIS_LABELS[axis]
    if not layers:
        no_data(fig.add_subplot(grid[:, :2]), "no layer has a spike count: every layer was skipped (notes below)")
    for i, layer in enumerate(layers):
        rows = analysed[analysed.layer == layer]
        ax_s, ax_w = fig.add_subplot(grid[i * span:(i + 1) * span, 0]), fig.add_subplot(grid[i * span:(i + 1) * span, 1])
        for method in methods:
            style = method_style(method)
            line = dict(marker=style["marker"], ls=style["ls"])
            chosen = rows[rows.method == method]
            _band(ax_s, *_series(chosen, axis, "s_hat"), style["color"], 0.0, None, **line, gid=f"s_hat:{layer}:{method}")
            _band(ax_w, *_series(chosen, axis, "ave_w"), style["color"], 0.0, 1.0, **line, gid=f"ave_w:{layer}:{method}")
        name = layer_name(rows.iloc[0].to_dict())
        ax_s.set_title(f"{name}: spikes $\\hat s$", fontsize=9)
        ax_w.set_title(f"{name}: Ave$_w$", fontsize=9)
        ax_s.set_ylabel(r"$\hat s$ (above $\gamma_+$)", fontsize=8)
        ax_s.yaxis.set_major_locator(MaxNLocator(integer=True))
        top = max(1.0, float(np.nanmax(rows.s_hat_mean + rows.s_hat_sd.fillna(0.0))))
        ax_s.set_ylim(-0.05 * top, 1.08 * top)
        ax_w.set_ylabel("Ave$_w$ (mean over spikes)", fontsize=8)
        ax_w.set_ylim(-0.03, 1.03)
        if rows.ave_w_mean.isna().all():
            ax_w.text(0.5, 0.5, "no spikes at any snapshot: Ave$_w$ is undefined", ha="center", va="center",
                      fontsize=8, color="0.3", transform=ax_w.transAxes)
        for ax in (ax_s, ax_w):
            ax.set_xticks(points)
            ax.tick_params(labelsize=7.5)
            if i == len(layers) - 1:
                ax.set_xlabel(xlabel, fontsize=8)
    half = grid_rows // 2
    ax_acc, ax_o = fig.add_subplot(grid[:half, 2]), fig.add_subplot(grid[half:, 2])
    runs = table.drop_duplicates(axis)
    if "test_acc_mean" in runs and runs.test_acc_mean.notna().any():
        _band(ax_acc, *_series(runs, axis, "test_acc"), ACCURACY_COLOUR, 0.0, 1.0, marker="s", ls="-", gid="accuracy")
        ax_acc.set_ylabel("test accuracy (fraction)", fontsize=8)
        ax_acc.set_title("test accuracy (mean ± SD over seeds)", fontsize=9)
        ax_acc.set_xticks(points)
        ax_acc.set_xlabel(xlabel, fontsize=8)
        ax_acc.tick_params(labelsize=7.5)
    else:
        no_data(ax_acc, "no test accuracy: the checkpoints of an external series come without a data set")
    first = next((m for m in methods), None)
    drawn = False
    if first is not None and "overlap_mean" in table:
        colours = {layer: plt.get_cmap("tab10")(j % 10) for j, layer in enumerate(layers)}
        for layer in layers:
            x, mean, sd = _series(analysed[(analysed.layer == layer) & (analysed.method == first)], axis, "overlap")
            if x.size:
                _band(ax_o, x, mean, sd, colours[layer], 0.0, 1.0, marker="o", ls="-", label=layer,
                      gid=f"overlap:{layer}")
                drawn = True
        chance = analysed[analysed.method == first].overlap_random_mean
        if chance.notna().any():
            ax_o.axhline(float(chance.max()), color="0.4", ls=":", lw=1.0,
                         label=f"random level (at most {float(chance.max()):.2g})")
    if drawn:
        ax_o.set_ylim(-0.03, 1.03)
        ax_o.set_xticks(points)
        ax_o.set_xlabel(xlabel, fontsize=8)
        ax_o.set_ylabel(r"mean $\cos^2$ of principal angles", fontsize=8)
        ax_o.set_title(f"spike subspace vs the previous {axis} ({method_style(first)['name']})", fontsize=9)
        ax_o.legend(fontsize=6.5, loc="lower right")
        ax_o.tick_params(labelsize=7.5)
    else:
        no_data(ax_o, "no spike subspace to compare: no two consecutive snapshots of a layer both have spikes")
    handles = [Line2D([], [], color=method_style(m)["color"], ls=method_style(m)["ls"],
                      marker=method_style(m)["marker"], label=f"{method_style(m)['name']} (mean over seeds)")
               for m in methods]
    handles.append(Patch(color="0.5", alpha=0.3, label="± 1 SD over seeds"))
    unanalysed = table[~table.layer.isin(layers)]
    notes = skipped_notes(unanalysed.assign(n=unanalysed.n.where(unanalysed.n > 0), m=unanalysed.m.where(unanalysed.m > 0))
                          if {"n", "m"} <= set(unanalysed.columns) else unanalysed)  # no shape: (0 x 0) says nothing
    seeds = distinct([table], "n_seeds")
    title = (f"Spikes and Ave$_w$ through {'training' if axis == 'epoch' else 'a checkpoint series'}\n"
             f"{run_label(table, keys=('study', 'dataset', 'model', 'variant'))} · seeds: {', '.join(seeds) or 'n/a'}")
    return finish(fig, title, notes=["Layers not analysed: " + "; ".join(notes)] if notes else (), handles=handles)
