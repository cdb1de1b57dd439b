r"""Paper 003 App. A: spikes above the MP threshold against the layer width N, with the growth law.

Rule ``plot_spike_counts`` (:mod:`rmtweights.stages.plot_spike_counts`). Conventions of every
figure: :mod:`rmtweights.plots.style`.

References
----------
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Assumption 2, App. A.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rmtweights.formatting import distinct, number, run_label
from rmtweights.plots.style import (
    ACCURACY_COLOUR,
    finish,
    method_style,
    ok_rows,
    ordered_layers,
    require_columns,
    skipped_notes,
)

__all__ = ["spike_count_figure"]

def spike_count_figure(counts: pd.DataFrame, growth: pd.DataFrame) -> Figure:
    r"""Paper 003 App. A: spikes (singular values above :math:`\gamma_+`) against the width N.

    Left: each layer's spike count per method (mean over seeds; bars span the seeds' minimum to
    maximum, so they never go below zero), with the growth law :math:`r(N) = c N^\kappa` fitted to
    the N × N layer ([3]_, Assumption 2) when it could be fitted. Middle: the fraction of singular
    values in the bulk, :math:`1 - \hat s/m`. Right: the final test accuracy per N (mean ± SD over
    seeds, clipped to [0, 1]). Methods are told apart by line style and marker (BEMA solid
    circles, GB dashed open squares) and by a small horizontal offset, so equal counts stay
    visible; a note under the figure says so and how large the offset is.

    Parameters
    ----------
    counts : pandas.DataFrame
        The study's spike-count table (``N, layer, method, spikes_mean, spikes_min, spikes_max,
        bulk_fraction_mean, test_acc_mean, test_acc_sd, n_seeds, status, reason`` and
        ``study, dataset, model``).
    growth : pandas.DataFrame
        One growth-law fit per method (``method, layer, status, reason, kappa, c``, optionally
        ``kappa_ci_low, kappa_ci_high``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(counts, ("N", "layer", "method", "spikes_mean"), "counts")
    require_columns(growth, ("method", "status"), "growth")
    fig, (ax, ax_bulk, ax_acc) = plt.subplots(1, 3, figsize=(15.0, 4.4), gridspec_kw=dict(width_ratios=[1.5, 1, 1]))
    notes: list[str] = []
    good = counts[ok_rows(counts) | counts.spikes_mean.notna()] if len(counts) else counts
    layers = ordered_layers(good)
    methods = list(dict.fromkeys(str(m) for m in good.method)) if len(good) else []
    Ns = np.sort(counts.N.unique()).astype(float) if len(counts) else np.array([])
    gap = float(np.min(np.diff(Ns))) if Ns.size > 1 else max(float(Ns[0]) if Ns.size else 1.0, 1.0) * 0.2
    series = [(layer, method) for layer in layers for method in methods]
    dx = 0.5 * gap / max(len(series), 1)
    layer_colours = {layer: plt.get_cmap("tab10")(i % 10) for i, layer in enumerate(layers)}
    for j, (layer, method) in enumerate(series):
        rows = good[(good.layer == layer) & (good.method == method)].sort_values("N")
        rows = rows[rows.spikes_mean.notna()]
        if rows.empty:
            continue
        style = method_style(method)
        x = rows.N.to_numpy(float) + (j - (len(series) - 1) / 2) * dx
        mean = rows.spikes_mean.to_numpy(float)
        if {"spikes_min", "spikes_max"} <= set(rows.columns):
            low = rows.spikes_min.to_numpy(float)
            high = rows.spikes_max.to_numpy(float)
            low = np.where(np.isfinite(low), low, mean)
            high = np.where(np.isfinite(high), high, mean)
        else:  # older tables: mean ± SD, cut at zero
            sd = rows.spikes_sd.fillna(0).to_numpy(float)
            low, high = np.clip(mean - sd, 0.0, None), mean + sd
        yerr = np.vstack([np.clip(mean - low, 0.0, None), np.clip(high - mean, 0.0, None)])
        colour = layer_colours[layer]
        filled = style["ls"] == "-"
        ax.errorbar(x, mean, yerr=yerr, color=colour, ls=style["ls"], marker=style["marker"], ms=5,
                    mfc=colour if filled else "white", lw=1.2, capsize=3,
                    label=f"{layer}, {style['name']}", gid=f"spikes:{layer}:{method}")
        bulk = rows.bulk_fraction_mean.to_numpy(float) if "bulk_fraction_mean" in rows.columns else None
        if bulk is not None:
            ax_bulk.plot(x, bulk, color=colour, ls=style["ls"], marker=style["marker"], ms=5,
                         mfc=colour if filled else "white", lw=1.2, label=f"{layer}, {style['name']}")
    fit_grid = np.linspace(Ns.min(), Ns.max(), 200) if Ns.size else np.array([])
    for fit in (growth.itertuples() if len(growth) else []):
        name = method_style(str(fit.method))["name"]
        kappa, c = number(getattr(fit, "kappa", math.nan)), number(getattr(fit, "c", math.nan))
        status = str(getattr(fit, "status", "ok"))
        if status == "ok" and math.isfinite(kappa) and math.isfinite(c) and fit_grid.size:
            lo_ci = number(getattr(fit, "kappa_ci_low", math.nan))
            hi_ci = number(getattr(fit, "kappa_ci_high", math.nan))
            level = number(getattr(fit, "level", math.nan))
            ci_name = f"{100 * level:.0f}% CI" if math.isfinite(level) else "CI"
            ci = (f", {ci_name} [{lo_ci:.2f}, {hi_ci:.2f}]" if math.isfinite(lo_ci) and math.isfinite(hi_ci)
                  else "")
            law = c * fit_grid ** kappa  # Assumption 2 of [3]
            ax.plot(fit_grid, law, color="k", ls=method_style(str(fit.method))["ls"], lw=0.9,
                    label=rf"fit $r = c N^\kappa$ to {fit.layer} (the N×N layer), {name}: c = {c:.3g}, "
                          rf"$\kappa$ = {kappa:.2f}{ci}",
                    gid=f"growth:{fit.method}")
        else:
            notes.append(f"Growth law r = c N^κ for {name}" + (f" ({fit.layer})" if str(fit.layer) else "")
                         + f" not fitted: {getattr(fit, 'reason', '') or status}")
    ax.set_xlabel("layer width N (the variant's hidden size; points drawn beside their N, see note)", fontsize=8.5)
    ax.set_ylabel(r"spikes $\hat s$: singular values above $\gamma_+$", fontsize=8.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    top = max(1.0, float(np.nanmax(good.spikes_max)) if len(good) and "spikes_max" in good.columns
              and good.spikes_max.notna().any() else 1.0)
    ax.set_ylim(-0.04 * top - 0.1, 1.12 * top + 0.3)
    ax.set_title("spike count (marker: mean over seeds; bar: seeds' min–max)", fontsize=9)
    # below the panel: inside it the legend would hide the counts
    ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax_bulk.set_xlabel("layer width N (points drawn beside their N, see note)", fontsize=8.5)
    ax_bulk.set_ylabel(r"bulk fraction $1 - \hat s/m$ (mean over seeds)", fontsize=8.5)
    ax_bulk.set_title("fraction of singular values in the MP bulk", fontsize=9)
    if ax_bulk.lines:
        ax_bulk.legend(fontsize=6.5, loc="best", ncol=1 if len(series) < 8 else 2)
    # accuracy per N (one value per N: the same runs for every layer)
    if len(counts) and "test_acc_mean" in counts.columns:
        per_n = counts.drop_duplicates("N").sort_values("N")
        mean = per_n.test_acc_mean.to_numpy(float)
        sd = per_n.test_acc_sd.to_numpy(float) if "test_acc_sd" in per_n.columns else np.zeros_like(mean)
        sd = np.where(np.isfinite(sd), sd, 0.0)
        yerr = np.vstack([mean - np.clip(mean - sd, 0.0, None), np.clip(mean + sd, None, 1.0) - mean])
        ax_acc.errorbar(per_n.N, mean, yerr=yerr, color=ACCURACY_COLOUR, marker="s", ms=5, lw=1.2, capsize=3,
                        label="final test accuracy (mean ± SD over seeds)", gid="accuracy")
        ax_acc.legend(fontsize=6.5, loc="lower right")
    ax_acc.set_xlabel("layer width N", fontsize=8.5)
    ax_acc.set_ylabel("test accuracy (fraction)", fontsize=8.5)
    ax_acc.set_title("test accuracy of the trained networks", fontsize=9)
    for a in (ax, ax_bulk, ax_acc):
        a.tick_params(labelsize=7.5)
        if Ns.size:
            a.set_xticks(Ns)
            a.set_xlim(Ns.min() - 0.6 * gap, Ns.max() + 0.6 * gap)
    if len(series) > 1 and Ns.size:
        notes.append(f"The points of the {len(series)} layer-method series are drawn side by side, up to "
                     f"±{(len(series) - 1) / 2 * dx:.3g} from their N (the tick), so that equal counts stay visible; "
                     "every point belongs to the N of the nearest tick.")
    skipped = skipped_notes(counts, by=("layer",))
    if skipped:
        notes.insert(0, "Layers not analysed: " + "; ".join(skipped))
    seeds = distinct([counts], "n_seeds")
    variants = ", ".join(f"N = {int(n)}" for n in Ns)
    title = (f"Spikes above the MP threshold against layer width (paper 003 App. A)\n"
             f"{run_label(counts, keys=('study', 'dataset', 'model'))} · variants {variants or 'none'} · "
             f"seeds per N: {', '.join(seeds) or 'n/a'} · state: trained weights")
    return finish(fig, title, notes=notes)
