r"""Paper 001 Figs. 1–2 for one run: level spacings, number variance and the Porter–Thomas test.

Rule ``plot_universality`` (:mod:`rmtweights.stages.plot_universality`). Conventions of every
figure: :mod:`rmtweights.plots.style`.

References
----------
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661), eq. (1),
   Figs. 1–3, App. C.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rmtweights.formatting import number, run_label
from rmtweights.plots.style import (
    STATE_STYLES,
    finish,
    no_data,
    ordered_layers,
    require_columns,
    skipped_notes,
)

__all__ = ["universality_figure"]

def universality_figure(spacings: pd.DataFrame, number_variance: pd.DataFrame, porter_thomas: pd.DataFrame,
                        *, summary: pd.DataFrame | None = None) -> Figure:
    r"""Paper 001 Figs. 1–2 for one run: one row per layer, trained (blue) and initial (red) weights.

    Columns: (1) the nearest-neighbour spacing histogram of the unfolded singular values against
    the Wigner surmise :math:`p(s) = \frac{\pi s}{2} e^{-\pi s^2/4}` (eq. (1) of [2]_), with the KS
    p-value from ``summary``; (2) the level number variance :math:`\Sigma^2(l)` against the GOE
    prediction and Poisson's :math:`\Sigma^2(l) = l`; (3) the moving average over neighbouring
    ranks of the Porter–Thomas KS p-values of the singular vectors' entries against a Gaussian, by
    rank (rank 1 = largest singular value).

    Parameters
    ----------
    spacings, number_variance, porter_thomas : pandas.DataFrame
        The run's spacing, number-variance and Porter–Thomas tables (with ``state`` and ``layer``).
    summary : pandas.DataFrame, optional
        The run's universality summary (``universality.parquet``): KS p-values for the legend and the
        layers that were skipped, with their reasons (named under the panels). Without it, skipped
        layers cannot be named.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rmtweights.rmt.universality import goe_number_variance, wigner_surmise_pdf

    require_columns(spacings, ("state", "layer", "bin_left", "bin_right", "density"), "spacings")
    require_columns(number_variance, ("state", "layer", "l", "sigma2"), "number_variance")
    require_columns(porter_thomas, ("state", "layer", "rank", "p_value_moving_avg"), "porter_thomas")
    require_columns(summary, ("state", "layer", "status"), "summary")
    frames = (spacings, number_variance, porter_thomas)
    layers = ordered_layers(*frames)
    fig, axes = plt.subplots(max(1, len(layers)), 3, figsize=(13.5, 2.75 * max(1, len(layers))), squeeze=False)
    notes: list[str] = []
    p_values = {}
    reasons = {}
    dims = {}
    if summary is not None and len(summary):
        for row in summary.itertuples():
            n, m = number(getattr(row, "n", math.nan)), number(getattr(row, "m", math.nan))
            if math.isfinite(n) and math.isfinite(m):
                dims[str(row.layer)] = f" ({int(n)}×{int(m)})"
            if str(getattr(row, "status", "ok")) == "ok":
                p_values[(row.state, row.layer)] = number(getattr(row, "p_value", math.nan))
            else:
                reasons[str(row.layer)] = str(getattr(row, "reason", ""))
    states = [s for s in STATE_STYLES if any(s in set(f.get("state", pd.Series(dtype=str))) for f in frames)]
    for row_axes, layer in zip(axes, layers):
        ax_sp, ax_nv, ax_pt = row_axes
        sp = spacings[spacings.layer == layer] if len(spacings) else spacings
        nv = number_variance[number_variance.layer == layer] if len(number_variance) else number_variance
        pt = porter_thomas[porter_thomas.layer == layer] if len(porter_thomas) else porter_thomas
        # (1) spacings
        if len(sp):
            s_top = 0.0
            for state in states:
                rows = sp[sp.state == state].sort_values("bin_left")
                if rows.empty:
                    continue
                style = STATE_STYLES[state]
                p = p_values.get((state, layer), math.nan)
                label = f"{state}" + (f" (KS p = {p:.2f})" if math.isfinite(p) else "")
                edges = np.append(rows.bin_left.to_numpy(float), rows.bin_right.to_numpy(float)[-1])
                ax_sp.stairs(rows.density.to_numpy(float), edges, color=style["color"], ls=style["ls"],
                             lw=style["lw"], label=label, gid=f"spacing:{state}")
                s_top = max(s_top, float(edges[-1]))
            s = np.linspace(0, max(s_top, 3.5), 300)
            ax_sp.plot(s, wigner_surmise_pdf(s), "k--", lw=1.2, label="Wigner surmise (GOE)",  # eq. (1) of [2]
                       gid="surmise")
            ax_sp.set_xlabel("spacing s of unfolded singular values (mean 1)", fontsize=8)
            ax_sp.set_ylabel("density p(s)", fontsize=8)
            ax_sp.legend(fontsize=6.5, loc="upper right")
        else:
            no_data(ax_sp, f"{layer}: no spacing statistics — {reasons.get(layer, 'not in the spacing table')}")
        ax_sp.set_title(f"{layer}{dims.get(layer, '')}: nearest-neighbour spacings", fontsize=9)
        # (2) number variance
        if len(nv):
            l_max = 0.0
            y_max = 0.0
            for state in states:
                rows = nv[nv.state == state].sort_values("l")
                if rows.empty:
                    continue
                style = STATE_STYLES[state]
                ax_nv.plot(rows["l"], rows.sigma2, color=style["color"], ls=style["ls"], lw=style["lw"],
                           marker=style["marker"], ms=4, label=state, gid=f"nv:{state}")
                l_max = max(l_max, float(rows["l"].max()))
                y_max = max(y_max, float(np.nanmax(rows.sigma2.to_numpy(float), initial=0.0)))
            ls_grid = np.linspace(1e-3, max(l_max, 1.0), 300)
            goe = goe_number_variance(ls_grid)
            ax_nv.plot(ls_grid, goe, "k--", lw=1.2, label="GOE", gid="goe")
            ax_nv.plot(ls_grid, ls_grid, "k:", lw=1.2, label=r"Poisson $\Sigma^2 = l$", gid="poisson")
            ax_nv.set_ylim(0, 1.6 * max(y_max, float(goe.max())))
            ax_nv.set_xlabel("interval length l (in mean spacings)", fontsize=8)
            ax_nv.set_ylabel(r"number variance $\Sigma^2(l)$", fontsize=8)
            ax_nv.legend(fontsize=6.5, loc="upper left")
        else:
            no_data(ax_nv, f"{layer}: no number variance — {reasons.get(layer, 'not in the table')}")
        ax_nv.set_title(f"{layer}{dims.get(layer, '')}: level number variance", fontsize=9)
        # (3) Porter–Thomas
        if len(pt):
            for state in states:
                rows = pt[pt.state == state].sort_values("rank")
                if rows.empty:
                    continue
                style = STATE_STYLES[state]
                ax_pt.plot(rows["rank"], rows.p_value_moving_avg, color=style["color"], ls=style["ls"],
                           lw=style["lw"], label=state, gid=f"pt:{state}")
            ax_pt.axhline(0.5, color="0.4", ls="--", lw=0.8, label="0.5 = mean p if entries are Gaussian")
            ax_pt.axhline(0.05, color="0.4", ls=":", lw=0.8, label="0.05 significance level")
            ax_pt.set_ylim(0, 1)
            ax_pt.set_xlim(0.5, float(pt["rank"].max()) + 0.5)
            ax_pt.set_xlabel("rank of singular value (1 = largest)", fontsize=8)
            ax_pt.set_ylabel("KS p-value vs Gaussian\n(moving average over ranks)", fontsize=8)
            ax_pt.legend(fontsize=6.5, loc="best", framealpha=0.7)
        else:
            no_data(ax_pt, f"{layer}: no Porter–Thomas test — {reasons.get(layer, 'not in the table')}")
        ax_pt.set_title(f"{layer}{dims.get(layer, '')}: Porter–Thomas test of singular vectors", fontsize=9)
        for ax in row_axes:
            ax.tick_params(labelsize=7.5)
    if not layers:
        for ax in axes[0]:
            no_data(ax, "no layer of this run has universality statistics")
    if summary is not None and len(summary):
        skipped = skipped_notes(summary, exclude=layers)
        partial = [n for n in skipped_notes(summary) if n not in skipped]
        if skipped:
            notes.append("Layers not analysed: " + "; ".join(skipped))
        if partial:
            notes.append("Spacing statistics skipped: " + "; ".join(partial))
    other = "baseline" if "baseline" in states else "initial"  # a weights file's random baseline
    notes.append(f"Unfolding and spacings as in paper 001 App. C; trained weights blue (solid), {other} red "
                 "(dashed). Porter–Thomas: KS test of each singular vector's entries against a Gaussian.")
    title = (f"Random-matrix universality of the bulk (paper 001 Figs. 1–2)\n"
             f"{run_label(*frames)} · states: trained (blue) and {other} (red)")
    return finish(fig, title, notes=notes)
