"""Stage aggregate_table: the study tables from constructed per-run tables, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.stages.aggregate_table import aggregate

KEYS = dict(study="demo", dataset="syn", model="mlp", variant="base")


def _fit(seed, s_hat, ave_w, status="ok", reason="", state="trained", method="bema", variant="base", gamma_max=3.0):
    return {**KEYS, "variant": variant, "seed": seed, "state": state, "layer": "fc1", "kind": "linear",
            "method": method, "min_nm": 50, "s_hat": s_hat, "ave_w": ave_w, "sigma": 0.5, "gamma_plus": 0.9,
            "s_hat_gd": s_hat, "gamma_max": gamma_max, "status": status, "reason": reason}


def _fits() -> pd.DataFrame:
    frame = pd.DataFrame([
        _fit(0, 4, 0.8), _fit(1, 6, 0.6),
        _fit(2, 99, 0.1, status="failed", reason="bema estimator failed: x"),  # numbers that must not count
        _fit(0, 40, 0.2, state="initial"), _fit(1, 40, 0.2, state="initial"),  # not Table 2 (trained only)
    ])
    frame["s_hat"] = frame.s_hat.astype("Int64")
    frame["s_hat_gd"] = frame.s_hat_gd.astype("Int64")
    return frame


def _training(variant_acc: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for variant, accs in variant_acc.items():
        for seed, acc in enumerate(accs):
            for epoch in (0, 1):  # the final epoch counts
                rows.append({**KEYS, "variant": variant, "seed": seed, "epoch": epoch,
                             "test_acc": acc if epoch == 1 else 0.0, "train_acc": acc + 0.05 if epoch == 1 else 0.0,
                             "test_loss": 1.0 - acc, "seconds": 2.0 + seed})
    return pd.DataFrame(rows)


def test_table2_averages_ok_rows_and_counts_all_seeds():
    out = aggregate("table2", {"mp_fit": _fits()})
    assert len(out) == 1
    row = out.iloc[0]
    assert row.s_hat_mean == 5.0 and row.s_hat_sd == pytest.approx(np.sqrt(2.0), rel=1e-14)  # (4, 6)
    assert row.ave_w_mean == pytest.approx(0.7, abs=1e-15) and row.ave_w_n == 2
    assert row.s_hat_n == 2 and row.n_seeds == 3  # the failed seed counts as a seed, not as a value
    assert row.status == "partial" and row.reason == "bema estimator failed: x"
    assert row.s_hat_fraction_mean == pytest.approx(5.0 / 50, rel=1e-15)
    assert (row.layer, row.method, row.min_nm) == ("fc1", "bema", 50)


def test_table2_pairs_the_ave_w_gap_to_bema_by_seed():
    # seed 0: bema 0.80, gb 0.70; seed 1: bema 0.60, gb 0.64; seed 2: gb has no Ave_w (s-hat = 0).
    # Paired gaps 0.10 and 0.04: mean 0.07, largest 0.10, 2 pairs. The unpaired means (0.70 vs 0.67)
    # would differ by 0.03, and by more if a seed had a value under one method only.
    gb = pd.DataFrame([_fit(0, 3, 0.70, method="gb"), _fit(1, 5, 0.64, method="gb"), _fit(2, 0, np.nan, method="gb")])
    fits = pd.concat([_fits(), gb], ignore_index=True)
    out = aggregate("table2", {"mp_fit": fits}).set_index("method")
    assert out.loc["gb", "ave_w_gap_bema_mean"] == pytest.approx(0.07, abs=1e-12)
    assert out.loc["gb", "ave_w_gap_bema_n"] == 2 and out.loc["gb", "ave_w_gap_bema_max"] == pytest.approx(0.10, abs=1e-12)
    assert out.loc["bema", "ave_w_gap_bema_n"] == 0 and np.isnan(out.loc["bema", "ave_w_gap_bema_max"])


def test_training_table_uses_final_epochs():
    out = aggregate("training", {"training": _training({"base": [0.8, 0.9]})}).iloc[0]
    assert out.test_acc_mean == pytest.approx(0.85, abs=1e-15) and out.test_acc_n == 2 and out.n_seeds == 2
    assert out.test_acc_sd == pytest.approx(np.std([0.8, 0.9], ddof=1), rel=1e-12)
    assert out.seconds_mean == pytest.approx(2.5, abs=1e-15)


def test_heavy_tail_verdict_counts():
    def row(seed, layer, verdict, alpha, status="ok", reason=""):
        return {**KEYS, "seed": seed, "state": "trained", "layer": layer, "verdict": verdict, "alpha_sv": alpha,
                "alpha_eig": (alpha + 1) / 2, "gof_p": 0.5, "hill_alpha_sv": alpha, "status": status, "reason": reason}
    ht = pd.DataFrame([row(0, "fc1", "heavy_tailed", 3.0), row(1, "fc1", "heavy_tailed", 5.0),
                       row(2, "fc1", "not_heavy_tailed", 7.0),
                       row(3, "fc1", "inconclusive", np.nan, status="skipped", reason="m=5 <= min_dim=10"),
                       row(0, "fc2", "heavy_tailed", 2.0)])
    out = aggregate("heavy_tail", {"heavy_tail": ht}).set_index("layer")
    assert out.loc["fc1", ["n_heavy_tailed", "n_not_heavy_tailed", "n_inconclusive"]].tolist() == [2, 1, 1]
    assert out.loc["fc2", ["n_heavy_tailed", "n_not_heavy_tailed", "n_inconclusive"]].tolist() == [1, 0, 0]
    assert out.loc["fc1", "alpha_sv_mean"] == pytest.approx(5.0, abs=1e-15) and out.loc["fc1", "alpha_sv_n"] == 3
    assert out.loc["fc1", "status"] == "partial" and out.loc["fc1", "n_seeds"] == 4


def test_universality_pass_share():
    def row(seed, p, status="ok"):
        return {**KEYS, "seed": seed, "state": "trained", "layer": "fc1", "p_value": p, "pt_rejected_top": 0.5,
                "pt_rejected_rest": 0.1 * seed, "status": status, "reason": "" if status == "ok" else "few levels"}
    un = pd.DataFrame([row(0, 0.01), row(1, 0.2), row(2, 0.6), row(3, np.nan, status="skipped")])
    out = aggregate("universality", {"universality": un}).iloc[0]
    assert out.passes_5pct_mean == pytest.approx(2 / 3, abs=1e-15) and out.passes_5pct_n == 3
    assert out.p_value_mean == pytest.approx(0.27, abs=1e-15)
    # the vectors of a layer with too few spacings were still tested: every seed counts (0, .1, .2, .3)
    assert out.pt_rejected_rest_mean == pytest.approx(0.15, abs=1e-15) and out.pt_rejected_rest_n == 4
    assert out.status == "partial" and out.reason == "few levels"


def test_correlation_by_state_with_the_trained_advantage():
    def row(seed, state, r, advantage):
        return {**KEYS, "seed": seed, "layer": "fc2", "state": state, "method": "bema", "reading": "implied", "k": 6,
                "pearson_r": r, "trained_advantage": advantage, "status": "ok", "reason": ""}
    corr = pd.DataFrame([row(0, "trained", 0.9, np.nan), row(1, "trained", 0.8, np.nan),
                         row(0, "gaussian", 0.7, 0.2), row(1, "gaussian", 0.85, -0.05)])
    out = aggregate("correlation", {"correlation": corr}).set_index("state")
    assert out.loc["trained", "pearson_r_mean"] == pytest.approx(0.85, abs=1e-15)
    assert out.loc["trained", "trained_advantage_n"] == 0
    assert out.loc["gaussian", "trained_advantage_mean"] == pytest.approx(0.075, abs=1e-15)
    assert out.loc["gaussian", "trained_advantage_sd"] == pytest.approx(np.std([0.2, -0.05], ddof=1), rel=1e-12)
    assert out.loc["gaussian", "trained_advantage_n"] == 2


def test_reason_rows_become_skipped_rows():
    corr = pd.DataFrame([{**KEYS, "seed": s, "layer": "fc2", "state": "trained", "method": "bema", "reading": "fixed",
                          "k": 6, "pearson_r": r, "trained_advantage": np.nan, "status": "ok", "reason": ""}
                         for s, r in ((0, 0.9), (1, 0.8))])
    external = {**KEYS, "model": "bert", "seed": 0, "reason": "a weights file without an architecture"}
    out = aggregate("correlation", {"correlation": corr}, reason_rows=[external])
    ok = out[out.model == "mlp"].iloc[0]
    assert ok.pearson_r_mean == pytest.approx(0.85, abs=1e-15) and ok.status == "ok" and ok.n_seeds == 2
    skipped = out[out.model == "bert"]
    assert len(skipped) == 1
    skipped = skipped.iloc[0]
    assert skipped.status == "skipped" and skipped.reason == external["reason"]
    assert np.isnan(skipped.pearson_r_mean) and skipped.pearson_r_n == 0 and skipped.n_seeds == 1
    # a study whose only model has no per-run table: an empty frame plus the reason rows
    low = aggregate("lowrank", {"lowrank": pd.DataFrame()}, reason_rows=[external])
    assert len(low) == 1 and low.status.iloc[0] == "skipped" and low.reason.iloc[0] == external["reason"]
    assert low.accuracy_n.iloc[0] == 0 and np.isnan(low.accuracy_mean.iloc[0])


def test_compare_merges_test_accuracy():
    fits = pd.concat([pd.DataFrame([_fit(0, 4, 0.8, variant="bs64", gamma_max=3.0),
                                    _fit(1, 6, 0.6, variant="bs64", gamma_max=3.2),
                                    _fit(0, 2, 0.5, variant="bs256", gamma_max=2.0),
                                    _fit(1, 2, 0.7, variant="bs256", gamma_max=2.2),
                                    _fit(0, 30, 0.1, variant="bs256", state="initial")])], ignore_index=True)
    training = _training({"bs64": [0.80, 0.82], "bs256": [0.70, 0.74]})
    out = aggregate("compare_batch_size", {"mp_fit": fits, "training": training}).set_index("variant")
    assert out.loc["bs64", "s_hat_mean"] == 5.0 and out.loc["bs256", "s_hat_mean"] == 2.0
    assert out.loc["bs64", "gamma_max_mean"] == pytest.approx(3.1, abs=1e-15)
    assert out.loc["bs64", "test_acc_mean"] == pytest.approx(0.81, abs=1e-15)
    assert out.loc["bs256", "test_acc_mean"] == pytest.approx(0.72, abs=1e-15)
    assert (out.test_acc_n == 2).all()


def test_unknown_table():
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        aggregate("nope", {})
