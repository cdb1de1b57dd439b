"""Stage tables of the workflow: library results turned into tidy, long Parquet-ready frames.

Each function here is what one Snakemake rule computes (the ``scripts/`` adapters only unpack
``snakemake.*`` and call one of them). Every row carries the layer name and, once the adapter calls
:func:`add_run_keys`, the run keys (study, dataset, model, variant, seed), so ``pd.concat`` over runs
is the aggregation (ARCHITECTURE.md, "Data contracts"). A layer that cannot be analysed gets a row
with ``status`` and ``reason``, never silence.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating singular value thresholds for DNN
   weight matrices based on random matrix theory" (paper 000 in ``papers/``).
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", arXiv:2203.14661 (paper 001).
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices" (paper 003).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "RUN_KEYS",
    "add_run_keys",
    "spectra_table",
    "mp_fit_table",
    "metric_tables",
    "heavy_tail_table",
    "universality_tables",
    "prune_tables",
    "correlation_table",
    "aggregate",
    "spike_count_tables",
    "mean_sd",
    "wigner_summary_table",
]

RUN_KEYS = ("study", "dataset", "model", "variant", "seed")
STATES = ("trained", "initial")


def add_run_keys(frame: pd.DataFrame, keys: Mapping[str, Any]) -> pd.DataFrame:
    """Prefix ``frame`` with the run-key columns (seed as int, the rest as str)."""
    out = frame.copy()
    for position, key in enumerate(RUN_KEYS):
        value = keys[key] if isinstance(keys, Mapping) else getattr(keys, key)  # dict or snakemake wildcards
        value = int(value) if key == "seed" else str(value)
        out.insert(position, key, value)
    return out


# --------------------------------------------------------------------------- spectra
def spectra_table(states: Mapping[str, Mapping[str, Any]], reshape: str = "spatial") -> pd.DataFrame:
    """Singular values of every Linear/Conv2d layer for each weight state (``trained``, ``initial``).

    ``states`` maps a state name to a model ``state_dict``. Columns: state, then those of
    :func:`rmtweights.layers.spectra_frame` (layer, kind, reshape, n, m, q, index, sv, gamma,
    status, reason).
    """
    from rmtweights import layers

    frames = []
    for state, state_dict in states.items():
        frame = layers.spectra_frame(layers.layer_matrices(state_dict, reshape=reshape))
        frame.insert(0, "state", state)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _layer_groups(spectra: pd.DataFrame, state: str | None = None):
    """Yield (state, layer, rows) in the table's order, rows sorted by index."""
    frame = spectra if state is None else spectra[spectra.state == state]
    for (st, layer), rows in frame.groupby(["state", "layer"], sort=False):
        yield st, layer, rows.sort_values("index")


def _skipped_reason(rows: pd.DataFrame) -> str | None:
    status = rows.status.iloc[0]
    if status != "ok":
        return str(rows.reason.iloc[0]) or str(status)
    return None


# --------------------------------------------------------------------------- MP fits
FIT_COLUMNS = ["state", "layer", "kind", "reshape", "method", "n", "m", "q", "min_nm", "sigma",
               "gamma_plus", "s_hat", "ave_w", "gd_threshold", "s_hat_gd", "fraction_mp",
               "gamma_max", "status", "reason"]


def mp_fit_table(spectra: pd.DataFrame, methods: Sequence[str], *, alpha: float = 0.2, a: int = 15,
                 beta: float = 0.1) -> pd.DataFrame:
    """sigma-hat, threshold gamma_+ (eq. (3) of [1]_), s-hat and Ave_w (eq. (6) of [1]_) per layer and method.

    Also the Gavish–Donoho threshold at the same sigma-hat and the fraction of the spectrum below the
    modified-MP upper edge (paper 001, Sec. 4; ``mp_fit`` method only, else NaN).
    """
    from rmtweights.analyze import analyze_spectrum
    from rmtweights.rmt.threshold import count_spikes, gavish_donoho_threshold

    rows = []
    for state, layer, group in _layer_groups(spectra):
        first = group.iloc[0]
        base = dict(state=state, layer=layer, kind=first.kind, reshape=first.reshape, n=int(first.n),
                    m=int(first.m), q=float(first.q), min_nm=int(min(first.n, first.m)))
        skipped = _skipped_reason(group)
        for method in methods:
            row = dict(base, method=method, sigma=np.nan, gamma_plus=np.nan, s_hat=-1, ave_w=np.nan,
                       gd_threshold=np.nan, s_hat_gd=-1, fraction_mp=np.nan,
                       gamma_max=float(group.gamma.max()) if skipped is None else np.nan,
                       status="skipped", reason=skipped or "")
            if skipped is None:
                result = analyze_spectrum(group.sv.to_numpy(), int(first.n), int(first.m), method,
                                          alpha=alpha, beta=beta, a=a)
                row.update(status=result.status, reason=result.reason)
                if result.status == "ok":
                    gd = float(gavish_donoho_threshold(result.sigma, result.q))
                    row.update(sigma=float(result.sigma), gamma_plus=float(result.gamma_plus),
                               s_hat=int(result.s_hat), ave_w=float(result.ave_w), gd_threshold=gd,
                               s_hat_gd=int(count_spikes(result.gammas, gd)),
                               fraction_mp=float(result.params.get("fraction_mp", np.nan)))
            rows.append(row)
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


# --------------------------------------------------------------------------- metric
def metric_tables(spectra: pd.DataFrame, fits: pd.DataFrame, *, beta: float = 0.1,
                  k_fraction: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """theta-hat and phi-hat of each spike (eq. (4) of [1]_) and the Ave_w curve over s = 1..k.

    Trained weights only. The curve has both readings of ARCHITECTURE.md (``fixed`` and
    ``implied``) with k = max(1, floor(k_fraction * min(n, m))).
    """
    from rmtweights.rmt.bbp import ave_w_curve, phi_hat, theta_hat

    spikes, curves = [], []
    ok = fits[(fits.state == "trained") & (fits.status == "ok")]
    trained = spectra[spectra.state == "trained"]
    for fit in ok.itertuples(index=False):
        gammas = np.sort(trained.loc[trained.layer == fit.layer, "gamma"].to_numpy())[::-1]
        s = int(fit.s_hat)
        if s > 0:
            top = gammas[:s]
            spikes.append(pd.DataFrame(dict(
                layer=fit.layer, method=fit.method, index=np.arange(1, s + 1), gamma=top,
                theta_hat=theta_hat(top, fit.sigma, fit.q), phi_hat=phi_hat(top, fit.sigma, fit.q),
                gamma_plus=fit.gamma_plus, ave_w=fit.ave_w)))
        k = max(1, int(np.floor(k_fraction * fit.min_nm)))
        k = min(k, len(gammas) - 1)
        if k >= 1:
            curve = ave_w_curve(gammas, fit.sigma, fit.q, fit.n, k, beta=beta)
            curve.insert(0, "method", fit.method)
            curve.insert(0, "layer", fit.layer)
            curves.append(curve)
    spike_cols = ["layer", "method", "index", "gamma", "theta_hat", "phi_hat", "gamma_plus", "ave_w"]
    curve_cols = ["layer", "method", "s", "reading", "gamma_plus", "sigma", "ave_w"]
    return (pd.concat(spikes, ignore_index=True) if spikes else pd.DataFrame(columns=spike_cols),
            pd.concat(curves, ignore_index=True)[curve_cols] if curves else pd.DataFrame(columns=curve_cols))


# --------------------------------------------------------------------------- heavy tails
def heavy_tail_table(spectra: pd.DataFrame, *, n_bootstrap: int = 50, seed: int = 0) -> pd.DataFrame:
    """Power-law fit, goodness of fit, likelihood-ratio tests and verdict per layer and state."""
    from rmtweights.rmt.heavytail import fit_heavy_tail

    rows = []
    for state, layer, group in _layer_groups(spectra):
        skipped = _skipped_reason(group)
        if skipped is not None:
            row = dict(status="skipped", reason=skipped, verdict="inconclusive")
        else:
            row = fit_heavy_tail(group.sv.to_numpy(), n_bootstrap=n_bootstrap, seed=seed)
            row["bootstrap_seed"] = row.pop("seed", seed)  # `seed` is the run key
        rows.append(dict(state=state, layer=layer, **row))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- universality
def universality_tables(states: Mapping[str, Mapping[str, Any]], *, reshape: str = "spatial", a: int = 15,
                        window: int = 15, ls: Sequence[float] = (1, 2, 5, 10)) -> dict[str, pd.DataFrame]:
    """Level spacings vs the Wigner surmise, number variance vs GOE, Porter–Thomas ([2]_, Secs. 3–4).

    Computed on the normalised singular values gamma of every analysable layer (pooled over the slices
    of the ``slices`` reshape), for each weight state; Porter–Thomas on the right singular vectors
    (length m) of the (first) matrix. Returns frames ``summary``, ``spacings``, ``number_variance`` and
    ``porter_thomas``.
    """
    from scipy import linalg

    from rmtweights import layers
    from rmtweights.rmt import universality as uni

    out: dict[str, list[pd.DataFrame]] = {"summary": [], "spacings": [], "number_variance": [], "porter_thomas": []}
    for state, state_dict in states.items():
        for lm in layers.layer_matrices(state_dict, reshape=reshape):
            matrices = lm.matrix if isinstance(lm.matrix, list) else [lm.matrix]
            n, m = matrices[0].shape
            keys = dict(state=state, layer=lm.name)
            if m < 2 * a + 10:
                out["summary"].append(pd.DataFrame([dict(keys, n=n, m=m, status="skipped",
                                                         reason=f"m={m} < 2a+10={2 * a + 10}: too few levels")]))
                continue
            # Porter–Thomas needs the vectors; take them from the first (or only) matrix.
            _, sv, vt = linalg.svd(matrices[0], full_matrices=False)
            svs = np.sort(np.concatenate([sv] + [linalg.svdvals(x) for x in matrices[1:]]))
            levels = svs / np.sqrt(n)  # singular values, unfolded as in [2]_ App. C
            test = uni.spacing_test(levels, a=a)
            out["summary"].append(pd.DataFrame([{**keys, "n": n, "m": m, **test}]))
            out["spacings"].append(uni.spacing_histogram(levels, a=a).assign(**keys))
            unfolded = uni.unfold(levels, a=a)
            nv = uni.number_variance(unfolded, np.asarray(ls, dtype=float))
            nv["goe"] = uni.goe_number_variance(nv["l"].to_numpy())
            out["number_variance"].append(nv.assign(**keys))
            out["porter_thomas"].append(uni.porter_thomas(vt.T, window=window).assign(**keys))
    frames = {}
    for name, parts in out.items():
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["state", "layer"])
        lead = ["state", "layer"]
        frames[name] = frame[lead + [c for c in frame.columns if c not in lead]]
    return frames


# --------------------------------------------------------------------------- pruning
def prune_tables(model, data, layer: str, fits: pd.DataFrame, *, reshape: str = "spatial",
                 k_fraction: float = 0.2, batch_size: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep-top-s accuracy of one layer (s = 1..k, [1]_ Sec. 4) and whole-network low rank.

    The low-rank table has one row per choice: ``dense`` (no truncation), each method (every
    analysable layer truncated at its s-hat), and ``best_avew`` (per layer, the method with the
    higher Ave_w); with accuracy and parameter counts (s(n+m) where that saves, else nm).
    """
    from rmtweights import prune
    from rmtweights.train import evaluate

    trained = fits[(fits.state == "trained")]
    target = trained[trained.layer == layer]
    if target.empty:
        raise ValueError(f"prune layer {layer!r} is not among the model's layers {sorted(trained.layer.unique())}")
    min_nm = int(target.min_nm.iloc[0])
    k = max(1, int(np.floor(k_fraction * min_nm)))
    curve = prune.keep_top_s_accuracy(model, layer, data.test_x, data.test_y, list(range(1, k + 1)),
                                      reshape=reshape, batch_size=batch_size)
    if "layer" not in curve:
        curve.insert(0, "layer", layer)

    ok = trained[trained.status == "ok"]
    choices: dict[str, dict[str, int]] = {method: dict(zip(g.layer, g.s_hat.astype(int)))
                                          for method, g in ok.groupby("method", sort=False)}
    best = ok.sort_values("ave_w", ascending=False, na_position="last").drop_duplicates("layer")
    choices["best_avew"] = dict(zip(best.layer, best.s_hat.astype(int)))
    rows = []
    _, dense_acc = evaluate(model, data.test_x, data.test_y, batch_size)
    dense_params = int(sum(int(r.n) * int(r.m) for r in trained.drop_duplicates("layer").itertuples()))
    rows.append(dict(choice="dense", accuracy=float(dense_acc), params_dense=dense_params,
                     params=dense_params, params_fraction=1.0, layers_factorised=0))
    for choice, ranks in choices.items():
        ranks = {name: s for name, s in ranks.items() if s > 0}  # s-hat = 0: no signal found, layer kept
        if not ranks:
            rows.append(dict(rows[0], choice=choice))
            continue
        low, info = prune.low_rank_network(model, ranks, reshape=reshape)
        _, acc = evaluate(low, data.test_x, data.test_y, batch_size)
        params = dense_params - int(info.params_dense.sum()) + int(info.params_low_rank.sum())
        rows.append(dict(choice=choice, accuracy=float(acc), params_dense=dense_params, params=params,
                         params_fraction=params / dense_params, layers_factorised=int(info.factorised.sum())))
    return curve, pd.DataFrame(rows)


def correlation_table(curve: pd.DataFrame, accuracy: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Pearson correlation between Ave_w(s) and test accuracy(s), s = 1..k ([1]_ Sec. 4, Fig. 2).

    One row per (method, reading); NaN with a reason when either curve is constant.
    """
    from scipy import stats

    rows = []
    acc = accuracy.set_index("s")["accuracy"]
    for (method, reading), group in curve[curve.layer == layer].groupby(["method", "reading"], sort=False):
        merged = group.set_index("s")["ave_w"].to_frame().join(acc, how="inner").dropna()
        row = dict(layer=layer, method=method, reading=reading, k=len(merged), pearson_r=np.nan,
                   p_value=np.nan, status="ok", reason="")
        if len(merged) < 3 or merged.ave_w.nunique() < 2 or merged.accuracy.nunique() < 2:
            row.update(status="skipped", reason="fewer than 3 points or a constant curve")
        else:
            r, p = stats.pearsonr(merged.ave_w, merged.accuracy)
            row.update(pearson_r=float(r), p_value=float(p))
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- aggregation
def mean_sd(frame: pd.DataFrame, by: Sequence[str], values: Sequence[str]) -> pd.DataFrame:
    """Mean, SD (ddof=1) and count of ``values`` over seeds within groups ``by``."""
    grouped = frame.groupby(list(by), sort=True, dropna=False)[list(values)]
    out = grouped.agg(["mean", "std"])
    out.columns = [f"{v}_{stat}" if stat == "mean" else f"{v}_sd" for v, stat in out.columns]
    out["n_seeds"] = frame.groupby(list(by), sort=True, dropna=False)["seed"].nunique()
    return out.reset_index()


GROUP = ["study", "dataset", "model", "variant"]


def _final_epochs(training: pd.DataFrame) -> pd.DataFrame:
    """The last epoch's metrics row of every run."""
    return training.sort_values("epoch").groupby(list(RUN_KEYS), sort=False).tail(1)


def aggregate(table: str, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The study tables of ``results/tables/`` from the concatenated per-run tables.

    ``table2``: per layer and method, min(n, m), s-hat and Ave_w, mean ± SD over seeds ([1]_ Table 2);
    ``training``: final-epoch accuracies; ``heavy_tail``: verdict counts and alpha; ``universality``:
    spacing KS p-values and pass rate; ``correlation``: Pearson r per method and reading;
    ``lowrank``: accuracy and compression per choice; ``compare_<key>``: the variants of a study side by
    side (Ave_w, s-hat, accuracy; [1]_ Fig. 3 for key batch_size).
    """
    if table == "table2":
        fits = frames["mp_fit"]
        fits = fits[(fits.state == "trained") & (fits.status == "ok")]
        return mean_sd(fits, GROUP + ["layer", "method", "min_nm"], ["s_hat", "ave_w", "sigma", "gamma_plus"])
    if table == "training":
        tr = frames["training"]
        return mean_sd(_final_epochs(tr), GROUP, ["test_acc", "train_acc", "test_loss", "seconds"])
    if table == "heavy_tail":
        ht = frames["heavy_tail"]
        counts = ht.pivot_table(index=GROUP + ["state", "layer"], columns="verdict", values="seed",
                                aggfunc="count", fill_value=0).reset_index()
        counts.columns.name = None
        values = [c for c in ("alpha_sv", "alpha_eig", "gof_p", "hill_alpha_sv") if c in ht]
        stats_ = mean_sd(ht, GROUP + ["state", "layer"], values) if values else None
        return counts if stats_ is None else counts.merge(stats_, on=GROUP + ["state", "layer"])
    if table == "universality":
        un = frames["universality"]
        un = un[un.status == "ok"].copy()
        p_col = "p_value" if "p_value" in un else [c for c in un.columns if c.endswith("p_value")][0]
        un["passes_5pct"] = (un[p_col] >= 0.05).astype(float)
        return mean_sd(un, GROUP + ["state", "layer"], [p_col, "passes_5pct"])
    if table == "correlation":
        return mean_sd(frames["correlation"], GROUP + ["layer", "method", "reading"], ["pearson_r"])
    if table == "lowrank":
        return mean_sd(frames["lowrank"], GROUP + ["choice"], ["accuracy", "params_fraction", "params"])
    if table.startswith("compare_"):
        fits = frames["mp_fit"]
        fits = fits[(fits.state == "trained") & (fits.status == "ok")]
        per_layer = mean_sd(fits, GROUP + ["layer", "method"], ["s_hat", "ave_w", "gamma_max"])
        acc = aggregate("training", {"training": frames["training"]})[GROUP + ["test_acc_mean", "test_acc_sd"]]
        return per_layer.merge(acc, on=GROUP, how="left")
    raise ValueError(f"unknown table {table!r}")


def spike_count_tables(fits: pd.DataFrame, training: pd.DataFrame,
                       widths: Mapping[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spike counts versus N ([3]_ App. A) and the growth law r(N) = c N^kappa of the N x N layer.

    Returns (per N, layer and method: spikes mean ± SD, bulk fraction 1 − s/m, test accuracy) and
    the growth-law fits (one row per method) of :func:`rmtweights.sweeps.fit_growth_law`.
    """
    from rmtweights.sweeps import fit_growth_law

    ok = fits[(fits.state == "trained") & (fits.status == "ok") & fits.method.isin(["bema", "gb"])].copy()
    ok["N"] = ok.variant.map(widths).astype(int)
    ok["spikes"] = ok.s_hat.astype(int)
    ok["bulk_fraction"] = 1.0 - ok.spikes / ok.m
    ok = ok.merge(_final_epochs(training)[list(RUN_KEYS) + ["test_acc"]], on=list(RUN_KEYS), how="left")
    counts = mean_sd(ok, ["study", "dataset", "model", "N", "layer", "method"],
                     ["spikes", "bulk_fraction", "test_acc"])
    square = ok[ok.n == ok.m]
    growth = []
    for method, group in square.groupby("method", sort=True):
        row = dict(method=method, layer=str(group.layer.iloc[0]), status="ok", reason="")
        try:
            row.update(fit_growth_law(group[["N", "seed", "spikes"]]))
        except ValueError as err:  # e.g. no spikes at all on a short grid: say so, do not fail the study
            row.update(status="skipped", reason=str(err), kappa=np.nan, c=np.nan)
        growth.append(row)
    return counts, pd.DataFrame(growth)


# --------------------------------------------------------------------------- sweeps
def wigner_summary_table(outliers: pd.DataFrame, peche: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Outlier error per N (mean over seeds of the per-draw max and mean error, Theorem 2.2 of [3]_),
    the fitted log–log rate of the mean error, and the Péché check (eq. (1.8) of [3]_) per N and theta.

    Returns the table (``quantity`` = ``outliers`` or ``peche``) and ``{"exponent", "intercept"}``.
    """
    from rmtweights.rmt.wigner import error_summary, fit_error_rate

    per_draw = error_summary(outliers)
    exponent, intercept = fit_error_rate(per_draw)
    errors = per_draw.groupby("N", sort=True).agg(r=("r", "first"), max_error=("max_error", "mean"),
                                                  mean_error=("mean_error", "mean"),
                                                  n_seeds=("seed", "nunique")).reset_index()
    errors.insert(0, "quantity", "outliers")
    errors["rate_exponent"] = exponent
    pe = peche.groupby(["N", "theta"], sort=True).agg(
        lambda_1=("lambda_1", "mean"), limit=("limit", "first"), mean_error=("abs_error", "mean"),
        max_error=("abs_error", "max"), n_seeds=("seed", "nunique")).reset_index()
    pe.insert(0, "quantity", "peche")
    return pd.concat([errors, pe], ignore_index=True), {"exponent": exponent, "intercept": intercept}
