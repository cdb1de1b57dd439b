"""Statistics over seeds: mean, SD and counts, the status of a group of seeds, the final epoch of each run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.stages.over_seeds import GROUP, final_epochs, mean_sd, status_over_seeds

KEYS = dict(study="s", dataset="d", model="m")


def _frame() -> pd.DataFrame:
    rows = [
        dict(variant="a", seed=0, x=1.0, y=10.0, status="ok", reason=""),
        dict(variant="a", seed=1, x=np.nan, y=20.0, status="skipped", reason="too small"),
        dict(variant="a", seed=2, x=4.0, y=60.0, status="ok", reason=""),
        dict(variant="b", seed=0, x=7.0, y=np.nan, status="failed", reason="boom"),  # a single seed
        dict(variant="c", seed=0, x=np.nan, y=np.nan, status="skipped", reason="z"),
        dict(variant="c", seed=1, x=np.nan, y=np.nan, status="skipped", reason="y"),
        dict(variant="c", seed=2, x=np.nan, y=np.nan, status="skipped", reason="z"),
        dict(variant="d", seed=0, x=1.0, y=1.0, status="ok", reason=""),
        dict(variant="d", seed=1, x=2.0, y=2.0, status="ok", reason=""),
    ]
    return pd.DataFrame([{**KEYS, **r} for r in rows])


def test_mean_sd_counts_finite_values_only():
    frame = _frame()
    out = mean_sd(frame, GROUP, ["x", "y"]).set_index("variant")
    assert list(out.columns) == ["study", "dataset", "model", "x_mean", "x_sd", "x_n", "y_mean", "y_sd", "y_n",
                                 "n_seeds"]
    for variant, rows in frame.groupby("variant"):
        for value in ("x", "y"):
            finite = rows[value].dropna().to_numpy()
            assert out.loc[variant, f"{value}_n"] == finite.size
            if finite.size:
                assert out.loc[variant, f"{value}_mean"] == pytest.approx(finite.mean(), rel=1e-15)
            else:
                assert np.isnan(out.loc[variant, f"{value}_mean"])
            if finite.size >= 2:  # sample SD, ddof = 1
                assert out.loc[variant, f"{value}_sd"] == pytest.approx(np.std(finite, ddof=1), rel=1e-14)
            else:
                assert np.isnan(out.loc[variant, f"{value}_sd"])
        assert out.loc[variant, "n_seeds"] == rows.seed.nunique()
    # by hand: variant a, x = (1, NaN, 4): mean 2.5, SD sqrt(4.5), n 2 of 3 seeds
    assert out.loc["a", "x_mean"] == 2.5 and out.loc["a", "x_sd"] == pytest.approx(np.sqrt(4.5), rel=1e-15)
    assert (out.loc["a", "x_n"], out.loc["a", "n_seeds"]) == (2, 3)
    # a single seed: n 1, no SD
    assert out.loc["b", "x_n"] == 1 and np.isnan(out.loc["b", "x_sd"]) and out.loc["b", "x_mean"] == 7.0


def test_status_over_seeds():
    out = status_over_seeds(_frame(), GROUP).set_index("variant")
    assert out.loc["a", "status"] == "partial" and out.loc["a", "reason"] == "too small"
    assert out.loc["b", "status"] == "failed" and out.loc["b", "reason"] == "boom"
    assert out.loc["c", "status"] == "skipped" and out.loc["c", "reason"] == "y; z"  # distinct reasons, sorted
    assert out.loc["d", "status"] == "ok" and out.loc["d", "reason"] == ""


def test_final_epochs():
    runs = []
    for seed in (0, 1):
        for epoch in (2, 0, 1):  # any row order
            runs.append(dict(study="s", dataset="d", model="m", variant="v", seed=seed, epoch=epoch,
                             test_acc=0.1 * epoch + seed))
    last = final_epochs(pd.DataFrame(runs)).sort_values("seed")
    assert last.epoch.tolist() == [2, 2] and last.test_acc.tolist() == pytest.approx([0.2, 1.2], abs=1e-15)
