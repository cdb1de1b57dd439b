r"""Figures of the study: matplotlib figures built from the stage tables, returned unsaved.

Each function takes tidy frames as written by :mod:`rmtweights.stages` (one run, or one study) and
returns a :class:`matplotlib.figure.Figure`; the adapters in ``scripts/`` save it as PNG and PDF.
Every figure is meant to be read without the code:

* a figure-level title names the run (study, dataset, model, variant, seed) and the state of the
  weights (trained, with the initial weights for reference);
* every axis says what it shows and in which normalisation (:math:`\gamma = s_i/\sqrt n`);
* curves that coincide are merged into one entry whose label says so ("BEMA = GB") or drawn in
  distinct line styles;
* layers that were not analysed are named, with the stage's reason, in a note under the panels;
* no legend or label shows a missing value: a quantity that is undefined is left out or named.

Method colours follow paper 000 ([1]_): BEMA red, Gaussian broadening (GB) blue; the modified
Marchenko–Pastur fit of paper 001 ([2]_) is green. In the universality figure trained weights are
blue and initial weights red, as in paper 001.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eqs. (2)–(6),
   Figs. 1–3.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   Figs. 1–3, Sec. 4.
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Theorem 2.2, App. A.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: figures are written to files only

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import transforms  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullLocator  # noqa: E402

from rmtweights.stages.common import RUN_KEYS  # noqa: E402

__all__ = [
    "spectrum_figure",
    "avew_accuracy_figure",
    "universality_figure",
    "comparison_figure",
    "spike_count_figure",
    "wigner_error_figure",
]

#: Display name, colour, line style and marker of each method (paper 000: BEMA red, GB blue).
METHOD_STYLES = {
    "bema": dict(name="BEMA", color="tab:red", ls="-", marker="o"),
    "gb": dict(name="GB", color="tab:blue", ls="--", marker="s"),
    "mp_fit": dict(name="modified MP fit", color="tab:green", ls="-.", marker="^"),
}
#: Kept for callers of the previous module: colour of each method.
METHOD_COLOURS = {method: style["color"] for method, style in METHOD_STYLES.items()}
_EXTRA_COLOURS = ("tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")

#: Trained weights blue, initial weights red (paper 001, Figs. 2–3).
STATE_STYLES = {
    "trained": dict(color="tab:blue", ls="-", marker="o", lw=1.3),
    "initial": dict(color="tab:red", ls="--", marker="x", lw=1.0),
}

_TRAINED_FILL = "tab:purple"  # trained histogram (paper 000 Fig. 1 shows one colour per spectrum)
_ACCURACY_COLOUR = "tab:purple"  # purple squares: accuracy (paper 000 Fig. 2)
_AVEW_COLOUR = "tab:green"  # green circles: Ave_w (paper 000 Fig. 2)
_GAMMA = r"$\gamma = s_i/\sqrt{n}$"


# --------------------------------------------------------------------------------------------------
# small helpers


def _style(method: str) -> dict:
    """Display style of ``method``; methods without a fixed style get a colour of their own."""
    if method in METHOD_STYLES:
        return METHOD_STYLES[method]
    colour = _EXTRA_COLOURS[sum(map(ord, method)) % len(_EXTRA_COLOURS)]
    return dict(name=method, color=colour, ls=":", marker="D")


def _num(value) -> float:
    """A table cell as float; ``<NA>``, None and unparsable values become NaN."""
    try:
        return float(value) if pd.notna(value) else math.nan
    except (TypeError, ValueError):
        return math.nan


def _fmt(value, spec: str = ".3g") -> str:
    """A number for a label; missing values read "n/a" (never "nan" or "<NA>")."""
    x = _num(value)
    return format(x, spec) if math.isfinite(x) else "n/a"


def _count(value) -> str:
    """An integer count (ŝ) for a label, "n/a" when missing."""
    x = _num(value)
    return str(int(round(x))) if math.isfinite(x) else "n/a"


def _natural_key(value) -> tuple:
    """Sort key that orders "bs64" before "bs128" and "N40" before "N200"."""
    parts = re.split(r"(\d+(?:\.\d+)?)", str(value))
    return tuple((0, float(p)) if i % 2 else (1, p) for i, p in enumerate(parts))


def _unique(frames: Iterable[pd.DataFrame], column: str) -> list[str]:
    """Distinct non-missing values of ``column`` over ``frames``, naturally sorted, as strings."""
    values = set()
    for frame in frames:
        if frame is not None and column in frame.columns:
            values.update(str(v) for v in frame[column].dropna().unique())
    return sorted(values, key=_natural_key)


def _run_label(*frames: pd.DataFrame, keys: Sequence[str] = RUN_KEYS) -> str:
    """"study S · dataset D · model M · variant V · seed K" from the run-key columns of ``frames``."""
    parts = []
    for key in keys:
        values = _unique(frames, key)
        if values:
            name = key if len(values) == 1 or key != "seed" else "seeds"
            parts.append(f"{name} {', '.join(values)}")
    return " · ".join(parts) if parts else "run keys not given"


def _ordered_layers(*frames: pd.DataFrame) -> list[str]:
    """Layer names in the order they first appear in ``frames`` (the model's order)."""
    seen: dict[str, None] = {}
    for frame in frames:
        if frame is not None and "layer" in frame.columns:
            seen.update(dict.fromkeys(str(v) for v in frame["layer"].dropna()))
    return list(seen)


def _require(frame: pd.DataFrame | None, columns: Iterable[str], name: str) -> None:
    """Raise ValueError naming the columns of ``columns`` that a non-empty ``frame`` lacks."""
    if frame is None or len(frame) == 0:
        return
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; it has {list(frame.columns)}")


def _ok(frame: pd.DataFrame) -> pd.Series:
    """Boolean mask of rows whose ``status`` is "ok" (all rows if there is no status column)."""
    if "status" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return frame["status"].astype(str).eq("ok")


def _layer_name(row) -> str:
    """"fc4 (10x84)": the layer and the shape of its weight, or n×m when the shape is unknown."""
    get = row.get if isinstance(row, dict) else (lambda k, d=None: getattr(row, k, d))
    shape = get("shape", None)
    n, m = _num(get("n", None)), _num(get("m", None))
    if isinstance(shape, str) and shape:
        dims = shape
    elif math.isfinite(n) and math.isfinite(m):
        dims = f"{int(n)}x{int(m)}"
    else:
        dims = ""
    return f"{get('layer', '?')} ({dims})" if dims else str(get("layer", "?"))


def _skipped_notes(frame: pd.DataFrame | None, *, exclude: Iterable[str] = (),
                   by: Sequence[str] = ("layer",)) -> list[str]:
    """One "layer (shape): skipped — reason" line per layer of ``frame`` whose rows are not ok.

    Rows are deduplicated over states and methods (their reason is the same); layers in
    ``exclude`` are left out (e.g. those already drawn).
    """
    if frame is None or frame.empty or "status" not in frame.columns or "layer" not in frame.columns:
        return []
    bad = frame[~_ok(frame)]
    exclude = set(exclude)
    notes = []
    for _, rows in bad.groupby(list(by), sort=False):
        row = rows.iloc[0]
        if str(row["layer"]) in exclude:
            continue
        reasons = sorted({str(r) for r in rows.get("reason", pd.Series(dtype=str)).dropna() if str(r)})
        status = str(row["status"])
        label = status if status in ("skipped", "failed", "partial") else f"status {status}"
        prefix = f"{row['model']} " if "model" in by else ""
        notes.append(f"{prefix}{_layer_name(row.to_dict())}: {label} — {'; '.join(reasons) or 'no reason recorded'}")
    return list(dict.fromkeys(notes))


def _failed_fit_notes(fits: pd.DataFrame, layer: str) -> list[str]:
    """Notes for the trained-weight fits of an analysed ``layer`` that are not ok (one per method)."""
    if fits is None or fits.empty or "status" not in fits.columns:
        return []
    rows = fits[(fits.layer == layer) & ~_ok(fits)]
    if "state" in rows.columns:
        rows = rows[rows.state == "trained"]
    return [f"{layer}, {_style(str(r.method))['name']}: fit {r.status} — {getattr(r, 'reason', '') or 'no reason'}"
            for r in rows.drop_duplicates("method").itertuples()]


def _grid(count: int, width: float, height: float, max_cols: int):
    """A figure with ``count`` panels in at most ``max_cols`` columns; unused cells hidden."""
    cols = max(1, min(max_cols, count))
    rows = max(1, int(np.ceil(count / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` at ``width`` characters without breaking inside ``$...$`` (mathtext)."""
    pieces = text.split("$")
    protected = "$".join(p.replace(" ", "\u00a0") if i % 2 else p for i, p in enumerate(pieces))
    lines = textwrap.wrap(protected, width=width, subsequent_indent="    ", break_long_words=False,
                          break_on_hyphens=False) or [""]
    return [line.replace("\u00a0", " ") for line in lines]


def _wrap_title(title: str, width: int) -> str:
    """Break each title line that is longer than ``width`` characters at its " · " separators."""
    out = []
    for line in title.split("\n"):
        parts = line.split(" · ")
        current = parts[0]
        for part in parts[1:]:
            if len(current) + 3 + len(part) > width:
                out.append(current)
                current = part
            else:
                current += " · " + part
        out.append(current)
    return "\n".join(out)


def _finish(fig: Figure, title: str, *, notes: Sequence[str] = (), handles: Sequence | None = None,
            ncol: int = 4, title_size: float = 11.0) -> Figure:
    """Add the figure title, an optional shared legend under it and notes under the panels.

    The figure grows by the room the title, legend and notes need, so the panels keep their size;
    then ``tight_layout`` places the panels in the rest.
    """
    width, height = fig.get_size_inches()
    title = _wrap_title(title, max(30, int(width * 72 / (0.58 * title_size))))
    title_lines = title.count("\n") + 1
    title_in = 0.24 * title_lines * title_size / 11.0 + 0.12
    legend_rows = int(np.ceil(len(handles) / ncol)) if handles else 0
    legend_in = 0.24 * legend_rows + 0.08 if legend_rows else 0.0
    chars = max(40, int(16.5 * width))
    lines = [line for note in notes for line in _wrap(note, chars)]
    notes_in = 0.165 * len(lines) + 0.15 if lines else 0.05
    total = height + title_in + legend_in + notes_in
    fig.set_size_inches(width, total)
    fig.suptitle(title, y=1.0 - 0.06 / total, va="top", fontsize=title_size).set_in_layout(False)
    if legend_rows:
        fig.legend(handles=list(handles), loc="upper center", ncol=ncol, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 1.0 - (title_in - 0.02) / total))
    if lines:
        fig.text(0.008, 0.06 / total, "\n".join(lines), ha="left", va="bottom", fontsize=7.5,
                 family="sans-serif", linespacing=1.25)
    fig.tight_layout(rect=(0.0, notes_in / total, 1.0, 1.0 - (title_in + legend_in) / total))
    return fig


def _vertical_marks(ax, marks: list[tuple[float, str, str, str]], *, gid_prefix: str, prefix: str,
                    ls: str = ":", lw: float = 1.3, merge_tol: float = 0.004, fontsize: float = 7.0) -> None:
    """Draw labelled vertical lines for ``marks`` = ``(x, method, colour, value)``.

    Each line is labelled along its length, at the top of the axes, "<prefix> <method> <value>"
    (e.g. "γ+ BEMA (ŝ = 3)"). Marks closer than ``merge_tol`` of the x range share one line, so
    coinciding lines stay readable: "γ+ BEMA = GB (ŝ = 0)" when their values agree, else
    "γ+ BEMA (ŝ = 3) | GB (ŝ = 2)". Of neighbouring lines the left one is labelled on its left and
    the right one on its right.
    """
    marks = sorted((m for m in marks if math.isfinite(m[0])), key=lambda m: m[0])
    if not marks:
        return
    lo, hi = ax.get_xlim()
    span = max(hi - lo, 1e-300)
    groups: list[list] = []
    for mark in marks:
        if groups and abs(mark[0] - groups[-1][-1][0]) <= merge_tol * span:
            groups[-1].append(mark)
        else:
            groups.append([mark])
    blend = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for i, group in enumerate(groups):
        x = float(np.mean([m[0] for m in group]))
        colour = group[0][2] if len({m[2] for m in group}) == 1 else "0.2"
        methods = "+".join(m[1] for m in group)
        ax.axvline(x, color=colour, ls=ls, lw=lw, gid=f"{gid_prefix}:{methods}", zorder=3)
        if len({m[3] for m in group}) == 1:
            text = f"{prefix} {_names([m[1] for m in group])} {group[0][3]}"
        else:
            text = f"{prefix} " + " | ".join(f"{_style(m[1])['name']} {m[3]}" for m in group)
        right_side = i % 2 == 1 or (len(groups) == 1 and (x - lo) < 0.5 * span)
        ax.annotate(text, xy=(x, 0.98), xycoords=blend, xytext=(2.5 if right_side else -2.5, 0),
                    textcoords="offset points", rotation=90, va="top", ha="left" if right_side else "right",
                    fontsize=fontsize, color=colour, gid=f"{gid_prefix}-label:{methods}", zorder=4,
                    bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.7))


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


def _names(methods: Sequence[str]) -> str:
    """"BEMA = GB": the display names of methods whose curves coincide."""
    return " = ".join(_style(m)["name"] for m in methods)


def _no_data(ax, text: str) -> None:
    """An empty panel that says why it is empty (its axes hidden)."""
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 42)), ha="center", va="center", fontsize=8,
            transform=ax.transAxes, color="0.3")
    ax.set_axis_off()


# --------------------------------------------------------------------------------------------------
# paper 000 Fig. 1: spectra


def _mod_mp_density(x: np.ndarray, q: float, sigma: float, nu_min: float, nu_max: float) -> np.ndarray:
    """The modified MP density of paper 001 (eq. (2) of [2]_ with free edges), as fitted by
    :func:`rmtweights.rmt.estimators.modified_mp_fit`."""
    from rmtweights.rmt.mp import _generalised_pdf

    return _generalised_pdf(np.asarray(x, dtype=float), nu_min, nu_max, q * sigma * sigma)  # eq. (2) of [2]


def _x_range(values: Sequence[np.ndarray], marks: Sequence[float], top: float) -> tuple[float, float, float]:
    """x limits of a spectrum panel: ``(lo, hi, clip)``.

    ``hi`` covers the bulk and every mark; the largest values are cut off (``clip`` < their maximum)
    when they lie more than 2.5 times beyond that, so far outliers do not squeeze the bulk.
    """
    data = np.concatenate([v for v in values if len(v)]) if any(len(v) for v in values) else np.array([1.0])
    finite_marks = [m for m in marks if math.isfinite(m)]
    base = max(finite_marks + [float(np.quantile(data, 0.9))])
    lo_data = float(data.min())
    if top <= 2.5 * base:
        hi = 1.04 * max(top, base)
    else:
        hi = 1.6 * base
    lo = max(0.0, lo_data - 0.06 * (hi - lo_data))
    return lo, hi, hi


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

    _require(spectra, ("layer", "state", "gamma", "q", "n", "m"), "spectra")
    _require(fits, ("layer", "method", "sigma", "gamma_plus", "s_hat"), "fits")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    if isinstance(max_cols, bool) or not isinstance(max_cols, (int, np.integer)) or max_cols < 1:
        raise ValueError(f"max_cols must be a positive integer, got {max_cols!r}")
    ok = spectra[_ok(spectra)] if len(spectra) else spectra
    layers = _ordered_layers(ok)
    fits_ok = fits[_ok(fits)] if len(fits) else fits
    trained_fits = fits_ok[fits_ok.state == "trained"] if "state" in fits_ok.columns else fits_ok
    fig, axes = _grid(max(1, len(layers)), 4.6, 3.3, max_cols)
    notes: list[str] = []
    drawn: dict[str, object] = {}
    has_nu_max = "nu_max" in fits.columns
    for ax, layer in zip(axes, layers):
        rows = ok[ok.layer == layer]
        trained = rows[rows.state == "trained"].gamma.to_numpy(dtype=float)
        initial = rows[rows.state == "initial"].gamma.to_numpy(dtype=float)
        trained, initial = trained[np.isfinite(trained)], initial[np.isfinite(initial)]
        if trained.size == 0:
            _no_data(ax, f"{layer}: no trained spectrum")
            continue
        first = rows.iloc[0]
        q, n, m = float(first.q), int(first.n), int(first.m)
        lf = trained_fits[trained_fits.layer == layer]
        thr = lf[np.isfinite(lf.gamma_plus.map(_num))] if len(lf) else lf
        mod = lf[(lf.method == "mp_fit")] if len(lf) else lf
        nu_max = _num(mod.nu_max.iloc[0]) if has_nu_max and len(mod) else math.nan
        marks = [_num(g) for g in thr.gamma_plus] + ([nu_max] if math.isfinite(nu_max) else [])
        if len(initial):
            marks.append(float(initial.max()))
        lo, hi, clip = _x_range([trained, initial], marks, float(trained.max()))
        # about 2 sqrt(m) bins over the bulk: spiky histograms of small layers hide the shape
        edges = np.linspace(lo, hi, min(bins, max(10, int(2 * np.sqrt(trained.size)))) + 1)
        width = edges[1] - edges[0]
        # densities over all m values, so the area under the histogram matches the MP density's
        ax.hist(trained, bins=edges, weights=np.full(trained.size, 1.0 / (trained.size * width)),
                color=_TRAINED_FILL, alpha=0.5, gid="hist:trained")
        drawn["trained"] = Patch(color=_TRAINED_FILL, alpha=0.5, label="trained weights")
        if len(initial):
            ax.hist(initial, bins=edges, weights=np.full(initial.size, 1.0 / (initial.size * width)),
                    histtype="step", color="0.3", lw=0.9, alpha=0.8, gid="hist:initial")
            drawn["initial"] = Line2D([], [], color="0.3", lw=0.9, label="initial weights (grey outline)")
        grid = np.linspace(max(lo, 1e-12), hi, 800)
        sigma_parts = []
        for fit in thr.itertuples():
            style = _style(fit.method)
            sigma = _num(fit.sigma)
            if not (math.isfinite(sigma) and sigma > 0):
                continue
            ax.plot(grid, mp_pdf(grid, q, sigma), color=style["color"], ls=style["ls"], lw=1.4,  # eq. (2) of [1]
                    gid=f"mp:{fit.method}", zorder=2)
            drawn[f"mp:{fit.method}"] = Line2D([], [], color=style["color"], ls=style["ls"], lw=1.4,
                                               label=rf"MP density at $\hat\sigma$ ({style['name']})")
            sigma_parts.append(rf"{style['name']} {_fmt(sigma, '.4g')}")
        for fit in mod.itertuples():
            sigma = _num(fit.sigma)
            if not math.isfinite(sigma):
                continue
            sigma_parts.append(rf"mod. MP {_fmt(sigma, '.4g')}")
            if math.isfinite(nu_max):
                nu_min = float(trained.min())
                density = _mod_mp_density(grid, q, sigma, nu_min, nu_max)  # eq. (2) of [2]
                ax.plot(grid, density, color=_style("mp_fit")["color"], ls=_style("mp_fit")["ls"], lw=1.4,
                        gid="mp:mp_fit", zorder=2)
                drawn["mp:mp_fit"] = Line2D([], [], color=_style("mp_fit")["color"], ls=_style("mp_fit")["ls"],
                                            lw=1.4, label=r"modified MP fit (paper 001): edges $\nu_{\min}$, "
                                                          r"$\nu_{\max}$ free")
        if len(mod) and not has_nu_max:
            drawn["no-nu-max"] = True
        ax.set_xlim(lo, hi)
        # thresholds: labelled dotted lines, coinciding ones merged
        marks_drawn, gamma_parts = [], []
        for fit in thr.itertuples():
            style = _style(fit.method)
            marks_drawn.append((_num(fit.gamma_plus), fit.method, style["color"],
                                rf"($\hat s$ = {_count(fit.s_hat)})"))
            gamma_parts.append(f"{style['name']} {_fmt(fit.gamma_plus, '.4g')} ({_count(fit.s_hat)})")
        _vertical_marks(ax, marks_drawn, gid_prefix="gamma_plus", prefix=r"$\gamma_+$")
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
        ax.set_xlabel(_GAMMA + " (normalised singular value)", fontsize=8.5)
        ax.set_ylabel(r"density per unit $\gamma$ (area = 1)", fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        notes.extend(_failed_fit_notes(fits, layer))
    if not layers:
        _no_data(axes[0], "no layer of this run has a spectrum")
    skipped = _skipped_notes(spectra, exclude=layers)
    if skipped:
        notes.insert(0, "Layers not analysed: " + "; ".join(skipped))
    if drawn.pop("no-nu-max", False):
        notes.append("The modified-MP fit's density is not drawn: the fit table has no nu_max column "
                     r"(its $\hat\sigma$ is in the panel title).")
    handles = [h for h in drawn.values() if not isinstance(h, bool)]
    title = (f"Singular-value spectra against the Marchenko–Pastur law (paper 000 Fig. 1)\n"
             f"{_run_label(spectra, fits)} · state: trained weights (grey outline: initial weights)")
    return _finish(fig, title, notes=notes, handles=handles, ncol=min(4, max(1, len(handles))))


# --------------------------------------------------------------------------------------------------
# paper 000 Fig. 2: Ave_w and accuracy


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
    are drawn once with a label such as "BEMA = GB". Test accuracy after keeping the top s
    singular values (others zero) is on the right axis (purple squares); the estimators'
    :math:`\hat s` are labelled vertical lines. The legend gives the Pearson correlation of the
    implied Ave_w with accuracy over the drawn s.

    Parameters
    ----------
    curve : pandas.DataFrame
        The run's Ave_w curve table (``layer, method, s, reading, ave_w``).
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
    _require(curve, ("layer", "method", "s", "reading", "ave_w"), "curve")
    _require(accuracy, ("s", "accuracy"), "accuracy")
    _require(fits, ("layer", "method", "s_hat"), "fits")
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    sub = curve[curve.layer == layer] if len(curve) else curve
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
                colour = _AVEW_COLOUR if len(curves) == len(group) else _style(group[0])["color"]
                marker = "o" if len(curves) == len(group) else _style(group[0])["marker"]
                same = f" (same curve for {_names(group)})" if len(group) > 1 else f" ({_names(group)})"
                label = rf"Ave$_w(\hat\phi)$, implied $\sigma(s)${same} — reproduces paper 000 Fig. 2"
                ax.plot(values.index, values.to_numpy(), color=colour, ls="-", lw=1.8, marker=marker, ms=4,
                        label=label, gid=f"avew:implied:{'+'.join(group)}", zorder=3)
                implied_groups.append((group, values))
            else:
                colour = _style(group[0])["color"] if len(group) == 1 else "0.3"
                label = (rf"Ave$_w(\hat\phi)$, fixed $\sigma = \hat\sigma$ ({_names(group)}"
                         + (", identical" if len(group) > 1 else "") + ") — secondary reading")
                ax.plot(values.index, values.to_numpy(), color=colour, ls=":", lw=1.0, marker=".", ms=3,
                        label=label, gid=f"avew:fixed:{'+'.join(group)}", zorder=2)
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
            r_text = "; Pearson r with implied Ave$_w$: " + ", ".join(f"{_names(g)} {r:.2f}" for g, r in rs)
        else:
            r_text = ""
        twin.plot(acc.s, acc.accuracy, color=_ACCURACY_COLOUR, marker="s", ms=4, lw=1.2,
                  label=f"test accuracy after keeping the top s{r_text}", gid="accuracy", zorder=3)
    else:
        notes.append(f"No pruning accuracies for {layer} in the pruning table.")
    twin.set_ylabel(f"test accuracy (fraction), top s of {layer} kept", color=_ACCURACY_COLOUR)
    twin.tick_params(axis="y", colors=_ACCURACY_COLOUR)
    # s-hat of each estimator
    lf = fits[(fits.layer == layer) & _ok(fits)] if len(fits) else fits
    if "state" in lf.columns:
        lf = lf[lf.state == "trained"]
    hats = [(_num(f.s_hat), f.method) for f in lf.itertuples() if math.isfinite(_num(f.s_hat))]
    if hats:
        s_max = max(s_max, int(max(h for h, _ in hats)))
    ax.set_xlim(-0.5, s_max + 0.8)
    marks = [(h, method, _style(method)["color"], f"= {int(h)}") for h, method in hats]
    _vertical_marks(ax, marks, gid_prefix="s_hat", prefix=r"$\hat s$", ls="--", lw=1.2, merge_tol=0.001)
    if hats:
        ax.plot([], [], color="0.3", ls="--", lw=1.2, label=r"$\hat s$ of each estimator (vertical lines)")
    if len(sub) == 0:
        ax.text(0.5, 0.5, f"no Ave_w curve for {layer}", transform=ax.transAxes, ha="center", fontsize=9)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.set_title("Ave$_w$ (left axis) and test accuracy (right axis) against the kept rank s", fontsize=9)
    notes.append(r"Implied reading (solid): $\sigma(s)$ from eq. 3 inverted at $\gamma_{s+1}$ — the reading that "
                 "reproduces paper 000 Fig. 2 (Ave$_w$ rising with accuracy). Fixed reading (dotted): "
                 r"$\sigma = \hat\sigma$ of the estimator; singular values below its $\gamma_+$ get "
                 r"$\hat\phi = 0$, so it falls with s.")
    skipped = _skipped_notes(fits)
    if skipped:
        notes.append("Layers of this run not analysed: " + "; ".join(skipped))
    first = lf.iloc[0] if len(lf) else None
    dims = f" ({int(first.n)}×{int(first.m)})" if first is not None and "n" in lf.columns else ""
    title = (f"Ave$_w$ and keep-top-s accuracy, layer {layer}{dims} (paper 000 Fig. 2)\n"
             f"{_run_label(curve, accuracy, fits)} · state: trained weights")
    return _finish(fig, title, notes=notes, handles=handles, ncol=1, title_size=10.5)


# --------------------------------------------------------------------------------------------------
# paper 001 Figs. 1–2: universality


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

    _require(spacings, ("state", "layer", "bin_left", "bin_right", "density"), "spacings")
    _require(number_variance, ("state", "layer", "l", "sigma2"), "number_variance")
    _require(porter_thomas, ("state", "layer", "rank", "p_value_moving_avg"), "porter_thomas")
    _require(summary, ("state", "layer", "status"), "summary")
    frames = (spacings, number_variance, porter_thomas)
    layers = _ordered_layers(*frames)
    fig, axes = plt.subplots(max(1, len(layers)), 3, figsize=(13.5, 2.75 * max(1, len(layers))), squeeze=False)
    notes: list[str] = []
    p_values = {}
    reasons = {}
    dims = {}
    if summary is not None and len(summary):
        for row in summary.itertuples():
            n, m = _num(getattr(row, "n", math.nan)), _num(getattr(row, "m", math.nan))
            if math.isfinite(n) and math.isfinite(m):
                dims[str(row.layer)] = f" ({int(n)}×{int(m)})"
            if str(getattr(row, "status", "ok")) == "ok":
                p_values[(row.state, row.layer)] = _num(getattr(row, "p_value", math.nan))
            else:
                reasons[str(row.layer)] = str(getattr(row, "reason", ""))
    states = [s for s in ("trained", "initial") if any(s in set(f.get("state", pd.Series(dtype=str))) for f in frames)]
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
            _no_data(ax_sp, f"{layer}: no spacing statistics — {reasons.get(layer, 'not in the spacing table')}")
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
            _no_data(ax_nv, f"{layer}: no number variance — {reasons.get(layer, 'not in the table')}")
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
            _no_data(ax_pt, f"{layer}: no Porter–Thomas test — {reasons.get(layer, 'not in the table')}")
        ax_pt.set_title(f"{layer}{dims.get(layer, '')}: Porter–Thomas test of singular vectors", fontsize=9)
        for ax in row_axes:
            ax.tick_params(labelsize=7.5)
    if not layers:
        for ax in axes[0]:
            _no_data(ax, "no layer of this run has universality statistics")
    if summary is not None and len(summary):
        skipped = _skipped_notes(summary, exclude=layers)
        partial = [n for n in _skipped_notes(summary) if n not in skipped]
        if skipped:
            notes.append("Layers not analysed: " + "; ".join(skipped))
        if partial:
            notes.append("Spacing statistics skipped: " + "; ".join(partial))
    notes.append("Unfolding and spacings as in paper 001 App. C; trained weights blue (solid), initial red "
                 "(dashed). Porter–Thomas: KS test of each singular vector's entries against a Gaussian.")
    title = (f"Random-matrix universality of the bulk (paper 001 Figs. 1–2)\n"
             f"{_run_label(*frames)} · states: trained (blue) and initial (red)")
    return _finish(fig, title, notes=notes)


# --------------------------------------------------------------------------------------------------
# paper 000 Fig. 3: variants compared


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

    _require(spectra, ("dataset", "model", "variant", "seed", "state", "layer", "gamma", "q"), "spectra")
    _require(fits, ("dataset", "model", "variant", "seed", "state", "layer", "method", "sigma", "gamma_plus",
                    "s_hat"), "fits")
    _require(table, ("dataset", "model", "variant", "test_acc_mean"), "table")
    ok = spectra[_ok(spectra) & (spectra.state == "trained")] if len(spectra) else spectra
    models = sorted({(str(d), str(m)) for d, m in zip(ok.dataset, ok.model)}, key=_natural_key) if len(ok) else []
    variants = {dm: sorted({str(v) for v in ok[(ok.dataset == dm[0]) & (ok.model == dm[1])].variant},
                           key=_natural_key) for dm in models}
    n_cols = max([len(v) for v in variants.values()] + [1]) + (1 if table is not None else 0)
    fig, grid = plt.subplots(max(1, len(models)), n_cols, figsize=(4.0 * n_cols, 3.4 * max(1, len(models))),
                             squeeze=False)
    style = _style(method)
    notes: list[str] = []
    legend: dict[str, object] = {}
    for row_axes, (dataset, model) in zip(grid, models):
        rows_m = ok[(ok.dataset == dataset) & (ok.model == model)]
        layers_m = _ordered_layers(rows_m)
        chosen = layer if layer in layers_m else layers_m[0]
        if layer is not None and layer not in layers_m:
            notes.append(f"{model}: layer {layer} has no spectrum; showing {chosen}.")
        rows_l = rows_m[rows_m.layer == chosen]
        vals = rows_l.gamma.to_numpy(float)
        fit_rows = fits[(fits.dataset == dataset) & (fits.model == model) & (fits.layer == chosen)
                        & (fits.state == "trained") & (fits.method == method) & _ok(fits)] if len(fits) else fits
        marks = [_num(g) for g in fit_rows.gamma_plus] if len(fit_rows) else []
        lo, hi, clip = _x_range([vals], marks, float(np.nanmax(vals)))
        per_variant = max(1, vals.size // max(1, len(variants[(dataset, model)])))
        edges = np.linspace(lo, hi, min(50, max(10, int(2 * np.sqrt(per_variant)))) + 1)
        width = edges[1] - edges[0]
        grid_x = np.linspace(max(lo, 1e-12), hi, 600)
        acc = {}
        if table is not None and len(table):
            tm = table[(table.dataset.astype(str) == dataset) & (table.model.astype(str) == model)]
            for variant, trow in tm.groupby(tm.variant.astype(str), sort=False):
                first = trow.iloc[0]
                acc[variant] = (_num(first.get("test_acc_mean")), _num(first.get("test_acc_sd")),
                                _num(first.get("test_acc_n")))
        for ax, variant in zip(row_axes, variants[(dataset, model)]):
            rv = rows_l[rows_l.variant.astype(str) == variant]
            g = rv.gamma.to_numpy(float)
            seeds = sorted({int(s) for s in rv.seed})
            ax.hist(g, bins=edges, weights=np.full(g.size, 1.0 / (g.size * width)), color=_TRAINED_FILL,
                    alpha=0.5, gid="hist:trained")
            legend["hist"] = Patch(color=_TRAINED_FILL, alpha=0.5,
                                   label="trained singular values (all seeds pooled)")
            fv = fit_rows[fit_rows.variant.astype(str) == variant].sort_values("seed")
            q = float(rv.q.iloc[0])
            for fit in fv.itertuples():
                sigma = _num(fit.sigma)
                if math.isfinite(sigma) and sigma > 0:
                    ax.plot(grid_x, mp_pdf(grid_x, q, sigma), color="k", ls="--", lw=1.0,  # eq. (2) of [1]
                            gid=f"mp:{method}:seed{fit.seed}")
                    legend["mp"] = Line2D([], [], color="k", ls="--", lw=1.0,
                                          label=rf"MP density at $\hat\sigma$ ({style['name']}), one per seed")
                x = _num(fit.gamma_plus)
                if math.isfinite(x):
                    ax.axvline(x, color=style["color"], ls="-", lw=1.1, gid=f"gamma_plus:{method}:seed{fit.seed}")
                    legend["gp"] = Line2D([], [], color=style["color"], ls="-", lw=1.1,
                                          label=rf"threshold $\gamma_+$ ({style['name']}, eq. 3), one per seed")
            ax.set_xlim(lo, hi)
            hats = [_count(h) for h in fv.s_hat] if len(fv) else []
            aw = [_num(x) for x in fv.ave_w] if "ave_w" in fv.columns else []
            lines = [f"{model} · {variant} · layer {chosen}"]
            mean, sd, n_acc = acc.get(variant, (math.nan, math.nan, math.nan))
            if math.isfinite(mean):
                acc_text = f"test accuracy {100 * mean:.1f}%"
                if math.isfinite(sd) and _num(n_acc) > 1:
                    acc_text += f" ± {100 * sd:.1f} (SD, {int(_num(n_acc))} seeds)"
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
            ax.set_xlabel(_GAMMA + " (normalised singular value)", fontsize=8.5)
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
            ax.errorbar(x, means, yerr=[means - lower, upper - means], fmt="s", color=_ACCURACY_COLOUR, ms=7,
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
        _no_data(grid[0][0], "no trained spectrum in the study")
    if table is None:
        notes.append("Test accuracy not shown: the comparison table was not given to this figure.")
    skipped = _skipped_notes(fits[fits.state == "trained"] if len(fits) else fits, by=("model", "layer"))
    if skipped:
        notes.append("Layers not analysed: " + "; ".join(dict.fromkeys(skipped)))
    title = (f"Spectra of the variants compared by {key}, beside test accuracy (paper 000 Fig. 3)\n"
             f"{_run_label(spectra, fits)} · state: trained weights")
    return _finish(fig, title, notes=notes, handles=list(legend.values()), ncol=3)


# --------------------------------------------------------------------------------------------------
# paper 003 App. A: spike counts


def spike_count_figure(counts: pd.DataFrame, growth: pd.DataFrame) -> Figure:
    r"""Paper 003 App. A: spikes (singular values above :math:`\gamma_+`) against the width N.

    Left: each layer's spike count per method (mean over seeds; bars span the seeds' minimum to
    maximum, so they never go below zero), with the growth law :math:`r(N) = c N^\kappa` fitted to
    the N × N layer ([3]_, Assumption 2) when it could be fitted. Middle: the fraction of singular
    values in the bulk, :math:`1 - \hat s/m`. Right: the final test accuracy per N (mean ± SD over
    seeds, clipped to [0, 1]). Methods are told apart by line style and marker (BEMA solid
    circles, GB dashed open squares) and by a small horizontal offset, so equal counts stay
    visible.

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
    _require(counts, ("N", "layer", "method", "spikes_mean"), "counts")
    _require(growth, ("method", "status"), "growth")
    fig, (ax, ax_bulk, ax_acc) = plt.subplots(1, 3, figsize=(15.0, 4.4), gridspec_kw=dict(width_ratios=[1.5, 1, 1]))
    notes: list[str] = []
    good = counts[_ok(counts) | counts.spikes_mean.notna()] if len(counts) else counts
    layers = _ordered_layers(good)
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
        style = _style(method)
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
        name = _style(str(fit.method))["name"]
        kappa, c = _num(getattr(fit, "kappa", math.nan)), _num(getattr(fit, "c", math.nan))
        status = str(getattr(fit, "status", "ok"))
        if status == "ok" and math.isfinite(kappa) and math.isfinite(c) and fit_grid.size:
            lo_ci, hi_ci = _num(getattr(fit, "kappa_ci_low", math.nan)), _num(getattr(fit, "kappa_ci_high", math.nan))
            level = _num(getattr(fit, "level", math.nan))
            ci_name = f"{100 * level:.0f}% CI" if math.isfinite(level) else "CI"
            ci = (f", {ci_name} [{lo_ci:.2f}, {hi_ci:.2f}]" if math.isfinite(lo_ci) and math.isfinite(hi_ci)
                  else "")
            law = c * fit_grid ** kappa  # Assumption 2 of [3]
            ax.plot(fit_grid, law, color="k", ls=_style(str(fit.method))["ls"], lw=0.9,
                    label=rf"fit $r = c N^\kappa$ to {fit.layer} (the N×N layer), {name}: c = {c:.3g}, "
                          rf"$\kappa$ = {kappa:.2f}{ci}",
                    gid=f"growth:{fit.method}")
        else:
            notes.append(f"Growth law r = c N^κ for {name}" + (f" ({fit.layer})" if str(fit.layer) else "")
                         + f" not fitted: {getattr(fit, 'reason', '') or status}")
    ax.set_xlabel("layer width N (the variant's hidden size)", fontsize=8.5)
    ax.set_ylabel(r"spikes $\hat s$: singular values above $\gamma_+$", fontsize=8.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    top = max(1.0, float(np.nanmax(good.spikes_max)) if len(good) and "spikes_max" in good.columns
              and good.spikes_max.notna().any() else 1.0)
    ax.set_ylim(-0.04 * top - 0.1, 1.12 * top + 0.3)
    ax.set_title("spike count (marker: mean over seeds; bar: seeds' min–max)", fontsize=9)
    # below the panel: inside it the legend would hide the counts
    ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax_bulk.set_xlabel("layer width N", fontsize=8.5)
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
        ax_acc.errorbar(per_n.N, mean, yerr=yerr, color=_ACCURACY_COLOUR, marker="s", ms=5, lw=1.2, capsize=3,
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
    skipped = _skipped_notes(counts, by=("layer",))
    if skipped:
        notes.insert(0, "Layers not analysed: " + "; ".join(skipped))
    seeds = _unique([counts], "n_seeds")
    variants = ", ".join(f"N = {int(n)}" for n in Ns)
    title = (f"Spikes above the MP threshold against layer width (paper 003 App. A)\n"
             f"{_run_label(counts, keys=('study', 'dataset', 'model'))} · variants {variants or 'none'} · "
             f"seeds per N: {', '.join(seeds) or 'n/a'} · state: trained weights")
    return _finish(fig, title, notes=notes)


# --------------------------------------------------------------------------------------------------
# paper 003 Theorem 2.2: outlier error


def wigner_error_figure(summary: pd.DataFrame, rate: dict | None = None) -> Figure:
    r"""Paper 003 Theorem 2.2: outlier error against N on log–log axes.

    For the deformed Wigner matrix :math:`W = R/\sqrt N + S` with r spikes, the error
    :math:`|\lambda_j(W) - \Phi(\lambda_j(S))|` (eq. (2.5) of [3]_) is shown as its maximum and
    mean over the spikes (each averaged over seeds), with the log–log least-squares fit
    :math:`\mathrm{err} \propto N^{\text{rate}}` of the mean error and the reference slope
    :math:`N^{-1/2}` (finite-rank fluctuations) through the first mean-error point.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per N: ``N, max_error, mean_error``, optionally ``r``, ``n_seeds``, ``rate_exponent``.
    rate : dict, optional
        ``{"exponent", "intercept"}`` of the fit (natural log); default: ``rate_exponent`` of the
        summary, through the geometric mean of the mean errors.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(summary, ("N", "max_error", "mean_error"), "summary")
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    agg = summary.groupby("N", sort=True)[["max_error", "mean_error"]].mean().reset_index()
    Ns = agg.N.to_numpy(float)
    positive = (agg.max_error > 0) & (agg.mean_error > 0)
    agg = agg[positive]
    Ns = agg.N.to_numpy(float)
    ax.loglog(Ns, agg.max_error, "o-", color="tab:blue", lw=1.3, label="max error over the r spikes", gid="max")
    ax.loglog(Ns, agg.mean_error, "s-", color="tab:orange", lw=1.3, label="mean error over the r spikes",
              gid="mean")
    exponent = _num((rate or {}).get("exponent", math.nan))
    intercept = _num((rate or {}).get("intercept", math.nan))
    if not math.isfinite(exponent) and "rate_exponent" in summary.columns and len(summary):
        exponent = _num(summary.rate_exponent.iloc[0])
    if math.isfinite(exponent) and Ns.size:
        if not math.isfinite(intercept):
            intercept = float(np.mean(np.log(agg.mean_error)) - exponent * np.mean(np.log(Ns)))
        ax.loglog(Ns, np.exp(intercept) * Ns ** exponent, "k--", lw=1.0,
                  label=rf"fit to the mean error: $\propto N^{{{exponent:.2f}}}$", gid="fit")
    if Ns.size:
        anchor = float(agg.mean_error.iloc[0])
        ax.loglog(Ns, anchor * (Ns / Ns[0]) ** -0.5, color="0.5", ls=":", lw=1.4,  # reference slope only
                  label=r"reference slope $N^{-1/2}$ (through the first mean error)", gid="reference")
    if "r" in summary.columns:
        rs = summary.groupby("N", sort=True).r.first()
        for N, y in zip(Ns, agg.max_error):
            if N in rs.index:
                ax.annotate(f"r={int(rs[N])}", (N, y), textcoords="offset points", xytext=(0, 6), ha="center",
                            fontsize=7, color="tab:blue")
    if 0 < Ns.size <= 8:
        ax.set_xticks(Ns, [str(int(N)) for N in Ns])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("matrix size N (log scale)", fontsize=9)
    ax.set_ylabel(r"outlier error $|\lambda_j(W) - \Phi(\lambda_j(S))|$ (log scale)", fontsize=9)
    ax.set_title(r"deformed Wigner matrix $W = R/\sqrt{N} + S$ with r spikes", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    seeds = _unique([summary], "n_seeds")
    rs_all = _unique([summary], "r")
    title = ("Outlier error against N (paper 003 Theorem 2.2)\n"
             f"synthetic sweep (no network) · r = {', '.join(rs_all) or 'n/a'} spikes · "
             f"seeds per N: {', '.join(seeds) or 'n/a'}")
    notes = [r"Error of eq. 2.5: eigenvalue $\lambda_j(W)$ minus its prediction $\Phi(\lambda_j(S))$ of eq. 1.9, "
             "averaged over seeds; the fitted rate uses every (N, seed) mean error."]
    if np.unique(Ns).size == 2 and _unique([summary], "n_seeds") == ["1"]:
        notes.append("With two sizes and one seed the fitted line passes through both mean errors.")
    return _finish(fig, title, notes=notes, title_size=10.5)
