"""analyze_matrix / analyze_spectrum: orientation, normalisation, options and unanalysable input."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import torch

import rmtweights
from rmtweights.analyze import FRAME_COLUMNS, MatrixAnalysis, analyze_spectrum, estimate_sigma
from rmtweights.api import analyze_matrix
from rmtweights.rmt.bbp import ave_w, phi_hat, theta_hat
from rmtweights.rmt.estimators import InsufficientDataError, bema_sigma, gb_sigma, modified_mp_fit
from rmtweights.rmt.threshold import gavish_donoho_threshold, mp_threshold


def _spiked(n=300, m=150, sigma=0.5, thetas=(3.0, 2.0, 1.5), seed=0):
    """W (n x m) = sqrt(n) * sum theta_i u_i v_i^T + sigma * Z: spikes in gamma units."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((n, len(thetas))))[0]
    v = np.linalg.qr(rng.standard_normal((m, len(thetas))))[0]
    return math.sqrt(n) * (u * thetas) @ v.T + sigma * rng.standard_normal((n, m))


@pytest.fixture(scope="module")
def spiked():
    return _spiked()


def test_matrix_equals_spectrum_of_its_singular_values(spiked):
    res = analyze_matrix(spiked)
    ref = analyze_spectrum(scipy.linalg.svdvals(spiked), 300, 150)
    assert res.status == ref.status == "ok" and res.reason == ""
    np.testing.assert_allclose(res.gammas, ref.gammas, rtol=1e-12)
    assert (res.n, res.m, res.q) == (300, 150, 0.5)
    assert res.sigma == pytest.approx(ref.sigma, rel=1e-12)


def test_normalisation_orientation_and_derived_values(spiked):
    res = analyze_matrix(spiked.T)  # 150 x 300 is transposed to 300 x 150
    assert (res.n, res.m) == (300, 150)
    sv = np.sort(scipy.linalg.svdvals(spiked))[::-1]
    np.testing.assert_allclose(res.gammas, sv / math.sqrt(300), rtol=1e-12)  # gamma = sv / sqrt(n)
    assert np.all(np.diff(res.gammas) <= 0)
    assert res.sigma == pytest.approx(0.5, rel=0.05)  # BEMA at m = 150 with 3 spikes: a few %
    assert res.gamma_plus == pytest.approx(mp_threshold(res.sigma, 0.5, 300), rel=1e-14)
    assert res.s_hat == 3  # theta = 3, 2, 1.5 vs transition 0.5 * 0.5^(1/4) = 0.42
    np.testing.assert_allclose(res.theta_hat[:3], [3.0, 2.0, 1.5], rtol=0.05)
    np.testing.assert_allclose(res.phi_hat, phi_hat(res.gammas, res.sigma, res.q))
    np.testing.assert_allclose(res.theta_hat, theta_hat(res.gammas, res.sigma, res.q))
    assert res.ave_w == pytest.approx(ave_w(res.phi_hat, res.gammas, res.gamma_plus))
    assert 0 < res.ave_w <= 1


def test_float32_and_torch_input(spiked):
    ref = analyze_matrix(spiked)
    w32 = spiked.astype(np.float32)
    for w in (w32, torch.from_numpy(w32).requires_grad_(True)):
        res = analyze_matrix(w)
        # float32 rounding of the entries (relative 6e-8) moves singular values by ~1e-7 relative
        np.testing.assert_allclose(res.gammas, ref.gammas, rtol=1e-5)
        assert res.s_hat == ref.s_hat


@pytest.mark.parametrize("method", ["bema", "gb", "modified_mp"])
def test_methods_and_to_frame(spiked, method):
    res = analyze_matrix(spiked, method)
    assert res.status == "ok" and res.method == method
    frame = res.to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == 150 and frame["index"].dtype == pd.Int64Dtype()
    assert frame["index"].tolist() == list(range(150))  # 0 = largest, as in layers.spectra_frame
    assert (frame.s_hat == res.s_hat).all() and (frame.method == method).all()
    summary = res.summary()
    assert summary["status"] == "ok" and summary["gamma_max"] == res.gammas[0]
    assert {"alpha", "beta", "a", "threshold"} <= summary.keys()
    if method == "modified_mp":
        assert 0 < res.params["fraction_mp"] <= 1


def test_estimate_sigma_dispatches_to_the_registry_functions(spiked):
    """The one dispatch by name calls the function the registry names, with the options it takes."""
    g = np.sort(scipy.linalg.svdvals(spiked))[::-1] / math.sqrt(300)
    assert estimate_sigma(g, 0.5, "bema", alpha=0.25) == (bema_sigma(g, 0.5, alpha=0.25), {})
    assert estimate_sigma(g, 0.5, "gb", a=10) == (gb_sigma(g, 0.5, a=10), {})
    fit = modified_mp_fit(g, 0.5)
    sigma, records = estimate_sigma(g, 0.5, "modified_mp")
    assert sigma == fit.sigma and records == {"fraction_mp": fit.fraction_mp, "nu_max": fit.nu_max}
    res = analyze_spectrum(scipy.linalg.svdvals(spiked), 300, 150, "modified_mp")
    assert res.params["nu_max"] == fit.nu_max and res.params["fraction_mp"] == fit.fraction_mp
    with pytest.raises(InsufficientDataError, match="all 40 singular values equal"):
        estimate_sigma(np.full(40, 0.3), 0.5, "gb")
    with pytest.raises(ValueError, match="method must be one of .*'median'"):
        estimate_sigma(g, 0.5, "median")
    with pytest.raises(ValueError, match="'mp_fit' is now called 'modified_mp'"):
        estimate_sigma(g, 0.5, "mp_fit")
    with pytest.raises(ValueError, match="alpha=0.6"):
        estimate_sigma(g, 0.5, "bema", alpha=0.6)


def test_gavish_donoho_threshold_option(spiked):
    res = analyze_matrix(spiked, threshold="gd")
    assert res.gamma_plus == pytest.approx(gavish_donoho_threshold(res.sigma, res.q), rel=1e-14)
    assert res.params["threshold"] == "gd" and res.s_hat == 3


def test_reexport():
    assert rmtweights.analyze_matrix is analyze_matrix
    assert rmtweights.MatrixAnalysis is MatrixAnalysis


@pytest.mark.parametrize("bad, match", [
    (np.full((20, 10), np.nan), "NaN/Inf"),
    (np.where(np.eye(20, 10) > 0, np.inf, 1.0), "NaN/Inf"),
    (np.zeros((0, 5)), "empty"),
    (np.ones(5), "2-d"),
    (np.ones((4, 4)) * 1j, "real"),
])
def test_bad_matrix_raises_value_error(bad, match):
    with pytest.raises(ValueError, match=match):
        analyze_matrix(bad)


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "svd"}, "method"), ({"threshold": "median"}, "threshold"),
    ({"alpha": 0.7}, "alpha"), ({"beta": 0.0}, "beta"), ({"a": 0}, "a must"),
])
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        analyze_matrix(np.eye(6), **kwargs)


def test_bad_spectrum_raises():
    with pytest.raises(ValueError, match="empty"):
        analyze_spectrum([], 10, 5)
    with pytest.raises(ValueError, match="NaN"):
        analyze_spectrum([1.0, np.nan], 10, 5)
    with pytest.raises(ValueError, match=">= 0"):
        analyze_spectrum([1.0, -1.0], 10, 5)


def _rank_deficient():
    rng = np.random.default_rng(1)
    return np.hstack([rng.standard_normal((80, 20)), np.zeros((80, 20))])


@pytest.mark.parametrize("name, matrix, status, match", [
    ("1x1", np.ones((1, 1)), "skipped", "at least"),
    ("3x1000", np.random.default_rng(0).standard_normal((3, 1000)), "skipped", "at least"),
    ("zero", np.zeros((60, 30)), "skipped", "zero"),
    ("all-equal", np.full((60, 30), 0.3), "skipped", "rank-deficient"),
    ("rank-deficient", _rank_deficient(), "skipped", "rank-deficient"),
    ("orthogonal", np.eye(40, 20), "skipped", "degenerate"),
])
@pytest.mark.parametrize("method", ["bema", "gb", "modified_mp"])
def test_unanalysable_matrix_gives_reasoned_result(name, matrix, status, match, method):
    res = analyze_matrix(matrix, method)
    assert res.status == status and match in res.reason, (name, res.reason)
    assert math.isnan(res.sigma) and res.s_hat == -1 and math.isnan(res.ave_w)
    frame = res.to_frame()
    assert len(frame) == min(matrix.shape) and (frame.status == status).all()
    assert (frame.reason == res.reason).all()
    assert res.summary()["reason"] == res.reason


def test_result_without_singular_values_keeps_a_row():
    res = MatrixAnalysis(n=3, m=2, q=2 / 3, sigma=np.nan, gamma_plus=np.nan, s_hat=-1, ave_w=np.nan,
                         gammas=np.empty(0), theta_hat=np.empty(0), phi_hat=np.empty(0),
                         method="bema", params={}, status="failed", reason="SVD did not converge")
    frame = res.to_frame()
    assert len(frame) == 1 and frame["index"].isna().all() and frame.status.iloc[0] == "failed"


def test_pure_noise_matrix_has_no_spikes():
    # seeded: the top noise value exceeds the beta = 0.1 threshold with probability ~0.1
    w = 0.7 * np.random.default_rng(7).standard_normal((400, 200))
    res = analyze_matrix(w)
    assert res.status == "ok" and res.s_hat == 0 and math.isnan(res.ave_w)
    assert res.sigma == pytest.approx(0.7, rel=0.02)  # BEMA at m = 200: ~0.5 % error


@pytest.mark.parametrize("n,m", [(400, 200), (784, 400)])
def test_false_alarm_rate_on_pure_noise_stays_at_the_design_level(n, m):
    """eq. (3) of paper 000 puts the threshold at the (1 - beta) Tracy-Widom quantile: on pure noise at most
    a fraction beta of matrices should show a spike. With beta = 0.1 over 20 seeds, 2 are expected; a
    calibrated threshold exceeds 4 with probability P(Binomial(20, 0.1) >= 5) = 4.3 %, a threshold biased
    low by 1 % exceeds it almost surely (measured: 5 to 13 of 20 for the modified MP fit's edge)."""
    for method in ("bema", "gb", "modified_mp"):
        spikes = [analyze_matrix(0.05 * np.random.default_rng(seed).standard_normal((n, m)), method).s_hat
                  for seed in range(20)]
        assert sum(s > 0 for s in spikes) <= 4, (method, spikes)
        if method == "modified_mp":  # it fits the bulk's shape and gives no threshold at all
            assert spikes == [-1] * 20
