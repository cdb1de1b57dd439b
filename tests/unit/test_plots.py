"""Tests of the figures (rmtweights.plots.*): every figure readable without the code.

Each figure is built from small synthetic frames with the stage tables' columns (imported from the
stages, so a renamed column fails here) and checked for what a reader needs: a title naming the
run and the state, labelled axes, no missing-value text, skipped layers named with their reason,
spike-count bars that stay at or above zero, the implied Ave_w reading drawn solid, labelled
vertical lines, and densities drawn on the scale of the histogram (areas checked against closed
forms).
"""

from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from rmtweights.plots.avew_accuracy import avew_accuracy_figure  # noqa: E402
from rmtweights.plots.comparison import comparison_figure  # noqa: E402
from rmtweights.plots.spectrum import spectrum_figure  # noqa: E402
from rmtweights.plots.spike_counts import spike_count_figure  # noqa: E402
from rmtweights.plots.universality import universality_figure  # noqa: E402
from rmtweights.plots.wigner_error import wigner_error_figure  # noqa: E402
from rmtweights.rmt.universality import goe_number_variance, wigner_surmise_pdf  # noqa: E402
from rmtweights.run_keys import RUN_COLUMNS  # noqa: E402
from rmtweights.stages.fit_mp import CURVE_COLUMNS, FIT_COLUMNS  # noqa: E402
from rmtweights.stages.spectra import PORTER_THOMAS_COLUMNS, SPECTRA_COLUMNS  # noqa: E402

KEYS = dict(study="studyQ", dataset="datasetX", model="modelY", variant="variantZ", seed=7)
SKIP_REASON = "m=10 <= min_dim=10: too few singular values for a spectral fit"
SIGMA = 0.05  # noise scale of the synthetic weights


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# synthetic stage tables


def _keyed(frame: pd.DataFrame, columns, **over) -> pd.DataFrame:
    """``frame`` with the run keys in front and exactly ``columns`` after them."""
    keys = {**KEYS, **over}
    missing = set(columns) - set(frame.columns)
    assert not missing, f"builder lacks columns {missing}"
    out = frame[list(columns)].copy()
    for i, key in enumerate(RUN_COLUMNS):
        out.insert(i, key, keys[key])
    return out


def _layer_values(n: int, m: int, spikes: int, rng: np.random.Generator) -> np.ndarray:
    """Normalised singular values of an n x m Gaussian matrix (entries SIGMA) with ``spikes``
    values placed above the MP edge, spread from 1.5 to 1.5 + 0.3 (spikes - 1) edges."""
    w = rng.standard_normal((n, m)) * SIGMA
    gamma = np.sort(np.linalg.svd(w, compute_uv=False))[::-1] / math.sqrt(n)
    edge = SIGMA * (1 + math.sqrt(m / n))
    gamma[:spikes] = edge * (1.5 + 0.3 * np.arange(spikes))[::-1]
    return np.sort(gamma)[::-1]


def make_spectra(layers, skipped=(("fc_out", 84, 10),), seed: int = 0, **over) -> pd.DataFrame:
    """Spectra table: ``layers`` = [(name, n, m, spikes)], trained and initial; ``skipped`` layers
    get one row per state with status "skipped" and :data:`SKIP_REASON`."""
    rng = np.random.default_rng(seed)
    rows = []
    for state in ("trained", "initial"):
        for name, n, m, spikes in layers:
            g = _layer_values(n, m, spikes if state == "trained" else 0, rng)
            rows.append(pd.DataFrame(dict(state=state, layer=name, kind="linear", reshape="none",
                                          shape=f"{m}x{n}", n=n, m=m, q=m / n,
                                          index=pd.array(np.arange(m), dtype="Int64"), sv=g * math.sqrt(n),
                                          gamma=g, status="ok", reason="")))
        for name, n, m in skipped:
            rows.append(pd.DataFrame(dict(state=[state], layer=name, kind="linear", reshape="none",
                                          shape=f"{m}x{n}", n=n, m=m, q=m / n,
                                          index=pd.array([pd.NA], dtype="Int64"), sv=np.nan, gamma=np.nan,
                                          status="skipped", reason=SKIP_REASON)))
    return _keyed(pd.concat(rows, ignore_index=True), SPECTRA_COLUMNS, **over)


def make_fits(spectra: pd.DataFrame, *, gb_factor: float = 1.1, nu_max: bool = True, **over) -> pd.DataFrame:
    """Fit table for ``spectra``: BEMA sigma = SIGMA, GB sigma = ``gb_factor`` SIGMA, thresholds
    1.05 x_max, s_hat = values above; the modified MP fit with nu_max = x_max (no threshold)."""
    rows = []
    for (state, layer), g in spectra.groupby(["state", "layer"], sort=False):
        first = g.iloc[0]
        base = dict(state=state, layer=layer, kind=first.kind, reshape=first.reshape, n=first.n, m=first.m,
                    q=first.q, min_nm=min(first.n, first.m), gd_threshold=np.nan, s_hat_gd=pd.NA,
                    fraction_mp=np.nan, nu_max=np.nan, gamma_max=np.nan, ave_w=np.nan)
        if first.status != "ok":
            for method in ("bema", "gb", "modified_mp"):
                rows.append(dict(base, method=method, sigma=np.nan, gamma_plus=np.nan, s_hat=pd.NA,
                                 status="skipped", reason=first.reason))
            continue
        gammas = g.gamma.to_numpy()
        root = 1 + math.sqrt(first.q)
        for method, sigma in (("bema", SIGMA), ("gb", SIGMA * gb_factor)):
            gp = 1.05 * sigma * root
            s_hat = int(np.sum(gammas > gp))
            rows.append(dict(base, method=method, sigma=sigma, gamma_plus=gp, s_hat=s_hat,
                             ave_w=0.9 if s_hat else np.nan, gamma_max=gammas.max(), status="ok", reason=""))
        rows.append(dict(base, method="modified_mp", sigma=SIGMA * 1.02, gamma_plus=np.nan, s_hat=pd.NA,
                         fraction_mp=0.97, nu_max=SIGMA * root if nu_max else np.nan, gamma_max=gammas.max(),
                         status="ok", reason=""))
    frame = pd.DataFrame(rows)
    frame["s_hat"] = frame.s_hat.astype("Int64")
    frame["s_hat_gd"] = frame.s_hat_gd.astype("Int64")
    return _keyed(frame, FIT_COLUMNS, **over)


def make_curve(layer: str, k: int = 12, *, implied_equal: bool = True, controls: bool = False) -> pd.DataFrame:
    """Ave_w curve: implied rising (equal for BEMA and GB unless ``implied_equal`` is False), fixed
    falling, different per method; with ``controls``, the controls' curves too (implied: rising by
    0.02 s, 0.03 s and 0.04 s)."""
    s = np.arange(1, k + 1)
    rows = []
    for j, method in enumerate(("bema", "gb")):
        implied = 1 - 0.6 / s - (0 if implied_equal else 0.05 * j)
        fixed = np.clip(0.9 - 0.1 * s - 0.05 * j, 0, None)
        for reading, values in (("implied", implied), ("fixed", fixed)):
            rows.append(pd.DataFrame(dict(state="trained", layer=layer, method=method, s=s, reading=reading,
                                          gamma_plus=0.1 / s, sigma=0.05, ave_w=values)))
        for i, state in enumerate(("initial", "gaussian", "shuffled") if controls else ()):
            for reading in ("implied", "fixed"):
                rows.append(pd.DataFrame(dict(state=state, layer=layer, method=method, s=s, reading=reading,
                                              gamma_plus=0.1 / s, sigma=0.05, ave_w=0.3 + 0.01 * (i + 2) * s)))
    return _keyed(pd.concat(rows, ignore_index=True), CURVE_COLUMNS)


def make_prune(layer: str, k: int = 12) -> pd.DataFrame:
    s = np.arange(1, k + 1)
    frame = pd.DataFrame(dict(layer=layer, reshape="none", s=s, accuracy=0.5 + 0.4 * (1 - 1 / s),
                              loss=1 / s, n_correct=0, n_samples=100, method="fast"))
    return _keyed(frame, list(frame.columns))


def make_universality(layers=("fc1", "fc2"), skipped=("fc_out",)):
    """Spacing, number-variance, Porter–Thomas and summary tables for ``layers``, both states."""
    sp, nv, pt, summary = [], [], [], []
    edges = np.linspace(0, 4, 21)
    centres = (edges[:-1] + edges[1:]) / 2
    for layer in layers:
        for state, shift in (("trained", 0.0), ("initial", 0.1)):
            density = wigner_surmise_pdf(centres + shift)
            sp.append(pd.DataFrame(dict(state=state, layer=layer, bin_left=edges[:-1], bin_right=edges[1:],
                                        density=density, surmise=wigner_surmise_pdf(centres),
                                        empirical_cdf=np.cumsum(density) / density.sum(), surmise_cdf=0.0)))
            ls = np.array([0.5, 1, 2, 5, 10.0])
            nv.append(pd.DataFrame(dict(state=state, layer=layer, l=ls, sigma2=goe_number_variance(ls) + shift,
                                        mean_count=ls, goe=goe_number_variance(ls))))
            ranks = np.arange(1, 61)
            pt.append(pd.DataFrame(dict(state=state, layer=layer, rank=ranks, position=1 - (ranks - 1) / 59,
                                        ks_stat=0.1, p_value=0.5, p_value_moving_avg=0.5 + shift, null="gaussian")))
            summary.append(dict(state=state, layer=layer, kind="linear", n=120, m=60, status="ok", reason="",
                                p_value=0.8 - shift))
    for layer in skipped:
        for state in ("trained", "initial"):
            summary.append(dict(state=state, layer=layer, kind="linear", n=84, m=10, status="skipped",
                                reason=SKIP_REASON, p_value=np.nan))
    spacings = _keyed(pd.concat(sp, ignore_index=True), list(sp[0].columns))
    variance = _keyed(pd.concat(nv, ignore_index=True), list(nv[0].columns))
    porter = _keyed(pd.concat(pt, ignore_index=True), PORTER_THOMAS_COLUMNS)
    summ = pd.DataFrame(summary)
    return spacings, variance, porter, _keyed(summ, list(summ.columns))


def make_spike_counts():
    """Spike counts over N = 200, 400, 800 with a seed spread whose mean - SD is negative."""
    rows = []
    for N in (200, 400, 800):
        for layer, base in (("fc1", 0.0), ("fc2", 1.0)):
            for method in ("bema", "gb"):
                per_seed = np.array([0.0, 0.0, 3.0]) * (N / 200) ** 0.5 + base * (N / 200) ** 0.5
                rows.append(dict(N=N, layer=layer, method=method, spikes_mean=per_seed.mean(),
                                 spikes_sd=per_seed.std(ddof=1), spikes_n=3,
                                 bulk_fraction_mean=1 - per_seed.mean() / N, bulk_fraction_sd=0.0,
                                 bulk_fraction_n=3, test_acc_mean=0.88, test_acc_sd=0.01, test_acc_n=3, n_seeds=3,
                                 spikes_min=per_seed.min(), spikes_max=per_seed.max(), status="ok", reason=""))
            rows.append(dict(N=N, layer="fc3", method="bema", spikes_mean=np.nan, spikes_sd=np.nan, spikes_n=0,
                             bulk_fraction_mean=np.nan, bulk_fraction_sd=np.nan, bulk_fraction_n=0,
                             test_acc_mean=0.88, test_acc_sd=0.01, test_acc_n=3, n_seeds=3, spikes_min=np.nan,
                             spikes_max=np.nan, status="skipped", reason=SKIP_REASON))
    counts = pd.DataFrame(rows)
    counts.insert(0, "model", "spike_mlp")
    counts.insert(0, "dataset", "datasetX")
    counts.insert(0, "study", "spikesQ")
    growth = pd.DataFrame([
        dict(method="bema", layer="fc2", status="ok", reason="", kappa=0.5, c=0.2, kappa_ci_low=0.3,
             kappa_ci_high=0.7),
        dict(method="gb", layer="fc2", status="skipped", reason="need at least 3 rows over 2 distinct N",
             kappa=np.nan, c=np.nan, kappa_ci_low=np.nan, kappa_ci_high=np.nan),
    ])
    return counts, growth


def make_wigner():
    Ns = np.array([100, 200, 400, 800])
    errors = pd.DataFrame(dict(N=Ns, r=3, max_error=2.0 * Ns ** -0.4, mean_error=1.0 * Ns ** -0.45, n_seeds=2,
                               rate_exponent=-0.45))
    return errors, {"exponent": -0.45, "intercept": 0.0}


# --------------------------------------------------------------------------------------------------
# the figures under test


LAYERS = [("fc1", 160, 80, 3), ("fc2", 120, 60, 0)]


def _spectrum_fig(**kw):
    spectra = make_spectra(LAYERS)
    return spectrum_figure(spectra, make_fits(spectra, **kw))


def _avew_fig(**kw):
    spectra = make_spectra(LAYERS)
    return avew_accuracy_figure(make_curve("fc2", **kw), make_prune("fc2"), make_fits(spectra), "fc2")


def _universality_fig(summary: bool = True):
    sp, nv, pt, summ = make_universality()
    return universality_figure(sp, nv, pt, summary=summ if summary else None)


def _comparison_frames():
    spectra, fits, table = [], [], []
    for variant, acc in (("bs64", 0.9843), ("bs256", 0.9824)):
        for seed in (0, 1):
            sp = make_spectra(LAYERS, seed=seed, variant=variant)
            sp["seed"] = seed
            fi = make_fits(sp, variant=variant)
            fi["seed"] = seed
            spectra.append(sp)
            fits.append(fi)
        table.append(dict(study="studyQ", dataset="datasetX", model="modelY", variant=variant, layer="fc1",
                          method="bema", test_acc_mean=acc, test_acc_sd=0.002, test_acc_n=2))
    return pd.concat(spectra, ignore_index=True), pd.concat(fits, ignore_index=True), pd.DataFrame(table)


def _comparison_fig(with_table: bool = True):
    spectra, fits, table = _comparison_frames()
    return comparison_figure(spectra, fits, "batch_size", table=table if with_table else None)


def _spike_fig():
    return spike_count_figure(*make_spike_counts())


def _wigner_fig():
    return wigner_error_figure(*make_wigner())


ALL_FIGURES = {
    "spectrum": _spectrum_fig,
    "avew": _avew_fig,
    "universality": _universality_fig,
    "comparison": _comparison_fig,
    "spikes": _spike_fig,
    "wigner": _wigner_fig,
}


def _texts(fig) -> list[str]:
    """Every text drawn on ``fig`` (titles, labels, legends, annotations, notes)."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _suptitle(fig) -> str:
    assert fig._suptitle is not None, "figure has no figure-level title"
    return fig._suptitle.get_text()


def _lines(fig, prefix: str):
    return [line for ax in fig.axes for line in ax.get_lines() if str(line.get_gid() or "").startswith(prefix)]


# --------------------------------------------------------------------------------------------------
# requirements that hold for every figure


@pytest.mark.parametrize("name", ["spectrum", "avew", "universality"])
def test_per_run_title_names_run_and_state(name):
    title = _suptitle(ALL_FIGURES[name]())
    for part in ("studyQ", "datasetX", "modelY", "variantZ", "seed 7", "trained"):
        assert part in title, (part, title)


def test_study_titles_name_variants_seeds_and_state():
    title = _suptitle(_comparison_fig())
    for part in ("studyQ", "datasetX", "modelY", "bs64", "bs256", "seeds 0, 1", "trained", "batch_size"):
        assert part in title, (part, title)
    title = _suptitle(_spike_fig())
    for part in ("spikesQ", "datasetX", "spike_mlp", "N = 200", "N = 800", "seeds per N: 3", "trained"):
        assert part in title, (part, title)
    title = _suptitle(_wigner_fig())
    assert "r = 3" in title and "seeds per N: 2" in title


@pytest.mark.parametrize("name", sorted(ALL_FIGURES))
def test_every_visible_axis_is_labelled(name):
    fig = ALL_FIGURES[name]()
    checked = 0
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        if ax.xaxis.get_visible():
            assert ax.get_xlabel().strip(), f"{name}: axes {ax.get_title()!r} has no x label"
            checked += 1
        if ax.yaxis.get_visible():
            assert ax.get_ylabel().strip(), f"{name}: axes {ax.get_title()!r} has no y label"
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("name", sorted(ALL_FIGURES))
def test_no_missing_value_text(name):
    fig = ALL_FIGURES[name]()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    assert legends, f"{name}: no legend at all"
    for text in _texts(fig):
        assert not re.search(r"\bnan\b|<NA>|\bNone\b", text, flags=re.IGNORECASE), (name, text)


@pytest.mark.parametrize("name", ["spectrum", "avew", "universality", "comparison", "spikes"])
def test_skipped_layers_are_named_with_reason(name):
    joined = "\n".join(_texts(ALL_FIGURES[name]()))
    layer = "fc3" if name == "spikes" else "fc_out"
    assert re.search(rf"{layer}\b[^\n]*skipped", joined), joined[-600:]
    assert "min_dim=10" in joined


def test_universality_without_summary_still_builds():
    fig = _universality_fig(summary=False)
    assert len([ax for ax in fig.axes if ax.axison]) == 6  # 2 layers x 3 panels


# --------------------------------------------------------------------------------------------------
# spectrum figure (paper 000 Fig. 1)


def test_spectrum_histogram_and_densities_on_one_scale():
    spectra = make_spectra(LAYERS)
    fits = make_fits(spectra)
    fig = spectrum_figure(spectra, fits)
    ax = next(a for a in fig.axes if a.get_title().startswith("fc2"))
    # the trained histogram is a density over all m values: area 1 when none is cut off
    bars = [p for p in ax.patches if p.get_gid() == "hist:trained"]
    area = sum(p.get_width() * p.get_height() for p in bars)
    assert area == pytest.approx(1.0, rel=1e-9)
    # the modified MP density: zero outside [nu_min, nu_max], mass (nu_max - nu_min)^2 / (4 q sigma^2)
    fit = fits[(fits.layer == "fc2") & (fits.state == "trained") & (fits.method == "modified_mp")].iloc[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "mp:modified_mp"]
    x, y = line.get_xdata(), line.get_ydata()
    nu_min = spectra[(spectra.layer == "fc2") & (spectra.state == "trained")].gamma.min()
    assert np.all(y[(x < nu_min) | (x > fit.nu_max)] == 0)
    mass = (fit.nu_max - nu_min) ** 2 / (4 * fit.q * fit.sigma**2)
    # 800-point trapezoid of a density with square-root edges: error well below 1 %
    assert np.trapezoid(y, x) == pytest.approx(mass, rel=0.01)
    # the MP density at the BEMA sigma integrates to 1 over its support (eq. 2), inside the panel
    (mp,) = [ln for ln in ax.get_lines() if ln.get_gid() == "mp:bema"]
    assert np.trapezoid(mp.get_ydata(), mp.get_xdata()) == pytest.approx(1.0, rel=0.01)


def test_spectrum_without_nu_max_says_so():
    spectra = make_spectra(LAYERS)
    fits = make_fits(spectra).drop(columns="nu_max")
    fig = spectrum_figure(spectra, fits)
    assert not _lines(fig, "mp:modified_mp")
    assert any("nu_max" in t for t in _texts(fig))


def test_threshold_lines_are_labelled_with_s_hat():
    spectra = make_spectra(LAYERS)
    fits = make_fits(spectra, gb_factor=1.3)  # thresholds apart: one labelled line each
    fig = spectrum_figure(spectra, fits)
    ax = next(a for a in fig.axes if a.get_title().startswith("fc1"))
    gids = {ln.get_gid() for ln in ax.get_lines() if str(ln.get_gid()).startswith("gamma_plus:")}
    assert gids == {"gamma_plus:bema", "gamma_plus:gb"}
    labels = {t.get_gid(): t.get_text() for t in ax.texts if str(t.get_gid()).startswith("gamma_plus-label:")}
    trained = fits[(fits.layer == "fc1") & (fits.state == "trained")].set_index("method")
    for method, name in (("bema", "BEMA"), ("gb", "GB")):
        text = labels[f"gamma_plus-label:{method}"]
        assert name in text and f"= {int(trained.s_hat[method])})" in text, text


def test_coinciding_thresholds_share_one_labelled_line():
    spectra = make_spectra(LAYERS)
    fig = spectrum_figure(spectra, make_fits(spectra, gb_factor=1.0005))
    ax = next(a for a in fig.axes if a.get_title().startswith("fc1"))
    lines = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("gamma_plus:")]
    assert [ln.get_gid() for ln in lines] == ["gamma_plus:bema+gb"]
    (label,) = [t.get_text() for t in ax.texts if str(t.get_gid()).startswith("gamma_plus-label:")]
    assert "BEMA = GB" in label
    # the two MP densities stay distinguishable by line style
    styles = {ln.get_gid(): ln.get_linestyle() for ln in ax.get_lines() if str(ln.get_gid()).startswith("mp:")}
    assert styles["mp:bema"] != styles["mp:gb"]


@pytest.mark.parametrize("n_layers", [1, 10])
def test_spectrum_robust_to_many_layers_and_spikes(n_layers):
    spikes = [0, 20, 1, 5, 10, 2, 15, 3, 7, 12][:n_layers]
    layers = [(f"L{i}", 100, 50, k) for i, k in enumerate(spikes)]
    spectra = make_spectra(layers, skipped=())
    fits = make_fits(spectra)
    fig = spectrum_figure(spectra, fits)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(panels) == n_layers
    for ax, (name, _, _, k) in zip(panels, layers):
        assert ax.get_title().startswith(name)
        # every spike above the lowest threshold is shown as a tick or counted in the cut-off note
        ticks = [ln for ln in ax.get_lines() if ln.get_gid() == "spikes"]
        shown = len(ticks[0].get_xdata()) if ticks else 0
        beyond = [t.get_text() for t in ax.texts if t.get_gid() == "beyond"]
        hidden = int(beyond[0].split()[0]) if beyond else 0
        assert shown + hidden == k, (name, shown, hidden, k)


# --------------------------------------------------------------------------------------------------
# Ave_w figure (paper 000 Fig. 2)


def test_implied_reading_is_solid_and_merged_when_methods_agree():
    fig = _avew_fig()
    implied = _lines(fig, "avew:implied")
    fixed = _lines(fig, "avew:fixed")
    assert [ln.get_gid() for ln in implied] == ["avew:implied:bema+gb"]
    assert implied[0].get_linestyle() == "-"
    assert "BEMA = GB" in implied[0].get_label() and "the reading of paper 000 Fig. 2" in implied[0].get_label()
    assert len(fixed) == 2 and all(ln.get_linestyle() == ":" for ln in fixed)
    assert all(ln.get_linewidth() < implied[0].get_linewidth() for ln in fixed)


def test_distinct_implied_curves_stay_distinguishable():
    fig = _avew_fig(implied_equal=False)
    implied = _lines(fig, "avew:implied")
    assert len(implied) == 2 and all(ln.get_linestyle() == "-" for ln in implied)
    assert implied[0].get_marker() != implied[1].get_marker()
    assert implied[0].get_color() != implied[1].get_color()


def test_avew_controls_are_drawn_with_their_correlation():
    spectra = make_spectra(LAYERS)
    curve, prune = make_curve("fc1", controls=True), make_prune("fc1")
    fig = avew_accuracy_figure(curve, prune, make_fits(spectra), "fc1")
    controls = _lines(fig, "avew:control:")
    assert [ln.get_gid() for ln in controls] == ["avew:control:initial", "avew:control:gaussian", "avew:control:shuffled"]
    assert len({ln.get_linestyle() for ln in controls}) == 3 and len({ln.get_marker() for ln in controls}) == 3
    gaussian = curve[(curve.state == "gaussian") & (curve.reading == "implied") & (curve.method == "bema")]
    r = np.corrcoef(gaussian.ave_w, prune.accuracy)[0, 1]
    assert f"Gaussian matrix of the layer's shape (implied), Pearson r = {r:.2f}" in controls[1].get_label()
    np.testing.assert_allclose(controls[1].get_ydata(), gaussian.ave_w)
    # the trained curves are drawn once each: the controls' rows do not enter them
    assert len(_lines(fig, "avew:implied")) == 1 and len(_lines(fig, "avew:fixed")) == 2
    notes = " ".join(t.get_text() for t in fig.texts)
    assert "No pruning accuracies" not in notes and "Controls (grey" in notes


def test_avew_s_hat_lines_labelled_and_correlation_reported():
    spectra = make_spectra(LAYERS)
    fits = make_fits(spectra)
    curve, prune = make_curve("fc1"), make_prune("fc1")
    fig = avew_accuracy_figure(curve, prune, fits, "fc1")
    s_hat = int(fits[(fits.layer == "fc1") & (fits.state == "trained") & (fits.method == "bema")].s_hat.iloc[0])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if str(t.get_gid()).startswith("s_hat-label:")]
    assert labels and all(f"= {s_hat}" in t for t in labels)
    vlines = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("s_hat:")]
    assert all(ln.get_xdata()[0] == s_hat for ln in vlines)
    implied = curve[(curve.reading == "implied") & (curve.method == "bema")].ave_w.to_numpy()
    r = np.corrcoef(implied, prune.accuracy.to_numpy())[0, 1]
    (acc,) = _lines(fig, "accuracy")
    assert f"Pearson r with implied Ave$_w$ = {r:.2f}" in acc.get_label()


# --------------------------------------------------------------------------------------------------
# universality figure (paper 001 Figs. 1-2)


def test_universality_references_and_states():
    fig = _universality_fig()
    axes = [ax for ax in fig.axes if ax.axison]
    pt_axes = [ax for ax in axes if "Porter" in ax.get_title()]
    assert pt_axes and all("1 = largest" in ax.get_xlabel() for ax in pt_axes)
    for prefix in ("spacing:", "nv:", "pt:"):
        trained = _lines(fig, prefix + "trained") or [p for ax in axes for p in ax.patches
                                                      if p.get_gid() == prefix + "trained"]
        initial = _lines(fig, prefix + "initial") or [p for ax in axes for p in ax.patches
                                                      if p.get_gid() == prefix + "initial"]
        assert trained and initial
        assert trained[0].get_linestyle() != initial[0].get_linestyle()
    (surmise, *_) = _lines(fig, "surmise")
    s = surmise.get_xdata()
    np.testing.assert_allclose(surmise.get_ydata(), np.pi * s / 2 * np.exp(-np.pi * s**2 / 4), rtol=1e-12)
    (poisson, *_) = _lines(fig, "poisson")
    np.testing.assert_allclose(poisson.get_ydata(), poisson.get_xdata())
    legend_text = " ".join(t.get_text() for ax in axes if ax.get_legend() for t in ax.get_legend().get_texts())
    assert "KS p = 0.80" in legend_text and "KS p = 0.70" in legend_text


# --------------------------------------------------------------------------------------------------
# comparison figure (paper 000 Fig. 3)


def test_comparison_shows_accuracy_beside_spectra():
    fig = _comparison_fig()
    acc_axes = [ax for ax in fig.axes if ax.get_visible() and "test accuracy by" in ax.get_title()]
    assert len(acc_axes) == 1
    (container,) = [c for c in acc_axes[0].containers if isinstance(c, ErrorbarContainer)]
    np.testing.assert_allclose(container.lines[0].get_ydata(), [0.9843, 0.9824])
    assert [t.get_text() for t in acc_axes[0].get_xticklabels()] == ["bs64", "bs256"]
    spectrum_axes = [ax for ax in fig.axes if ax.get_visible() and "layer fc1" in ax.get_title()]
    assert len(spectrum_axes) == 2
    assert "98.4%" in spectrum_axes[0].get_title() and "98.2%" in spectrum_axes[1].get_title()
    # one threshold line per seed
    assert all(len([ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("gamma_plus:bema")]) == 2
               for ax in spectrum_axes)


def test_comparison_without_table_says_so():
    fig = _comparison_fig(with_table=False)
    assert not [ax for ax in fig.axes if ax.get_visible() and "test accuracy by" in ax.get_title()]
    assert any("accuracy not shown" in t for t in _texts(fig))


# --------------------------------------------------------------------------------------------------
# spike counts (paper 003 App. A)


def test_spike_count_bars_span_seed_range_never_below_zero():
    counts, growth = make_spike_counts()
    assert (counts.spikes_mean - counts.spikes_sd).min() < 0  # mean - SD would go below zero
    fig = spike_count_figure(counts, growth)
    ax = fig.axes[0]
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(containers) == 4  # fc1, fc2 x BEMA, GB; fc3 was skipped
    for container in containers:
        layer, method = container.get_label().split(", ")
        rows = counts[(counts.layer == layer) & (counts.method == {"BEMA": "bema", "GB": "gb"}[method])]
        rows = rows.sort_values("N")
        (bars,) = container.lines[2]
        segments = np.array(bars.get_segments())
        assert segments[:, :, 1].min() >= 0
        np.testing.assert_allclose(segments[:, 0, 1], rows.spikes_min)
        np.testing.assert_allclose(segments[:, 1, 1], rows.spikes_max)


def test_spike_count_methods_distinguishable_and_fit_drawn():
    fig = _spike_fig()
    ax = fig.axes[0]
    containers = {c.get_label(): c for c in ax.containers if isinstance(c, ErrorbarContainer)}
    bema, gb = containers["fc2, BEMA"].lines[0], containers["fc2, GB"].lines[0]
    assert bema.get_linestyle() != gb.get_linestyle() and bema.get_marker() != gb.get_marker()
    assert not np.allclose(bema.get_xdata(), gb.get_xdata())  # offset so equal counts do not overlap
    (fit,) = _lines(fig, "growth:bema")
    x, y = fit.get_xdata(), fit.get_ydata()
    np.testing.assert_allclose(y, 0.2 * x**0.5)
    assert any("GB" in t and "not fitted" in t for t in _texts(fig))


# --------------------------------------------------------------------------------------------------
# Wigner outlier error (paper 003 Theorem 2.2)


def test_wigner_error_log_axes_fit_and_reference_slope():
    fig = _wigner_fig()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"

    def slope(line):
        x, y = np.log(line.get_xdata()), np.log(line.get_ydata())
        return (y[-1] - y[0]) / (x[-1] - x[0])

    (ref,) = _lines(fig, "reference")
    (fit,) = _lines(fig, "fit")
    assert slope(ref) == pytest.approx(-0.5, abs=1e-12)
    assert slope(fit) == pytest.approx(-0.45, abs=1e-12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("N^{-1/2}" in t for t in labels) and any("N^{-0.45}" in t for t in labels)


def test_universality_layer_without_spacings_keeps_its_porter_thomas_panel():
    sp, nv, pt, summary = make_universality(layers=("fc1", "fc2"))
    reason = "m=30 < 2a+10=40: too few levels to unfold"
    sp, nv = sp[sp.layer != "fc2"], nv[nv.layer != "fc2"]
    summary.loc[summary.layer == "fc2", ["status", "reason"]] = ["skipped", reason]
    fig = universality_figure(sp, nv, pt, summary=summary)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 4  # fc1: 3 panels; fc2: Porter-Thomas only
    assert any(ax.get_title().startswith("fc2") and "Porter" in ax.get_title() for ax in visible)
    flat = [" ".join(t.split()) for t in _texts(fig)]  # panel texts are wrapped
    assert sum(reason in t for t in flat) >= 2  # in the empty panels and in the note


def test_missing_columns_and_bad_arguments_raise_naming_them():
    spectra = make_spectra(LAYERS)
    fits = make_fits(spectra)
    with pytest.raises(ValueError, match="gamma_plus"):
        spectrum_figure(spectra, fits.drop(columns="gamma_plus"))
    with pytest.raises(ValueError, match="bins"):
        spectrum_figure(spectra, fits, bins=0)
    counts, growth = make_spike_counts()
    with pytest.raises(ValueError, match="spikes_mean"):
        spike_count_figure(counts.drop(columns="spikes_mean"), growth)
    errors, rate = make_wigner()
    with pytest.raises(ValueError, match="mean_error"):
        wigner_error_figure(errors.drop(columns="mean_error"), rate)


# --------------------------------------------------------------------------------------------------
# many layers: pages and the overview; one layer from analyze_model's table

from rmtweights.plots.overview import MAX_LABELS, MAX_WIDTH, overview_figure  # noqa: E402
from rmtweights.plots.spectrum import PANELS_PER_PAGE, layer_figure, spectrum_pages  # noqa: E402


def _inside_figure(fig, artist) -> bool:
    fig.canvas.draw()
    box, frame = artist.get_window_extent(), fig.bbox
    return box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1


def test_legend_fits_inside_the_figure():
    """Two panels side by side (9.2 in): the shared legend is laid out in as many columns as fit."""
    fig = _spectrum_fig()
    try:
        assert fig.legends and _inside_figure(fig, fig.legends[0])
    finally:
        plt.close(fig)
    spectra = make_spectra(LAYERS[:1])
    fig = spectrum_figure(spectra, make_fits(spectra))  # one panel: 4.6 in
    try:
        assert _inside_figure(fig, fig.legends[0]) and _inside_figure(fig, fig._suptitle)
    finally:
        plt.close(fig)


def test_many_layers_come_in_pages_of_bounded_size():
    layers = [(f"blocks.{i}.fc", 60, 30, i % 3) for i in range(30)]
    spectra = make_spectra(layers)
    pages = spectrum_pages(spectra, make_fits(spectra))
    try:
        assert len(pages) == 3  # 12 + 12 + 6 layers
        heights = [fig.get_size_inches()[1] for fig in pages]
        assert max(heights) < 20  # 4 rows of panels, whatever the model's size
        drawn = [[ax.get_title().split("\n")[0] for ax in fig.axes if ax.get_visible() and ax.get_title()]
                 for fig in pages]
        assert [len(d) for d in drawn] == [PANELS_PER_PAGE, PANELS_PER_PAGE, 6]
        assert sum(drawn, []) == [name for name, *_ in layers]  # every layer once, in order
        assert "page 1 of 3" in pages[0]._suptitle.get_text()
    finally:
        for fig in pages:
            plt.close(fig)


def test_overview_is_bounded_and_in_model_order():
    layers = [(f"layers.{i}.mlp", 40, 20, 1) for i in range(150)]
    spectra = make_spectra(layers, skipped=())
    fits = make_fits(spectra)
    fits["gamma_max"] = 2 * fits["gamma_plus"]
    fig = overview_figure(fits)
    try:
        assert fig.get_size_inches()[0] <= MAX_WIDTH
        labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
        assert 0 < len(labels) <= MAX_LABELS and labels[0] == "layers.0.mlp" and labels[1] == "layers.3.mlp"
        ylabels = [ax.get_ylabel() for ax in fig.axes]
        assert ylabels[0].startswith(r"$\hat s") and ylabels[-1].startswith(r"$\gamma_{\max}")
        ratio = [line for line in fig.axes[-1].get_lines() if line.get_gid() == "edge_ratio:bema"][0]
        np.testing.assert_allclose(ratio.get_ydata(), 2.0)  # gamma_max / gamma_+ as drawn
    finally:
        plt.close(fig)


def test_layer_figure_from_analyze_model():
    import torch

    from rmtweights.api import analyze_model

    g = torch.Generator().manual_seed(0)
    state = {"blocks.0.conv.weight": torch.randn(8, 1, 5, 5, generator=g), "$x$.weight": torch.randn(90, 40, generator=g)}
    table = analyze_model(state, n_bootstrap=0, min_dim=4, spectra=True, baseline="shuffled")
    fig = layer_figure(table, "blocks.0.conv")
    try:
        title = fig.axes[0].get_title()
        assert "8×1×5×5 kernel → 40×5 matrix" in title  # the shape written the same way everywhere
        hists = [p for p in fig.axes[0].patches if p.get_gid() in ("hist:trained", "hist:initial")]
        assert hists and "random baseline (grey outline)" in [t.get_text() for t in fig.legends[0].get_texts()]
    finally:
        plt.close(fig)
    fig = layer_figure(table, "$x$")  # a name with $ is text, not mathtext
    try:
        fig.canvas.draw()
        assert fig.axes[0].get_title().startswith(r"\$x\$")
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="spectra=True"):
        layer_figure(table.drop(columns="sv"), "$x$")
    with pytest.raises(ValueError, match="not an analysed layer"):
        layer_figure(table, "nope")
