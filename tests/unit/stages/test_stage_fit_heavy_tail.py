"""Stage fit_heavy_tail: one row per state and layer, equal to fit_heavy_tail of the layer's singular values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.layers import LayerMatrix
from rmtweights.rmt.heavytail import fit_heavy_tail
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.fit_heavy_tail import heavy_tail_table
from rmtweights.stages.spectra import spectra_tables

N_BOOTSTRAP = 5  # few replicates: the test compares with the library, not the p-value's accuracy
SEED = 3


@pytest.fixture(scope="module")
def spectra() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    heavy = rng.standard_t(2.5, size=(200, 100))  # Student-t entries: a power-law tail of singular values
    gauss = rng.standard_normal((150, 60))
    states = {"trained": [LayerMatrix("fc1", "linear", heavy, (100, 200), "spatial", True),
                          LayerMatrix("fc2", "linear", gauss, (60, 150), "spatial", True),
                          LayerMatrix("head", "linear", rng.standard_normal((30, 5)), (5, 30), "spatial", True)],
              "initial": [LayerMatrix("fc1", "linear", rng.standard_normal((200, 100)), (100, 200), "spatial", True)]}
    return spectra_tables(states)[0]


def test_rows_equal_fit_heavy_tail(spectra):
    table = heavy_tail_table(spectra, n_bootstrap=N_BOOTSTRAP, seed=SEED)
    keys = list(zip(table.state, table.layer))
    assert keys == [("trained", "fc1"), ("trained", "fc2"), ("trained", "head"), ("initial", "fc1")]
    assert "bootstrap_seed" in table and "seed" not in table  # `seed` is the run key added later
    add_run_keys(table, dict(study="s", dataset="d", model="m", variant="v", seed=0))  # no clash
    for (state, layer), row in zip(keys, table.itertuples(index=False)):
        if layer == "head":
            continue
        rows = spectra[(spectra.state == state) & (spectra.layer == layer)].sort_values("index")
        ref = fit_heavy_tail(rows.sv.to_numpy(), n_bootstrap=N_BOOTSTRAP, seed=SEED)
        got = row._asdict()
        assert got["bootstrap_seed"] == ref.pop("seed") == SEED
        assert got["kind"] == "linear"
        for key, value in ref.items():
            if isinstance(value, (float, np.floating)):
                # the same seeded computation on the same values: equal up to rounding
                np.testing.assert_allclose(got[key], value, rtol=1e-12, equal_nan=True, err_msg=key)
            else:
                assert got[key] == value, key
        assert got["status"] == "ok" and got["n_bootstrap"] == N_BOOTSTRAP


def test_skipped_layer_row(spectra):
    table = heavy_tail_table(spectra, n_bootstrap=0)
    head = table[table.layer == "head"].iloc[0]
    assert head.status == "skipped" and head.verdict == "inconclusive"
    assert head.reason.startswith("m=5 <= min_dim=10")
    assert pd.isna(head.alpha_sv) and pd.isna(head.bootstrap_seed)
    # without a bootstrap the verdict is never heavy_tailed (gof_p is NaN)
    assert table[table.status == "ok"].gof_p.isna().all() and "heavy_tailed" not in set(table.verdict)
