r"""Paper 000 Fig. 1 for one run: each layer's spectrum against the Marchenko–Pastur law.

Rule ``plot_spectrum`` (:mod:`rmtweights.stages.plot_spectrum`). Conventions of every figure:
:mod:`rmtweights.plots.style`.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (2)–(3), Fig. 1.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661), eq. (2), Sec. 4.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rmtweights.formatting import fmt, number, run_label
from rmtweights.methods import METHODS
from rmtweights.plots.style import (
    GAMMA_LABEL,
    TRAINED_FILL,
    count_text,
    failed_fit_notes,
    finish,
    method_style,
    no_data,
    ok_rows,
    ordered_layers,
    panel_grid,
    require_columns,
    skipped_notes,
    vertical_marks,
    x_range,
)

__all__ = ["spectrum_figure"]

#: The fit drawn as a density with free edges (paper 001 Sec. 4) rather than as an MP law and a threshold.
_MODIFIED_MP = METHODS["modified_mp"].name

def _mod_mp_density(x: np.ndarray, q: float, sigma: float, nu_min: float, nu_max: float) -> np.ndarray:
    """The modified MP density of paper 001 (eq. (2) of [2]_ with free edges), as fitted by
    :func:`rmtweights.rmt.estimators.modified_mp_fit`."""
    from rmtweights.rmt.mp import _generalised_pdf

    return _generalised_pdf(np.asarray(x, dtype=float), nu_min, nu_max, q * sigma * sigma)  # eq. (2) of [2]


def spectrum_figure(spectra: pd.DataFrame, fits: pd.DataFrame, *, bins: int = 50, max_cols: int = 3) -> Figure:
    r"""Paper 000 Fig. 1 for every analysable layer of one run.

    Each panel shows the histogram of the trained weights' normalised singular values
    :math:`\gamma_i = s_i/\sqrt n` (filled) and of the initial weights (grey outline), both as
    densities normalised by the layer's :math:`m` values, with

    * the MP density (eq. (2) of [1]_) at each threshold method's :math:`\hat\sigma`,

      .. math:: g(x) = \frac{1}{\pi q \hat\sigma^2 x}\sqrt{(x^2 - x_{\min}^2)(x_{\max}^2 - x^2)},
                \quad x_{\min,\max} = \hat\sigma(1 \mp \sqrt q);

    * the modified MP density of the paper 001 fit ([2]_, Sec. 4), when the fit table has its
      upper edge ``nu_max`` (lower edge: the smallest :math:`\gamma`; amplitude :math:`\sigma`);
    * each threshold :math:`\gamma_+` of eq. (3) of [1]_ as a dotted line labelled with its value
      and :math:`\hat s`, the number of singular values above it;
    * the singular values above the lowest threshold as ticks on the x axis (a histogram hides
      single outliers); values far beyond the bulk are cut off and counted in a note.

    Parameters
    ----------
    spectra : pandas.DataFrame
        The run's spectra table (columns ``layer, state, gamma, q, n, m, status, reason`` and the
        run keys); rows with ``status`` other than "ok" are layers that were not analysed.
    fits : pandas.DataFrame
        The run's fit table (``layer, state, method, sigma, gamma_plus, s_hat, status``, optionally
        ``nu_max``).
    bins : int
        Histogram bins over the drawn range.
    max_cols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rmtweights.rmt.mp import mp_pdf

    require_columns(spectra, ("layer", "state", "gamma", "q", "n", "m"), "spectra")
    require_columns(fits, ("layer", "method", "sigma", "gamma_plus", "s_hat"), "fits")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    if isinstance(max_cols, bool) or not isinstance(max_cols, (int, np.integer)) or max_cols < 1:
        raise ValueError(f"max_cols must be a positive integer, got {max_cols!r}")
    ok = spectra[ok_rows(spectra)] if len(spectra) else spectra
    layers = ordered_layers(ok)
    fits_ok = fits[ok_rows(fits)] if len(fits) else fits
    trained_fits = fits_ok[fits_ok.state == "trained"] if "state" in fits_ok.columns else fits_ok
    fig, axes = panel_grid(max(1, len(layers)), 4.6, 3.3, max_cols)
    notes: list[str] = []
    drawn: dict[str, object] = {}
    has_nu_max = "nu_max" in fits.columns
    for ax, layer in zip(axes, layers):
        rows = ok[ok.layer == layer]
        trained = rows[rows.state == "trained"].gamma.to_numpy(dtype=float)
        initial = rows[rows.state == "initial"].gamma.to_numpy(dtype=float)
        trained, initial = trained[np.isfinite(trained)], initial[np.isfinite(initial)]
        if trained.size == 0:
            no_data(ax, f"{layer}: no trained spectrum")
            continue
        first = rows.iloc[0]
        q, n, m = float(first.q), int(first.n), int(first.m)
        lf = trained_fits[trained_fits.layer == layer]
        thr = lf[np.isfinite(lf.gamma_plus.map(number))] if len(lf) else lf
        mod = lf[(lf.method == _MODIFIED_MP)] if len(lf) else lf
        nu_max = number(mod.nu_max.iloc[0]) if has_nu_max and len(mod) else math.nan
        marks = [number(g) for g in thr.gamma_plus] + ([nu_max] if math.isfinite(nu_max) else [])
        if len(initial):
            marks.append(float(initial.max()))
        lo, hi, clip = x_range([trained, initial], marks, float(trained.max()))
        # about 2 sqrt(m) bins over the bulk: spiky histograms of small layers hide the shape
        edges = np.linspace(lo, hi, min(bins, max(10, int(2 * np.sqrt(trained.size)))) + 1)
        width = edges[1] - edges[0]
        # densities over all m values, so the area under the histogram matches the MP density's
        ax.hist(trained, bins=edges, weights=np.full(trained.size, 1.0 / (trained.size * width)),
                color=TRAINED_FILL, alpha=0.5, gid="hist:trained")
        drawn["trained"] = Patch(color=TRAINED_FILL, alpha=0.5, label="trained weights")
        if len(initial):
            ax.hist(initial, bins=edges, weights=np.full(initial.size, 1.0 / (initial.size * width)),
                    histtype="step", color="0.3", lw=0.9, alpha=0.8, gid="hist:initial")
            drawn["initial"] = Line2D([], [], color="0.3", lw=0.9, label="initial weights (grey outline)")
        grid = np.linspace(max(lo, 1e-12), hi, 800)
        sigma_parts = []
        for fit in thr.itertuples():
            style = method_style(fit.method)
            sigma = number(fit.sigma)
            if not (math.isfinite(sigma) and sigma > 0):
                continue
            ax.plot(grid, mp_pdf(grid, q, sigma), color=style["color"], ls=style["ls"], lw=1.4,  # eq. (2) of [1]
                    gid=f"mp:{fit.method}", zorder=2)
            drawn[f"mp:{fit.method}"] = Line2D([], [], color=style["color"], ls=style["ls"], lw=1.4,
                                               label=rf"MP density at $\hat\sigma$ ({style['name']})")
            sigma_parts.append(rf"{style['name']} {fmt(sigma, '.4g')}")
        for fit in mod.itertuples():
            sigma = number(fit.sigma)
            if not math.isfinite(sigma):
                continue
            sigma_parts.append(rf"mod. MP {fmt(sigma, '.4g')}")
            if math.isfinite(nu_max):
                nu_min = float(trained.min())
                density = _mod_mp_density(grid, q, sigma, nu_min, nu_max)  # eq. (2) of [2]
                mod_style = method_style(_MODIFIED_MP)
                ax.plot(grid, density, color=mod_style["color"], ls=mod_style["ls"], lw=1.4,
                        gid=f"mp:{_MODIFIED_MP}", zorder=2)
                drawn[f"mp:{_MODIFIED_MP}"] = Line2D(
                    [], [], color=mod_style["color"], ls=mod_style["ls"], lw=1.4,
                    label=r"modified MP fit (paper 001): edges $\nu_{\min}$, $\nu_{\max}$ free")
        if len(mod) and not has_nu_max:
            drawn["no-nu-max"] = True
        ax.set_xlim(lo, hi)
        # thresholds: labelled dotted lines, coinciding ones merged
        marks_drawn, gamma_parts = [], []
        for fit in thr.itertuples():
            style = method_style(fit.method)
            marks_drawn.append((number(fit.gamma_plus), fit.method, style["color"],
                                rf"($\hat s$ = {count_text(fit.s_hat)})"))
            gamma_parts.append(f"{style['name']} {fmt(fit.gamma_plus, '.4g')} ({count_text(fit.s_hat)})")
        vertical_marks(ax, marks_drawn, gid_prefix="gamma_plus", prefix=r"$\gamma_+$")
        if marks_drawn:
            drawn["gamma_plus"] = Line2D([], [], color="0.2", ls=":", lw=1.3,
                                        label=r"threshold $\gamma_+$ (eq. 3), labelled with $\hat s$ = count above")
        # singular values above the lowest threshold: ticks on the x axis
        finite_thr = [m[0] for m in marks_drawn if math.isfinite(m[0])]
        if finite_thr:
            above = np.sort(trained[trained > min(finite_thr)])
            shown = above[above <= clip]
            blend = transforms.blended_transform_factory(ax.transData, ax.transAxes)
            if above.size:
                ax.plot(shown, np.full(shown.size, 0.02), ls="none", marker="|", ms=9, mew=1.2, color="k",
                        transform=blend, gid="spikes", zorder=5)
                drawn["spikes"] = Line2D([], [], ls="none", marker="|", ms=9, mew=1.2, color="k",
                                         label=r"trained $\gamma_i$ above the lowest $\gamma_+$ (spikes)")
            beyond = above[above > clip]
            if beyond.size:
                ax.annotate(f"{beyond.size} more above\nup to γ = {beyond.max():.3g} →", xy=(0.99, 0.5),
                            xycoords="axes fraction", ha="right", va="center", fontsize=7,
                            bbox=dict(boxstyle="round", fc="lightyellow", ec="0.6"), gid="beyond")
        kind = f"{first.kind}, " if "kind" in rows.columns and isinstance(first.get("kind"), str) else ""
        title = f"{layer} ({kind}{n}×{m}, q = m/n = {q:.3g})"
        if sigma_parts:
            title += "\n" + r"$\hat\sigma$: " + " · ".join(sigma_parts)
        if gamma_parts:
            title += "\n" + r"$\gamma_+$ ($\hat s$): " + " · ".join(gamma_parts)
        ax.set_title(title, fontsize=8.5)
        ax.set_xlabel(GAMMA_LABEL + " (normalised singular value)", fontsize=8.5)
        ax.set_ylabel(r"density per unit $\gamma$ (area = 1)", fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        notes.extend(failed_fit_notes(fits, layer))
    if not layers:
        no_data(axes[0], "no layer of this run has a spectrum")
    skipped = skipped_notes(spectra, exclude=layers)
    if skipped:
        notes.insert(0, "Layers not analysed: " + "; ".join(skipped))
    if drawn.pop("no-nu-max", False):
        notes.append("The modified-MP fit's density is not drawn: the fit table has no nu_max column "
                     r"(its $\hat\sigma$ is in the panel title).")
    handles = [h for h in drawn.values() if not isinstance(h, bool)]
    title = (f"Singular-value spectra against the Marchenko–Pastur law (paper 000 Fig. 1)\n"
             f"{run_label(spectra, fits)} · state: trained weights (grey outline: initial weights)")
    return finish(fig, title, notes=notes, handles=handles, ncol=min(4, max(1, len(handles))))
