r"""Paper 000 Fig. 2 for one layer of one run: Ave_w and the keep-top-s test accuracy against s.

Rule ``plot_avew_accuracy`` (:mod:`rmtweights.stages.plot_avew_accuracy`). Conventions of every
figure: :mod:`rmtweights.plots.style`.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (3)–(6), Fig. 2.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rmtweights.controls import CONTROLS
from rmtweights.formatting import number, run_label
from rmtweights.plots.style import (
    ACCURACY_COLOUR,
    AVEW_COLOUR,
    finish,
    method_names,
    method_style,
    ok_rows,
    require_columns,
    skipped_notes,
    vertical_marks,
)

__all__ = ["avew_accuracy_figure", "CONTROL_STYLES"]

#: The controls' implied Ave_w curves (:mod:`rmtweights.controls`): thin, grey, one line style and marker each.
CONTROL_STYLES = {
    "initial": dict(label="initial weights", color="0.35", ls="--", marker="v"),
    "gaussian": dict(label="Gaussian matrix of the layer's shape", color="0.55", ls="-.", marker="x"),
    "shuffled": dict(label="entry-shuffled trained matrix", color="0.2", ls=":", marker="+"),
}

def _merge_equal_curves(curves: dict[str, pd.Series], rtol: float = 1e-9) -> list[list[str]]:
    """Group the methods whose curves (indexed by s) are equal within ``rtol`` (NaN equals NaN)."""
    groups: list[list[str]] = []
    for method, values in curves.items():
        for group in groups:
            ref = curves[group[0]]
            if ref.index.equals(values.index) and np.allclose(ref.to_numpy(float), values.to_numpy(float),
                                                              rtol=rtol, atol=1e-12, equal_nan=True):
                group.append(method)
                break
        else:
            groups.append([method])
    return groups


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation over the finite pairs; NaN with fewer than 3 pairs or a constant series."""
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return math.nan
    return float(np.corrcoef(x[keep], y[keep])[0, 1])


def avew_accuracy_figure(curve: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame, layer: str, *,
                         show_fixed: bool = True) -> Figure:
    r"""Paper 000 Fig. 2 for one layer of one run: Ave_w and keep-top-s test accuracy against s.

    For a candidate rank s the threshold sits just under the s-th singular value and (eq. (6) of [1]_)

    .. math::

        \mathrm{Ave}_w(s) = \frac{\sum_{i \le s} \hat\phi_i\,(\gamma_i - \gamma_{s+1})}
                                 {\sum_{i \le s} (\gamma_i - \gamma_{s+1})}.

    Two readings of the :math:`\sigma` behind :math:`\hat\phi_i` are in the curve table:
    ``implied`` (:math:`\sigma(s)` from eq. (3) inverted at :math:`\gamma_{s+1}`), drawn solid with
    green circles as in the paper (it is the reading that rises with accuracy, as in Fig. 2 of
    [1]_), and ``fixed`` (:math:`\sigma = \hat\sigma` of the estimator, so values below
    :math:`\gamma_+` get :math:`\hat\phi = 0`), drawn thin and dotted. Methods whose curves coincide
    are drawn once with a label such as "BEMA = GB". The implied curves of the layer's controls
    (``state`` ``initial``, ``gaussian``, ``shuffled`` of the curve table: the initial weights, a
    Gaussian matrix of the layer's shape, the entry-shuffled trained matrix; :mod:`rmtweights.controls`)
    are thin grey lines, each with its Pearson r against the same accuracy curve. Test accuracy after
    keeping the top s singular values (others zero) is on the right axis (purple squares); the
    estimators' :math:`\hat s` are labelled vertical lines. The legend gives the Pearson correlation
    of the implied Ave_w with accuracy over the drawn s.

    Parameters
    ----------
    curve : pandas.DataFrame
        The run's Ave_w curve table (``layer, method, s, reading, ave_w``, and ``state``: rows of
        other states than ``trained`` are the controls; without the column every row is trained).
    accuracy : pandas.DataFrame
        The run's pruning table (``s, accuracy``, optionally ``layer``).
    fits : pandas.DataFrame
        The run's fit table (``layer, state, method, s_hat, status``).
    layer : str
        The pruned layer.
    show_fixed : bool
        Whether to draw the ``fixed`` reading too.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(curve, ("layer", "method", "s", "reading", "ave_w"), "curve")
    require_columns(accuracy, ("s", "accuracy"), "accuracy")
    require_columns(fits, ("layer", "method", "s_hat"), "fits")
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    sub = curve[curve.layer == layer] if len(curve) else curve
    controls = sub[sub.state.isin(CONTROLS)] if "state" in sub.columns else sub.iloc[:0]
    sub = sub[sub.state == "trained"] if "state" in sub.columns else sub
    acc = accuracy[accuracy.layer == layer] if "layer" in accuracy.columns else accuracy
    acc = acc.sort_values("s") if len(acc) else acc
    notes: list[str] = []
    s_max = 0
    implied_groups: list[tuple[list[str], pd.Series]] = []
    for reading in ("implied", "fixed"):
        if reading == "fixed" and not show_fixed:
            continue
        part = sub[sub.reading == reading] if len(sub) else sub
        if part.empty:
            continue
        curves = {str(method): rows.set_index("s").sort_index().ave_w.astype(float)
                  for method, rows in part.groupby("method", sort=False)}
        curves = {k: v for k, v in curves.items() if np.isfinite(v.to_numpy()).any()}
        for group in _merge_equal_curves(curves):
            values = curves[group[0]]
            s_max = max(s_max, int(values.index.max()))
            if reading == "implied":
                colour = AVEW_COLOUR if len(curves) == len(group) else method_style(group[0])["color"]
                marker = "o" if len(curves) == len(group) else method_style(group[0])["marker"]
                same = f" (same curve for {method_names(group)})" if len(group) > 1 else f" ({method_names(group)})"
                label = rf"Ave$_w(\hat\phi)$, implied $\sigma(s)${same} — the reading of paper 000 Fig. 2"
                ax.plot(values.index, values.to_numpy(), color=colour, ls="-", lw=1.8, marker=marker, ms=4,
                        label=label, gid=f"avew:implied:{'+'.join(group)}", zorder=3)
                implied_groups.append((group, values))
            else:
                colour = method_style(group[0])["color"] if len(group) == 1 else "0.3"
                label = (rf"Ave$_w(\hat\phi)$, fixed $\sigma = \hat\sigma$ ({method_names(group)}"
                         + (", identical" if len(group) > 1 else "") + ") — secondary reading")
                ax.plot(values.index, values.to_numpy(), color=colour, ls=":", lw=1.0, marker=".", ms=3,
                        label=label, gid=f"avew:fixed:{'+'.join(group)}", zorder=2)
    control_curves = {}
    for control in CONTROLS:
        part = controls[(controls.state == control) & (controls.reading == "implied")]
        for _, rows in sorted(part.groupby("method", sort=False), key=lambda kv: kv[0] != "bema"):
            values = rows.set_index("s").sort_index().ave_w.astype(float)  # implied: the same for every method
            if np.isfinite(values.to_numpy()).any():
                control_curves[control] = values
                s_max = max(s_max, int(values.index.max()))
                break
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel(r"s = number of largest singular values kept (candidate $\hat s$)")
    ax.set_ylabel(r"Ave$_w(\hat\phi)$, eq. 6 (0 to 1)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    twin = ax.twinx()
    if len(acc):
        s_max = max(s_max, int(acc.s.max()))
        rs = [(group, _pearson(values.reindex(acc.s).to_numpy(float), acc.accuracy.to_numpy(float)))
              for group, values in implied_groups]
        rs = [(group, r) for group, r in rs if math.isfinite(r)]
        if len(rs) == 1:
            r_text = f"; Pearson r with implied Ave$_w$ = {rs[0][1]:.2f}"
        elif rs:
            r_text = "; Pearson r with implied Ave$_w$: " + ", ".join(f"{method_names(g)} {r:.2f}" for g, r in rs)
        else:
            r_text = ""
        twin.plot(acc.s, acc.accuracy, color=ACCURACY_COLOUR, marker="s", ms=4, lw=1.2,
                  label=f"test accuracy after keeping the top s{r_text}", gid="accuracy", zorder=3)
    else:
        notes.append(f"No pruning accuracies for {layer} in the pruning table.")
    for control, values in control_curves.items():
        style = CONTROL_STYLES[control]
        r = _pearson(values.reindex(acc.s).to_numpy(float), acc.accuracy.to_numpy(float)) if len(acc) else math.nan
        r_label = f", Pearson r = {r:.2f}" if math.isfinite(r) else ""
        ax.plot(values.index, values.to_numpy(), color=style["color"], ls=style["ls"], lw=0.9, marker=style["marker"],
                ms=3, label=rf"control: Ave$_w$ of the {style['label']} (implied){r_label}",
                gid=f"avew:control:{control}", zorder=2)
    twin.set_ylabel(f"test accuracy (fraction), top s of {layer} kept", color=ACCURACY_COLOUR)
    twin.tick_params(axis="y", colors=ACCURACY_COLOUR)
    # s-hat of each estimator
    lf = fits[(fits.layer == layer) & ok_rows(fits)] if len(fits) else fits
    if "state" in lf.columns:
        lf = lf[lf.state == "trained"]
    hats = [(number(f.s_hat), f.method) for f in lf.itertuples() if math.isfinite(number(f.s_hat))]
    if hats:
        s_max = max(s_max, int(max(h for h, _ in hats)))
    ax.set_xlim(-0.5, s_max + 0.8)
    marks = [(h, method, method_style(method)["color"], f"= {int(h)}") for h, method in hats]
    vertical_marks(ax, marks, gid_prefix="s_hat", prefix=r"$\hat s$", ls="--", lw=1.2, merge_tol=0.001)
    if hats:
        ax.plot([], [], color="0.3", ls="--", lw=1.2, label=r"$\hat s$ of each estimator (vertical lines)")
    if len(sub) == 0:
        ax.text(0.5, 0.5, f"no Ave_w curve for {layer}", transform=ax.transAxes, ha="center", fontsize=9)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.set_title("Ave$_w$ (left axis) and test accuracy (right axis) against the kept rank s", fontsize=9)
    notes.append(r"Implied reading (solid): $\sigma(s)$ from eq. 3 inverted at $\gamma_{s+1}$ — the reading under "
                 "which Ave$_w$ rises with s as in paper 000 Fig. 2. Fixed reading (dotted): "
                 r"$\sigma = \hat\sigma$ of the estimator; singular values below its $\gamma_+$ get "
                 r"$\hat\phi = 0$, so it falls with s.")
    if control_curves:
        notes.append("Controls (grey, implied reading, correlated with the same accuracy curve): a curve that rises "
                     "like the trained one shows that the rise comes from the reading, not from learned structure.")
    skipped = skipped_notes(fits)
    if skipped:
        notes.append("Layers of this run not analysed: " + "; ".join(skipped))
    first = lf.iloc[0] if len(lf) else None
    dims = f" ({int(first.n)}×{int(first.m)})" if first is not None and "n" in lf.columns else ""
    title = (f"Ave$_w$ and keep-top-s accuracy, layer {layer}{dims} (paper 000 Fig. 2)\n"
             f"{run_label(curve, accuracy, fits)} · state: trained weights"
             + (" (grey: controls)" if control_curves else ""))
    return finish(fig, title, notes=notes, handles=handles, ncol=1, title_size=10.5)
