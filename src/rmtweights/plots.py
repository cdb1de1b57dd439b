"""Figures of the study: matplotlib figures built from the stage tables, returned unsaved.

Each function takes tidy frames as written by :mod:`rmtweights.stages` (one run, or one study) and
returns a :class:`matplotlib.figure.Figure`; the adapters in ``scripts/`` save it as PNG and PDF.
The figure numbers refer to paper 000 (Nishikawa et al.), paper 001 (Thamm et al.) and paper 003
(Afanasiev et al.) in ``papers/``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: figures are written to files only

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = [
    "spectrum_figure",
    "avew_accuracy_figure",
    "universality_figure",
    "comparison_figure",
    "spike_count_figure",
    "wigner_error_figure",
]

METHOD_COLOURS = {"bema": "tab:red", "gb": "tab:blue", "mp_fit": "tab:green"}


def _grid(count: int, width: float = 4.0, height: float = 3.0, max_cols: int = 3):
    cols = max(1, min(max_cols, count))
    rows = max(1, int(np.ceil(count / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def spectrum_figure(spectra: pd.DataFrame, fits: pd.DataFrame) -> Figure:
    """Paper 000 Fig. 1 for every analysable layer: histogram of gamma (trained, and initial in grey),
    the MP density (eq. 2) at each method's sigma-hat and the thresholds gamma_+ (eq. 3)."""
    from rmtweights.rmt.mp import mp_pdf

    ok = spectra[spectra.status == "ok"]
    layers = list(dict.fromkeys(ok.layer))
    fig, axes = _grid(max(1, len(layers)))
    for ax, layer in zip(axes, layers):
        rows = ok[ok.layer == layer]
        trained = rows[rows.state == "trained"].gamma.to_numpy()
        initial = rows[rows.state == "initial"].gamma.to_numpy()
        bins = np.linspace(0, max(trained.max(), initial.max() if len(initial) else 0) * 1.02, 60)
        if len(initial):
            ax.hist(initial, bins=bins, density=True, color="0.8", label="initial")
        ax.hist(trained, bins=bins, density=True, alpha=0.7, color="tab:purple", label="trained")
        q = float(rows.q.iloc[0])
        grid = np.linspace(1e-6, bins[-1], 400)
        for fit in fits[(fits.layer == layer) & (fits.state == "trained") & (fits.status == "ok")].itertuples():
            colour = METHOD_COLOURS.get(fit.method, "k")
            ax.plot(grid, mp_pdf(grid, q, fit.sigma), color=colour, lw=1.2, label=f"MP {fit.method}")
            ax.axvline(fit.gamma_plus, color=colour, ls="--", lw=1, label=f"$\\gamma_+$ {fit.method} (s={fit.s_hat})")
        ax.set_title(f"{layer} ({int(rows.n.iloc[0])}x{int(rows.m.iloc[0])})")
        ax.set_xlabel(r"$\gamma = sv/\sqrt{n}$")
        ax.set_ylabel("density")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def avew_accuracy_figure(curve: pd.DataFrame, accuracy: pd.DataFrame, fits: pd.DataFrame, layer: str) -> Figure:
    """Paper 000 Fig. 2: Ave_w(s) (both readings, each method) and keep-top-s test accuracy, with the
    s-hat of each method as vertical lines."""
    fig, ax = plt.subplots(figsize=(6, 4))
    sub = curve[curve.layer == layer]
    for (method, reading), rows in sub.groupby(["method", "reading"], sort=False):
        ax.plot(rows.s, rows.ave_w, marker="o", ms=2, lw=1, color=METHOD_COLOURS.get(method, "k"),
                ls="-" if reading == "fixed" else ":", label=f"Ave_w {method} ({reading})")
    ax.set_xlabel("kept singular values s")
    ax.set_ylabel(r"Ave$_w(\hat\phi)$")
    ax.set_ylim(0, 1.02)
    twin = ax.twinx()
    twin.plot(accuracy.s, accuracy.accuracy, color="tab:purple", marker="s", ms=2, lw=1, label="test accuracy")
    twin.set_ylabel("test accuracy")
    for fit in fits[(fits.layer == layer) & (fits.state == "trained") & (fits.status == "ok")].itertuples():
        ax.axvline(fit.s_hat, color=METHOD_COLOURS.get(fit.method, "k"), lw=0.8, alpha=0.6)
    lines = ax.get_legend_handles_labels()
    lines2 = twin.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=6, loc="lower right")
    ax.set_title(f"{layer}: Ave_w and accuracy after keeping the top s")
    fig.tight_layout()
    return fig


def universality_figure(spacings: pd.DataFrame, number_variance: pd.DataFrame,
                        porter_thomas: pd.DataFrame) -> Figure:
    """Paper 001 Figs. 1–2 for the trained weights: spacing histograms against the Wigner surmise,
    number variance against GOE, and Porter–Thomas p-values by rank (moving average)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    trained = {name: frame[frame.state == "trained"] if "state" in frame else frame
               for name, frame in (("sp", spacings), ("nv", number_variance), ("pt", porter_thomas))}
    for layer, rows in trained["sp"].groupby("layer", sort=False):
        centres = (rows.bin_left + rows.bin_right) / 2
        axes[0].step(centres, rows.density, where="mid", lw=1, label=layer)
    s = np.linspace(0, 4, 200)
    axes[0].plot(s, np.pi * s / 2 * np.exp(-np.pi * s**2 / 4), "k--", label="Wigner surmise")
    axes[0].set_xlabel("spacing s")
    axes[0].set_ylabel("p(s)")
    for layer, rows in trained["nv"].groupby("layer", sort=False):
        axes[1].plot(rows["l"], rows.sigma2, marker="o", ms=2, lw=1, label=layer)
    if len(trained["nv"]):
        first = trained["nv"].drop_duplicates("l").sort_values("l")
        axes[1].plot(first["l"], first.goe, "k--", label="GOE")
        axes[1].plot(first["l"], first["l"], "k:", label="Poisson")
    axes[1].set_xlabel("l")
    axes[1].set_ylabel(r"$\Sigma^2(l)$")
    for layer, rows in trained["pt"].groupby("layer", sort=False):
        axes[2].plot(rows["rank"], rows.p_value_moving_avg, lw=1, label=layer)
    axes[2].axhline(0.5, color="k", ls="--", lw=0.8)
    axes[2].set_xlabel("rank of singular vector")
    axes[2].set_ylabel("KS p-value (moving average)")
    for ax in axes:
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def comparison_figure(spectra: pd.DataFrame, fits: pd.DataFrame, key: str, layer: str | None = None) -> Figure:
    """Paper 000 Fig. 3: the spectrum of one layer (default: the first) for each variant of a study
    (first seed), with the BEMA MP density and threshold."""
    from rmtweights.rmt.mp import mp_pdf

    trained = spectra[(spectra.state == "trained") & (spectra.status == "ok")]
    layer = layer or trained.layer.iloc[0]
    groups = list(trained.groupby(["dataset", "model", "variant"], sort=False))
    fig, axes = _grid(max(1, len(groups)), max_cols=4)
    for ax, ((dataset, model, variant), rows) in zip(axes, groups):
        rows = rows[(rows.layer == layer) & (rows.seed == rows.seed.min())]
        if rows.empty:
            continue
        ax.hist(rows.gamma, bins=60, density=True, color="tab:purple", alpha=0.7)
        fit = fits[(fits.dataset == dataset) & (fits.model == model) & (fits.variant == variant)
                   & (fits.layer == layer) & (fits.state == "trained") & (fits.method == "bema")
                   & (fits.seed == rows.seed.iloc[0]) & (fits.status == "ok")]
        if len(fit):
            f = fit.iloc[0]
            grid = np.linspace(1e-6, rows.gamma.max(), 400)
            ax.plot(grid, mp_pdf(grid, f.q, f.sigma), "k--", lw=1, label="MP (BEMA)")
            ax.axvline(f.gamma_plus, color="tab:red", lw=1, label=f"$\\gamma_+$, s={f.s_hat}, Ave_w={f.ave_w:.3f}")
            ax.legend(fontsize=6)
        ax.set_title(f"{dataset}/{model}/{variant}: {layer}", fontsize=8)
        ax.set_xlabel(r"$\gamma$")
    fig.suptitle(f"variants compared by {key}")
    fig.tight_layout()
    return fig


def spike_count_figure(counts: pd.DataFrame, growth: pd.DataFrame) -> Figure:
    """Paper 003 App. A: spikes versus N per layer (mean ± SD over seeds) and the fitted r = c N^kappa."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for (layer, method), rows in counts.groupby(["layer", "method"], sort=False):
        rows = rows.sort_values("N")
        axes[0].errorbar(rows.N, rows.spikes_mean, yerr=rows.spikes_sd.fillna(0), marker="o", ms=3, lw=1,
                         capsize=2, label=f"{layer} ({method})")
    for fit in growth.itertuples():
        if np.isfinite(getattr(fit, "kappa", np.nan)):
            Ns = np.sort(counts.N.unique())
            axes[0].plot(Ns, fit.c * Ns**fit.kappa, "k--", lw=0.8,
                         label=f"fit {fit.method}: kappa={fit.kappa:.2f}")
    axes[0].set_xlabel("N")
    axes[0].set_ylabel("spikes above $\\gamma_+$")
    axes[0].legend(fontsize=6)
    for layer, rows in counts[counts.method == counts.method.iloc[0]].groupby("layer", sort=False):
        rows = rows.sort_values("N")
        axes[1].plot(rows.N, rows.bulk_fraction_mean, marker="o", ms=3, label=layer)
    axes[1].set_xlabel("N")
    axes[1].set_ylabel("fraction of the spectrum in the bulk")
    axes[1].legend(fontsize=6)
    fig.tight_layout()
    return fig


def wigner_error_figure(summary: pd.DataFrame, rate: dict | None = None) -> Figure:
    """Paper 003 Theorem 2.2: max and mean outlier error versus N on log axes, with the fitted rate."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    agg = summary.groupby("N", sort=True)[["max_error", "mean_error"]].mean().reset_index()
    ax.loglog(agg.N, agg.max_error, "o-", label="max error")
    ax.loglog(agg.N, agg.mean_error, "s-", label="mean error")
    if rate is not None and np.isfinite(rate.get("exponent", np.nan)):
        Ns = agg.N.to_numpy(dtype=float)
        ax.loglog(Ns, np.exp(rate["intercept"]) * Ns ** rate["exponent"], "k--",
                  label=f"fit: N^{rate['exponent']:.2f}")
    ax.set_xlabel("N")
    ax.set_ylabel(r"$|\lambda_j(W) - \Phi(\lambda_j(S))|$")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
