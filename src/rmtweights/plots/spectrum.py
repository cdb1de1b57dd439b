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
from rmtweights.tensors import shape_text
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

__all__ = ["PANELS_PER_PAGE", "spectrum_figure", "spectrum_pages", "layer_figure"]

#: Panels of one page of :func:`spectrum_pages` (4 rows of 3: a page of bounded size).
PANELS_PER_PAGE = 12
#: States drawn as the grey outline: a trained run's initial weights, or a weights file's random baseline.
_REFERENCE_STATES = {"initial": "initial weights", "baseline": "random baseline"}

#: The fit drawn as a density with free edges (paper 001 Sec. 4) rather than as an MP law and a threshold.
_MODIFIED_MP = METHODS["modified_mp"].name

def _mod_mp_density(x: np.ndarray, q: float, sigma: float, nu_min: float, nu_max: float) -> np.ndarray:
    """The modified MP density of paper 001 (eq. (2) of [2]_ with free edges), as fitted by
    :func:`rmtweights.rmt.estimators.modified_mp_fit`."""
    from rmtweights.rmt.mp import _generalised_pdf

    return _generalised_pdf(np.asarray(x, dtype=float), nu_min, nu_max, q * sigma * sigma)  # eq. (2) of [2]


def _legend_columns(handles, width_in: float) -> int:
    """As many legend columns as fit in the figure's width (at 8 pt, about 0.075 in per character of a
    label, mathtext markup not counted), at most 4: a legend wider than the figure is cut at both edges."""
    import re

    labels = [re.sub(r"\$|\\[a-zA-Z]+|[{}^_]", "", h.get_label()) for h in handles]
    column = 0.6 + 0.075 * max((len(label) for label in labels), default=10)
    return int(max(1, min(4, len(handles), width_in // column)))


def spectrum_figure(spectra: pd.DataFrame, fits: pd.DataFrame, *, bins: int = 50, max_cols: int = 3,
                    layers: list[str] | None = None, title: str | None = None) -> Figure:
    r"""Paper 000 Fig. 1 for every analysable layer of one run (or the ``layers`` named).

    Each panel shows the histogram of the trained weights' normalised singular values
    :math:`\gamma_i = s_i/\sqrt n` (filled) and of the initial weights, or of a weights file's random
    baseline (:mod:`rmtweights.baselines`), as a grey outline, both as densities normalised by the
    layer's :math:`m` values, with

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
    layers : list of str, optional
        Draw only these layers (in this order); default: every layer with a spectrum. The note on
        layers not analysed is kept for a figure of every layer.
    title : str, optional
        The figure's title (default: what it shows and the run).

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
    every_layer = layers is None
    layers = ordered_layers(ok) if layers is None else list(layers)
    fits_ok = fits[ok_rows(fits)] if len(fits) else fits
    trained_fits = fits_ok[fits_ok.state == "trained"] if "state" in fits_ok.columns else fits_ok
    fig, axes = panel_grid(max(1, len(layers)), 4.6, 3.3, max_cols)
    notes: list[str] = []
    drawn: dict[str, object] = {}
    has_nu_max = "nu_max" in fits.columns
    for ax, layer in zip(axes, layers):
        rows = ok[ok.layer == layer]
        trained = rows[rows.state == "trained"].gamma.to_numpy(dtype=float)
        reference = rows[rows.state.isin(list(_REFERENCE_STATES))]
        initial = reference.gamma.to_numpy(dtype=float)
        reference_label = _REFERENCE_STATES.get(str(reference.state.iloc[0]), "") if len(reference) else ""
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
            drawn["initial"] = Line2D([], [], color="0.3", lw=0.9, label=f"{reference_label} (grey outline)")
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
        kind = str(first.kind) if "kind" in rows.columns and isinstance(first.get("kind"), str) else "linear"
        shape = first.get("shape") if isinstance(first.get("shape"), str) and first.get("shape") else (n, m)
        reshape = str(first.get("reshape", "spatial"))
        name = str(layer).replace("$", r"\$")  # names are text from a file, never mathtext
        panel = f"{name}\n{kind}: {shape_text(shape, n, m, kind, reshape)}, q = m/n = {q:.3g}"
        if sigma_parts:
            panel += "\n" + r"$\hat\sigma$: " + " · ".join(sigma_parts)
        if gamma_parts:
            panel += "\n" + r"$\gamma_+$ ($\hat s$): " + " · ".join(gamma_parts)
        ax.set_title(panel, fontsize=8.5)
        ax.set_xlabel(GAMMA_LABEL + " (normalised singular value)", fontsize=8.5)
        ax.set_ylabel(r"density per unit $\gamma$ (area = 1)", fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        notes.extend(failed_fit_notes(fits, layer))
    if not layers:
        no_data(axes[0], "no layer of this run has a spectrum")
    skipped = skipped_notes(spectra, exclude=layers) if every_layer else []
    if skipped:
        notes.insert(0, "Layers not analysed: " + "; ".join(skipped))
    if drawn.pop("no-nu-max", False):
        notes.append("The modified-MP fit's density is not drawn: the fit table has no nu_max column "
                     r"(its $\hat\sigma$ is in the panel title).")
    handles = [h for h in drawn.values() if not isinstance(h, bool)]
    if title is None:
        states = set(spectra.state) if "state" in spectra.columns and len(spectra) else set()
        outline = next((label for state, label in _REFERENCE_STATES.items() if state in states), "")
        title = (f"Singular-value spectra against the Marchenko–Pastur law · paper 000 Fig. 1\n"
                 f"{run_label(spectra, fits)} · state: trained weights"
                 + (f" (grey outline: {outline})" if outline else ""))
    width = fig.get_size_inches()[0]
    return finish(fig, title, notes=notes, handles=handles, ncol=_legend_columns(handles, width))


def spectrum_pages(spectra: pd.DataFrame, fits: pd.DataFrame, *, per_page: int = PANELS_PER_PAGE,
                   max_cols: int = 3, bins: int = 50) -> list[Figure]:
    """:func:`spectrum_figure` in pages of at most ``per_page`` layers (figures of bounded size, for
    models with many layers); the first page carries the note on the layers not analysed."""
    if isinstance(per_page, bool) or not isinstance(per_page, (int, np.integer)) or per_page < 1:
        raise ValueError(f"per_page must be a positive integer, got {per_page!r}")
    ok = spectra[ok_rows(spectra)] if len(spectra) else spectra
    layers = ordered_layers(ok)
    if len(layers) <= per_page:
        return [spectrum_figure(spectra, fits, bins=bins, max_cols=max_cols)]
    pages = [layers[i:i + per_page] for i in range(0, len(layers), per_page)]
    base = (f"Singular-value spectra against the Marchenko–Pastur law · paper 000 Fig. 1\n"
            f"{run_label(spectra, fits)}")
    return [spectrum_figure(spectra, fits, bins=bins, max_cols=max_cols, layers=page,
                            title=f"{base} · layers {i * per_page + 1}–{i * per_page + len(page)} of {len(layers)} "
                                  f"(page {i + 1} of {len(pages)})")
            for i, page in enumerate(pages)]


def layer_figure(table: pd.DataFrame, layer: str, *, bins: int = 50) -> Figure:
    r"""One layer's spectrum figure from :func:`rmtweights.api.analyze_model`'s output.

    The panel of :func:`spectrum_figure` for ``layer``: the histogram of :math:`\gamma_i = s_i/\sqrt n`,
    the MP density at each :math:`\hat\sigma`, each :math:`\gamma_+` with its :math:`\hat s` and the
    spikes, and the baseline's histogram when the table has one. The table must have the singular
    values: ``analyze_model(..., spectra=True)`` (column ``sv``).

    Raises
    ------
    ValueError
        If the table has no ``sv`` column, or ``layer`` is not an analysed layer of it.
    """
    if "sv" not in table.columns:
        raise ValueError("the table has no singular values (column 'sv'): call analyze_model(..., spectra=True)")
    rows = table[(table["layer"] == layer) & ok_rows(table)]
    if rows.empty:
        analysed = list(dict.fromkeys(table.loc[ok_rows(table), "layer"]))
        raise ValueError(f"{layer!r} is not an analysed layer of the table; analysed: {analysed[:10]}"
                         + (" ..." if len(analysed) > 10 else ""))
    state = rows["state"] if "state" in rows.columns else pd.Series("trained", index=rows.index)
    parts = []
    for st in dict.fromkeys(state):
        first = rows[state == st].iloc[0]
        gamma = np.asarray(first["sv"], dtype=float) / np.sqrt(int(first["n"]))  # gamma = s / sqrt(n), eq. (2) of [1]
        parts.append(pd.DataFrame({"layer": layer, "state": st, "kind": first["kind"], "shape": first["shape"],
                                   "reshape": first["reshape"], "n": int(first["n"]), "m": int(first["m"]),
                                   "q": float(first["q"]), "gamma": gamma, "status": "ok"}))
    fits = rows.assign(state=state)
    return spectrum_figure(pd.concat(parts, ignore_index=True), fits, bins=bins, max_cols=1,
                           title="Spectrum against the Marchenko–Pastur law")
