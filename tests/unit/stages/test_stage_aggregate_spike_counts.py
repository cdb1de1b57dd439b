"""Stage aggregate_spike_counts: counts per N and the growth law r(N) = c N^kappa on constructed counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.stages.aggregate_spike_counts import spike_count_tables
from rmtweights.sweeps.growth_law import fit_growth_law

KAPPA, C, DELTA = 0.5, 0.8, 0.1
WIDTHS = {"N100": 100, "N200": 200, "N400": 400}
KEYS = dict(study="spikes", dataset="syn", model="spike_mlp")


def _count(N: int, seed: int) -> float:
    """c N^kappa e^{+delta} for seed 0, e^{-delta} for seed 1: the two seeds' log residuals cancel at every N,
    so log-log OLS returns kappa and log c exactly (up to rounding) with a non-degenerate interval."""
    return C * N ** KAPPA * np.exp(DELTA if seed == 0 else -DELTA)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    fits, training = [], []
    for variant, N in WIDTHS.items():
        for seed in (0, 1):
            run = {**KEYS, "variant": variant, "seed": seed}
            for method in ("bema", "gb", "modified_mp"):
                fc2 = {"bema": _count(N, seed), "gb": 0.0, "modified_mp": np.nan}[method]  # gb finds no spike
                fits.append({**run, "state": "trained", "layer": "fc2", "method": method, "n": N, "m": N,
                             "s_hat": fc2, "status": "ok", "reason": ""})
                failed = N == 100 and seed == 1 and method == "bema"
                fits.append({**run, "state": "trained", "layer": "fc1", "method": method, "n": 784, "m": N,
                             "s_hat": np.nan if failed else 3.0, "status": "failed" if failed else "ok",
                             "reason": "bema estimator failed: x" if failed else ""})
                fits.append({**run, "state": "initial", "layer": "fc2", "method": method, "n": N, "m": N,
                             "s_hat": 50.0, "status": "ok", "reason": ""})  # ignored: trained only
            for epoch in (0, 1):
                training.append({**run, "epoch": epoch, "test_acc": 0.5 + N / 1000 + 0.01 * seed if epoch else 0.0})
    return pd.DataFrame(fits), pd.DataFrame(training)


def test_growth_law_recovers_kappa_and_c():
    fits, training = _frames()
    _, growth = spike_count_tables(fits, training, WIDTHS)
    assert growth.method.tolist() == ["bema", "gb"]
    bema = growth.set_index("method").loc["bema"]
    assert bema.status == "ok" and bema.layer == "fc2"  # the N x N layer
    # exact data: the count model fits the seeds' mean count c cosh(delta) N^kappa, so it returns kappa and
    # c cosh(delta) to rounding (1e-9); log-LS fits the mean log count, log c + kappa log N, and returns c
    assert bema.kappa == pytest.approx(KAPPA, abs=1e-9)
    assert bema.c == pytest.approx(C * np.cosh(DELTA), rel=1e-9)
    assert bema.ls_kappa == pytest.approx(KAPPA, abs=1e-9) and bema.ls_c == pytest.approx(C, rel=1e-9)
    assert bema.ls_kappa_ci_low < KAPPA < bema.ls_kappa_ci_high  # residuals +-delta: an interval of positive width
    assert bema.n_obs == 6 and bema.n_sizes == 3 and bema.df == 1


def test_no_spikes_gives_a_skipped_row_with_the_reason():
    fits, training = _frames()
    _, growth = spike_count_tables(fits, training, WIDTHS)
    gb = growth.set_index("method").loc["gb"]
    gb_rows = fits[(fits.method == "gb") & (fits.layer == "fc2") & (fits.state == "trained")]
    with pytest.raises(ValueError) as err:  # the library's own message is the reason
        fit_growth_law(gb_rows.assign(N=gb_rows.variant.map(WIDTHS), spikes=gb_rows.s_hat)[["N", "seed", "spikes"]])
    assert gb.status == "skipped" and gb.reason == str(err.value) and "no spike at any N" in gb.reason
    assert np.isnan(gb.kappa) and np.isnan(gb.c)


def test_counts_table():
    fits, training = _frames()
    counts, _ = spike_count_tables(fits, training, WIDTHS)
    assert set(counts.method) == {"bema", "gb"}  # modified_mp has no threshold: not counted
    assert len(counts) == 3 * 2 * 2  # N x layer x method
    counts = counts.set_index(["N", "layer", "method"])
    for N in WIDTHS.values():
        row = counts.loc[(N, "fc2", "bema")]
        seeds = [_count(N, 0), _count(N, 1)]
        assert row.spikes_mean == pytest.approx(np.mean(seeds), rel=1e-14)
        assert row.spikes_sd == pytest.approx(np.std(seeds, ddof=1), rel=1e-12)
        assert (row.spikes_min, row.spikes_max) == (min(seeds), max(seeds))
        assert row.bulk_fraction_mean == pytest.approx(1 - np.mean(seeds) / N, rel=1e-14)
        assert row.test_acc_mean == pytest.approx(0.5 + N / 1000 + 0.005, abs=1e-14)  # final epoch, both seeds
        assert row.status == "ok" and row.n_seeds == 2
    failed = counts.loc[(100, "fc1", "bema")]  # one seed failed: one value, range of the other
    assert failed.status == "partial" and failed.reason == "bema estimator failed: x"
    assert failed.spikes_n == 1 and failed.spikes_mean == 3.0 and (failed.spikes_min, failed.spikes_max) == (3.0, 3.0)
    assert np.isnan(failed.spikes_sd) and failed.n_seeds == 2
