r"""The house style of the figures: colours, method styles, and the helpers every figure uses.

Every figure of :mod:`rmtweights.plots` is meant to be read without the code:

* a figure-level title names the run (study, dataset, model, variant, seed) and the state of the
  weights (trained, with the initial weights for reference) (:func:`finish`,
  :func:`rmtweights.formatting.run_label`);
* every axis says what it shows and in which normalisation (:data:`GAMMA_LABEL`);
* curves that coincide are merged into one entry whose label says so ("BEMA = GB",
  :func:`method_names`) or drawn in distinct line styles;
* layers that were not analysed are named, with the stage's reason, in a note under the panels
  (:func:`skipped_notes`);
* no legend or label shows a missing value: a quantity that is undefined is left out or named
  (:func:`rmtweights.formatting.fmt`, :func:`count_text`).

Method colours follow paper 000 ([1]_): BEMA red, Gaussian broadening (GB) blue; the modified
Marchenko–Pastur fit of paper 001 ([2]_) is green. The methods' names for a reader come from the
registry (:mod:`rmtweights.methods`); their colours live here, so that restyling a figure reruns no
fit. In the universality figure trained weights are blue and initial weights red, as in paper 001.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Figs. 1–3.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   Figs. 1–3.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.figure import Figure

from rmtweights.formatting import number
from rmtweights.methods import METHODS
from rmtweights.tensors import shape_text

__all__ = [
    "METHOD_STYLES",
    "STATE_STYLES",
    "TRAINED_FILL",
    "ACCURACY_COLOUR",
    "AVEW_COLOUR",
    "GAMMA_LABEL",
    "method_style",
    "method_names",
    "count_text",
    "ordered_layers",
    "require_columns",
    "ok_rows",
    "layer_name",
    "skipped_notes",
    "failed_fit_notes",
    "panel_grid",
    "wrap_note",
    "wrap_title",
    "finish",
    "vertical_marks",
    "no_data",
    "x_range",
]

#: Colour, line style and marker of each method of :data:`rmtweights.methods.METHODS` (paper 000:
#: BEMA red, GB blue).
METHOD_STYLES = {
    "bema": dict(color="tab:red", ls="-", marker="o"),
    "gb": dict(color="tab:blue", ls="--", marker="s"),
    "modified_mp": dict(color="tab:green", ls="-.", marker="^"),
}
_EXTRA_COLOURS = ("tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")

#: Trained weights blue, initial weights red (paper 001, Figs. 2–3); the random baseline of a model
#: given as a weights file (:mod:`rmtweights.baselines`) red like the initial weights it stands in for.
STATE_STYLES = {
    "trained": dict(color="tab:blue", ls="-", marker="o", lw=1.3),
    "initial": dict(color="tab:red", ls="--", marker="x", lw=1.0),
    "baseline": dict(color="tab:red", ls="--", marker="x", lw=1.0),
}

TRAINED_FILL = "tab:purple"  # trained histogram (paper 000 Fig. 1 shows one colour per spectrum)
ACCURACY_COLOUR = "tab:purple"  # purple squares: accuracy (paper 000 Fig. 2)
AVEW_COLOUR = "tab:green"  # green circles: Ave_w (paper 000 Fig. 2)
GAMMA_LABEL = r"$\gamma = s_i/\sqrt{n}$"


def method_style(method: str) -> dict:
    """Display name (from the registry), colour, line style and marker of ``method``; a method
    without a fixed style gets a colour of its own."""
    if method in METHOD_STYLES:
        return dict(name=METHODS[method].display, **METHOD_STYLES[method])
    colour = _EXTRA_COLOURS[sum(map(ord, method)) % len(_EXTRA_COLOURS)]
    return dict(name=method, color=colour, ls=":", marker="D")


def count_text(value) -> str:
    """An integer count (ŝ) for a label, "n/a" when missing."""
    x = number(value)
    return str(int(round(x))) if math.isfinite(x) else "n/a"


def ordered_layers(*frames: pd.DataFrame) -> list[str]:
    """Layer names in the order they first appear in ``frames`` (the model's order)."""
    seen: dict[str, None] = {}
    for frame in frames:
        if frame is not None and "layer" in frame.columns:
            seen.update(dict.fromkeys(str(v) for v in frame["layer"].dropna()))
    return list(seen)


def require_columns(frame: pd.DataFrame | None, columns: Iterable[str], name: str) -> None:
    """Raise ValueError naming the columns of ``columns`` that a non-empty ``frame`` lacks."""
    if frame is None or len(frame) == 0:
        return
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; it has {list(frame.columns)}")


def ok_rows(frame: pd.DataFrame) -> pd.Series:
    """Boolean mask of rows whose ``status`` is "ok" (all rows if there is no status column)."""
    if "status" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return frame["status"].astype(str).eq("ok")


def layer_name(row) -> str:
    """"fc4 (10×84 matrix)": the layer and its shape in words (:func:`rmtweights.tensors.shape_text`), or
    n×m when the weight's shape is unknown."""
    get = row.get if isinstance(row, dict) else (lambda k, d=None: getattr(row, k, d))
    shape = get("shape", None)
    n, m = number(get("n", None)), number(get("m", None))
    n, m = (int(n), int(m)) if math.isfinite(n) and math.isfinite(m) else (0, 0)
    if isinstance(shape, str) and shape:
        kind, reshape = get("kind", None), get("reshape", None)
        dims = shape_text(shape, n, m, kind if isinstance(kind, str) else "linear",
                          reshape if isinstance(reshape, str) else "spatial")
    elif n and m:
        dims = f"{n}×{m}"
    else:
        dims = ""
    return f"{get('layer', '?')} ({dims})" if dims else str(get("layer", "?"))


def skipped_notes(frame: pd.DataFrame | None, *, exclude: Iterable[str] = (),
                  by: Sequence[str] = ("layer",)) -> list[str]:
    """One "layer (shape): skipped — reason" line per layer of ``frame`` whose rows are not ok.

    Rows are deduplicated over states and methods (their reason is the same); layers in
    ``exclude`` are left out (e.g. those already drawn).
    """
    if frame is None or frame.empty or "status" not in frame.columns or "layer" not in frame.columns:
        return []
    bad = frame[~ok_rows(frame)]
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
        notes.append(f"{prefix}{layer_name(row.to_dict())}: {label} — {'; '.join(reasons) or 'no reason recorded'}")
    return list(dict.fromkeys(notes))


def failed_fit_notes(fits: pd.DataFrame, layer: str) -> list[str]:
    """Notes for the trained-weight fits of an analysed ``layer`` that are not ok (one per method)."""
    if fits is None or fits.empty or "status" not in fits.columns:
        return []
    rows = fits[(fits.layer == layer) & ~ok_rows(fits)]
    if "state" in rows.columns:
        rows = rows[rows.state == "trained"]
    return [f"{layer}, {method_style(str(r.method))['name']}: fit {r.status} — "
            f"{getattr(r, 'reason', '') or 'no reason'}" for r in rows.drop_duplicates("method").itertuples()]


def panel_grid(count: int, width: float, height: float, max_cols: int):
    """A figure with ``count`` panels in at most ``max_cols`` columns; unused cells hidden."""
    cols = max(1, min(max_cols, count))
    rows = max(1, int(np.ceil(count / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def wrap_note(text: str, width: int) -> list[str]:
    """Wrap ``text`` at ``width`` characters without breaking inside ``$...$`` (mathtext)."""
    pieces = text.split("$")
    protected = "$".join(p.replace(" ", "\u00a0") if i % 2 else p for i, p in enumerate(pieces))
    lines = textwrap.wrap(protected, width=width, subsequent_indent="    ", break_long_words=False,
                          break_on_hyphens=False) or [""]
    return [line.replace("\u00a0", " ") for line in lines]


def wrap_title(title: str, width: int) -> str:
    """Break each title line that is longer than ``width`` characters at its " · " separators."""
    out = []
    for line in title.split("\n"):
        parts = [piece for part in line.split(" · ") for piece in _split_long(part, width)]
        current = parts[0]
        for part in parts[1:]:
            if len(current) + 3 + len(part) > width:
                out.append(current)
                current = part
            else:
                current += " · " + part
        out.append(current)
    return "\n".join(out)


def _split_long(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces of at most ``width`` characters (a longer word stays whole)."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [text]


def finish(fig: Figure, title: str, *, notes: Sequence[str] = (), handles: Sequence | None = None,
           ncol: int = 4, title_size: float = 11.0) -> Figure:
    """Add the figure title, an optional shared legend under it and notes under the panels.

    The figure grows by the room the title, legend and notes need, so the panels keep their size;
    then ``tight_layout`` places the panels in the rest.
    """
    width, height = fig.get_size_inches()
    title = wrap_title(title, max(30, int(width * 72 / (0.58 * title_size))))
    title_lines = title.count("\n") + 1
    title_in = 0.24 * title_lines * title_size / 11.0 + 0.12
    legend_rows = int(np.ceil(len(handles) / ncol)) if handles else 0
    legend_in = 0.24 * legend_rows + 0.08 if legend_rows else 0.0
    chars = max(40, int(16.5 * width))
    lines = [line for note in notes for line in wrap_note(note, chars)]
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


def vertical_marks(ax, marks: list[tuple[float, str, str, str]], *, gid_prefix: str, prefix: str,
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
            text = f"{prefix} {method_names([m[1] for m in group])} {group[0][3]}"
        else:
            text = f"{prefix} " + " | ".join(f"{method_style(m[1])['name']} {m[3]}" for m in group)
        right_side = i % 2 == 1 or (len(groups) == 1 and (x - lo) < 0.5 * span)
        ax.annotate(text, xy=(x, 0.98), xycoords=blend, xytext=(2.5 if right_side else -2.5, 0),
                    textcoords="offset points", rotation=90, va="top", ha="left" if right_side else "right",
                    fontsize=fontsize, color=colour, gid=f"{gid_prefix}-label:{methods}", zorder=4,
                    bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.7))


def method_names(methods: Sequence[str]) -> str:
    """"BEMA = GB": the display names of methods whose curves coincide."""
    return " = ".join(method_style(m)["name"] for m in methods)


def no_data(ax, text: str) -> None:
    """An empty panel that says why it is empty (its axes hidden)."""
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 42)), ha="center", va="center", fontsize=8,
            transform=ax.transAxes, color="0.3")
    ax.set_axis_off()


def x_range(values: Sequence[np.ndarray], marks: Sequence[float], top: float) -> tuple[float, float, float]:
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
