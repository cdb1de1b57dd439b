"""Stage fit_mp: fit rows, spikes and the Ave_w curve against the library functions they come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.analyze import analyze_spectrum
from rmtweights.layers import LayerMatrix
from rmtweights.methods import METHOD_NAMES as METHODS
from rmtweights.methods import THRESHOLD_METHODS
from rmtweights.rmt import bbp
from rmtweights.stages.fit_mp import CURVE_COLUMNS, FIT_COLUMNS, SPIKE_COLUMNS, fit_tables
from rmtweights.stages.spectra import spectra_tables

N, M = 300, 150
THETAS = (3.0, 2.0)
SIGMA = 0.5


def _spiked(rng: np.random.Generator) -> np.ndarray:
    """sqrt(n) sum_i theta_i u_i v_i^T + sigma Z: gammas of the spikes near theta_i, a bulk of width sigma."""
    u, _ = np.linalg.qr(rng.standard_normal((N, len(THETAS))))
    v, _ = np.linalg.qr(rng.standard_normal((M, len(THETAS))))
    return np.sqrt(N) * (u * np.asarray(THETAS)) @ v.T + SIGMA * rng.standard_normal((N, M))


@pytest.fixture(scope="module")
def spectra() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    trained = [LayerMatrix("fc1", "linear", _spiked(rng), (M, N), "spatial", True),
               LayerMatrix("head", "linear", rng.standard_normal((40, 8)), (8, 40), "spatial", True)]  # m <= min_dim
    initial = [LayerMatrix("fc1", "linear", SIGMA * rng.standard_normal((N, M)), (M, N), "spatial", True)]
    frame, _ = spectra_tables({"trained": trained, "initial": initial})
    return frame


def _sv(spectra: pd.DataFrame, state: str, layer: str) -> np.ndarray:
    rows = spectra[(spectra.state == state) & (spectra.layer == layer)].sort_values("index")
    return rows.sv.to_numpy()


def test_fit_rows_equal_analyze_spectrum(spectra):
    fits, _, _ = fit_tables(spectra, METHODS)
    assert tuple(fits.columns) == FIT_COLUMNS
    assert len(fits) == 3 * len(METHODS)  # (trained fc1, trained head, initial fc1) x methods
    for state in ("trained", "initial"):
        for method in METHODS:
            row = fits[(fits.state == state) & (fits.layer == "fc1") & (fits.method == method)]
            assert len(row) == 1
            row = row.iloc[0]
            ref = analyze_spectrum(_sv(spectra, state, "fc1"), N, M, method).summary()
            assert row.status == ref["status"] == "ok" and row.reason == ref["reason"]
            assert (row.n, row.m, row.min_nm) == (N, M, M) and row.kind == "linear" and row.reshape == "spatial"
            # the same function on the same singular values: equal up to rounding (1e-12 relative)
            for column in ("q", "sigma", "gamma_plus", "ave_w", "gd_threshold", "gamma_max"):
                np.testing.assert_allclose(row[column], ref[column], rtol=1e-12, equal_nan=True, err_msg=column)
            for column in ("fraction_mp", "nu_max"):  # modified_mp's own outputs, NaN for the other methods
                np.testing.assert_allclose(row[column], ref.get(column, np.nan), rtol=1e-12, equal_nan=True)
            for column in ("s_hat", "s_hat_gd"):
                if method in THRESHOLD_METHODS:
                    assert row[column] == ref[column] >= 0
                else:
                    assert ref[column] == -1 and pd.isna(row[column])  # no threshold: <NA>, never -1
    # the construction: theta = 3, 2 give gammas near 3.06 and 2.12, far above the bulk edge
    # sigma (1 + sqrt q) = 0.85, so both thresholds find exactly the two spikes
    trained = fits[(fits.state == "trained") & (fits.layer == "fc1")].set_index("method")
    assert trained.loc[list(THRESHOLD_METHODS), "s_hat"].tolist() == [2, 2]
    # sigma-hat of a 300 x 150 Gaussian bulk: within 5 % of sigma (its spread is O(1/m) ~ 1 %)
    np.testing.assert_allclose(trained.sigma.to_numpy(dtype=float), SIGMA, rtol=0.05)
    assert str(fits.s_hat.dtype) == "Int64" and str(fits.s_hat_gd.dtype) == "Int64"


def test_modified_mp_and_skipped_layers_have_no_count(spectra):
    fits, _, _ = fit_tables(spectra, METHODS)
    mp = fits[fits.method == "modified_mp"]
    assert mp.s_hat.isna().all() and mp.s_hat_gd.isna().all() and mp.gamma_plus.isna().all()
    head = fits[fits.layer == "head"]
    assert head.method.tolist() == list(METHODS)  # a row per method, never silence
    assert (head.status == "skipped").all() and head.reason.str.startswith("m=8 <= min_dim=10").all()
    assert head.s_hat.isna().all() and head.s_hat_gd.isna().all() and head.sigma.isna().all()
    assert (head.n == 40).all() and (head.m == 8).all() and (head.min_nm == 8).all()


def test_spikes_table_rows_and_values(spectra):
    fits, spikes, _ = fit_tables(spectra, METHODS)
    assert tuple(spikes.columns) == SPIKE_COLUMNS
    assert "modified_mp" not in set(spikes.method)
    counted = fits[fits.s_hat.notna() & (fits.s_hat > 0)]
    sizes = spikes.groupby(["state", "layer", "method"]).size()
    assert sizes.to_dict() == {(r.state, r.layer, r.method): int(r.s_hat) for r in counted.itertuples()}
    for r in counted.itertuples():
        got = spikes[(spikes.state == r.state) & (spikes.layer == r.layer) & (spikes.method == r.method)]
        s = int(r.s_hat)
        gammas = np.sort(_sv(spectra, r.state, r.layer))[::-1] / np.sqrt(r.n)
        assert got["index"].tolist() == list(range(1, s + 1))
        np.testing.assert_allclose(got.gamma, gammas[:s], rtol=1e-12)
        # eq. (4) of paper 000 at the row's sigma-hat (the same closed forms: 1e-12 relative)
        np.testing.assert_allclose(got.theta_hat, bbp.theta_hat(gammas[:s], r.sigma, r.q), rtol=1e-12)
        np.testing.assert_allclose(got.phi_hat, bbp.phi_hat(gammas[:s], r.sigma, r.q), rtol=1e-12)
        np.testing.assert_allclose(got.gamma_plus, r.gamma_plus, rtol=1e-12)
        if r.state == "trained":  # theta-hat recovers the planted thetas (a few % at this size and sigma)
            np.testing.assert_allclose(got.theta_hat, THETAS, rtol=0.05)


@pytest.mark.parametrize("k_fraction, beta", [(0.2, 0.1), (0.1, 0.05)])
def test_curve_has_2k_rows_per_method_and_equals_ave_w_curve(spectra, k_fraction, beta):
    fits, _, curve = fit_tables(spectra, METHODS, k_fraction=k_fraction, beta=beta)
    assert tuple(curve.columns) == CURVE_COLUMNS
    k = bbp.curve_k(M, k_fraction)
    assert k == int(np.floor(k_fraction * M))  # 30 or 15
    assert set(curve.layer) == {"fc1"}  # only the trained layer with a fit; never the skipped head
    assert set(curve.method) == set(THRESHOLD_METHODS)
    assert set(curve.state) == {"trained", "initial"}  # every state has its curve (the controls' too)
    for state in ("trained", "initial"):
        gammas = np.sort(_sv(spectra, state, "fc1"))[::-1] / np.sqrt(N)
        for method in THRESHOLD_METHODS:
            got = curve[(curve.method == method) & (curve.state == state)].reset_index(drop=True)
            assert len(got) == 2 * k
            fit = fits[(fits.state == state) & (fits.layer == "fc1") & (fits.method == method)].iloc[0]
            ref = bbp.ave_w_curve(gammas, fit.sigma, fit.q, N, k, beta=beta)
            for column in ("s", "reading"):
                assert got[column].tolist() == ref[column].tolist()
            for column in ("gamma_plus", "sigma", "ave_w"):
                np.testing.assert_allclose(got[column], ref[column], rtol=1e-12, equal_nan=True, err_msg=column)


def test_curve_false_gives_an_empty_curve_and_the_same_fits(spectra):
    fits, spikes, curve = fit_tables(spectra, METHODS, curve=False)
    fits_c, spikes_c, _ = fit_tables(spectra, METHODS)
    assert curve.empty and tuple(curve.columns) == CURVE_COLUMNS
    pd.testing.assert_frame_equal(fits, fits_c)
    pd.testing.assert_frame_equal(spikes, spikes_c)
