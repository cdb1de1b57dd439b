r"""Paper 000 Fig. 3: one layer's spectrum for each variant of a study, beside test accuracy.

Rule ``plot_comparison`` (:mod:`rmtweights.stages.plot_comparison`). Conventions of every figure:
:mod:`rmtweights.plots.style`.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (2)–(3), Fig. 3.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rmtweights.formatting import natural_key, number, run_label
from rmtweights.plots.style import (
    ACCURACY_COLOUR,
    GAMMA_LABEL,
    TRAINED_FILL,
    count_text,
    finish,
    method_style,
    no_data,
    ok_rows,
    ordered_layers,
    require_columns,
    skipped_notes,
    x_range,
)

__all__ = ["comparison_figure"]

def comparison_figure(spectra: pd.DataFrame, fits: pd.DataFrame, key: str, layer: str | None = None, *,
                      table: pd.DataFrame | None = None, method: str = "bema") -> Figure:
    r"""Paper 000 Fig. 3: one layer's spectrum for each variant of a study, beside test accuracy.

    One row per (dataset, model); one panel per variant with the trained singular values of the
    layer pooled over seeds (histogram normalised by their number), the MP density at each seed's
    :math:`\hat\sigma` of ``method`` (dashed) and its threshold :math:`\gamma_+` of eq. (3) of [1]_
    (solid), labelled with :math:`\hat s` per seed; the last panel of the row shows the variants'
    test accuracy (mean ± SD over seeds, from ``table``).

    Parameters
    ----------
    spectra, fits : pandas.DataFrame
        The spectra and fit tables of every run of the study (all variants and seeds).
    key : str
        The compared setting (e.g. ``batch_size``), for the title and the accuracy axis.
    layer : str, optional
        The layer to show; default: for each model, its first layer with a spectrum.
    table : pandas.DataFrame, optional
        The study's comparison table (``compare_<key>.parquet``; columns ``dataset, model, variant,
        test_acc_mean, test_acc_sd, test_acc_n``). Without it the accuracy panel is left out.
    method : str
        The threshold method drawn (BEMA in the paper).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rmtweights.rmt.mp import mp_pdf

    require_columns(spectra, ("dataset", "model", "variant", "seed", "state", "layer", "gamma", "q"), "spectra")
    require_columns(fits, ("dataset", "model", "variant", "seed", "state", "layer", "method", "sigma", "gamma_plus",
                    "s_hat"), "fits")
    require_columns(table, ("dataset", "model", "variant", "test_acc_mean"), "table")
    ok = spectra[ok_rows(spectra) & (spectra.state == "trained")] if len(spectra) else spectra
    models = sorted({(str(d), str(m)) for d, m in zip(ok.dataset, ok.model)}, key=natural_key) if len(ok) else []
    variants = {dm: sorted({str(v) for v in ok[(ok.dataset == dm[0]) & (ok.model == dm[1])].variant},
                           key=natural_key) for dm in models}
    n_cols = max([len(v) for v in variants.values()] + [1]) + (1 if table is not None else 0)
    fig, grid = plt.subplots(max(1, len(models)), n_cols, figsize=(4.0 * n_cols, 3.4 * max(1, len(models))),
                             squeeze=False)
    style = method_style(method)
    notes: list[str] = []
    legend: dict[str, object] = {}
    for row_axes, (dataset, model) in zip(grid, models):
        rows_m = ok[(ok.dataset == dataset) & (ok.model == model)]
        layers_m = ordered_layers(rows_m)
        chosen = layer if layer in layers_m else layers_m[0]
        if layer is not None and layer not in layers_m:
            notes.append(f"{model}: layer {layer} has no spectrum; showing {chosen}.")
        rows_l = rows_m[rows_m.layer == chosen]
        vals = rows_l.gamma.to_numpy(float)
        fit_rows = fits[(fits.dataset == dataset) & (fits.model == model) & (fits.layer == chosen)
                        & (fits.state == "trained") & (fits.method == method) & ok_rows(fits)] if len(fits) else fits
        marks = [number(g) for g in fit_rows.gamma_plus] if len(fit_rows) else []
        lo, hi, clip = x_range([vals], marks, float(np.nanmax(vals)))
        per_variant = max(1, vals.size // max(1, len(variants[(dataset, model)])))
        edges = np.linspace(lo, hi, min(50, max(10, int(2 * np.sqrt(per_variant)))) + 1)
        width = edges[1] - edges[0]
        grid_x = np.linspace(max(lo, 1e-12), hi, 600)
        acc = {}
        if table is not None and len(table):
            tm = table[(table.dataset.astype(str) == dataset) & (table.model.astype(str) == model)]
            for variant, trow in tm.groupby(tm.variant.astype(str), sort=False):
                first = trow.iloc[0]
                acc[variant] = (number(first.get("test_acc_mean")), number(first.get("test_acc_sd")),
                                number(first.get("test_acc_n")))
        for ax, variant in zip(row_axes, variants[(dataset, model)]):
            rv = rows_l[rows_l.variant.astype(str) == variant]
            g = rv.gamma.to_numpy(float)
            seeds = sorted({int(s) for s in rv.seed})
            ax.hist(g, bins=edges, weights=np.full(g.size, 1.0 / (g.size * width)), color=TRAINED_FILL,
                    alpha=0.5, gid="hist:trained")
            legend["hist"] = Patch(color=TRAINED_FILL, alpha=0.5,
                                   label="trained singular values (all seeds pooled)")
            fv = fit_rows[fit_rows.variant.astype(str) == variant].sort_values("seed")
            q = float(rv.q.iloc[0])
            for fit in fv.itertuples():
                sigma = number(fit.sigma)
                if math.isfinite(sigma) and sigma > 0:
                    ax.plot(grid_x, mp_pdf(grid_x, q, sigma), color="k", ls="--", lw=1.0,  # eq. (2) of [1]
                            gid=f"mp:{method}:seed{fit.seed}")
                    legend["mp"] = Line2D([], [], color="k", ls="--", lw=1.0,
                                          label=rf"MP density at $\hat\sigma$ ({style['name']}), one per seed")
                x = number(fit.gamma_plus)
                if math.isfinite(x):
                    ax.axvline(x, color=style["color"], ls="-", lw=1.1, gid=f"gamma_plus:{method}:seed{fit.seed}")
                    legend["gp"] = Line2D([], [], color=style["color"], ls="-", lw=1.1,
                                          label=rf"threshold $\gamma_+$ ({style['name']}, eq. 3), one per seed")
            ax.set_xlim(lo, hi)
            hats = [count_text(h) for h in fv.s_hat] if len(fv) else []
            aw = [number(x) for x in fv.ave_w] if "ave_w" in fv.columns else []
            lines = [f"{model} · {variant} · layer {chosen}"]
            mean, sd, n_acc = acc.get(variant, (math.nan, math.nan, math.nan))
            if math.isfinite(mean):
                acc_text = f"test accuracy {100 * mean:.1f}%"
                if math.isfinite(sd) and number(n_acc) > 1:
                    acc_text += f" ± {100 * sd:.1f} (SD, {int(number(n_acc))} seeds)"
                lines.append(acc_text)
            if hats:
                seed_text = f" (seeds {', '.join(map(str, seeds))})" if len(seeds) > 1 else ""
                aw_text = ("; Ave$_w$ " + ", ".join(f"{a:.2f}" for a in aw if math.isfinite(a))
                           if any(math.isfinite(a) for a in aw) else "")
                lines.append(rf"$\hat s$ ({style['name']}) = {', '.join(hats)}{seed_text}{aw_text}")
            ax.set_title("\n".join(lines), fontsize=8.5)
            beyond = g[g > clip]
            if beyond.size:
                ax.annotate(f"{beyond.size} value(s) beyond,\nup to γ = {beyond.max():.3g} →", xy=(0.99, 0.55),
                            xycoords="axes fraction", ha="right", fontsize=7,
                            bbox=dict(boxstyle="round", fc="lightyellow", ec="0.6"))
            ax.set_xlabel(GAMMA_LABEL + " (normalised singular value)", fontsize=8.5)
            ax.set_ylabel(r"density per unit $\gamma$ (area = 1)", fontsize=8.5)
            ax.tick_params(labelsize=7.5)
        for ax in row_axes[len(variants[(dataset, model)]):-1 if table is not None else None]:
            ax.set_visible(False)
        if table is not None:
            ax = row_axes[-1]
            names = variants[(dataset, model)]
            means = np.array([acc.get(v, (math.nan,) * 3)[0] for v in names], dtype=float)
            sds = np.array([acc.get(v, (math.nan,) * 3)[1] for v in names], dtype=float)
            sds = np.where(np.isfinite(sds), sds, 0.0)
            lower = np.clip(means - sds, 0.0, None)
            upper = np.clip(means + sds, None, 1.0)
            x = np.arange(len(names))
            ax.errorbar(x, means, yerr=[means - lower, upper - means], fmt="s", color=ACCURACY_COLOUR, ms=7,
                        ecolor="k", capsize=4, lw=0, elinewidth=1.2, gid="accuracy")
            for xi, mi in zip(x, means):
                if math.isfinite(mi):
                    ax.annotate(f"{100 * mi:.2f}%", (xi, mi), textcoords="offset points", xytext=(9, 0),
                                va="center", fontsize=8)
            ax.set_xticks(x, names, fontsize=8)
            ax.set_xlim(-0.6, len(names) - 0.2)
            ax.set_xlabel(f"variant ({key})", fontsize=8.5)
            ax.set_ylabel("test accuracy (fraction correct)\nmarker: mean; bar: ± SD over seeds", fontsize=8)
            finite = np.concatenate([lower[np.isfinite(lower)], upper[np.isfinite(upper)]])
            if finite.size:
                pad = max(0.1 * float(np.ptp(finite)), 0.005)
                ax.set_ylim(max(0.0, float(finite.min()) - pad), min(1.0, float(finite.max()) + pad))
            ax.set_title(f"{model}: test accuracy by {key}", fontsize=8.5)
    if not models:
        no_data(grid[0][0], "no trained spectrum in the study")
    if table is None:
        notes.append("Test accuracy not shown: the comparison table was not given to this figure.")
    skipped = skipped_notes(fits[fits.state == "trained"] if len(fits) else fits, by=("model", "layer"))
    if skipped:
        notes.append("Layers not analysed: " + "; ".join(dict.fromkeys(skipped)))
    title = (f"Spectra of the variants compared by {key}, beside test accuracy (paper 000 Fig. 3)\n"
             f"{run_label(spectra, fits)} · state: trained weights")
    return finish(fig, title, notes=notes, handles=list(legend.values()), ncol=3)
