"""Tests for rmtweights.rmt.wigner: closed forms of paper 003 (eqs. 1.4, 1.8, 1.9) and seeded
simulations of Theorems 2.1 and 2.2 of Afanasiev, Berlyand, Kiyashko (2025), the latter through the
sweeps of rmtweights.sweeps.wigner_outliers and outlier_error, the former through the test-only
helper wigner_helpers.outlier_measure.

Outlier fluctuation scale used in the tolerances below: for a GOE matrix (off-diagonal variance
sigma^2) and a supercritical spike theta, sqrt(N) (lambda - Phi(theta)) is asymptotically Gaussian with
variance 2 sigma^2 (1 - sigma^2/theta^2) (Capitaine, Donati-Martin, Feral, Ann. Probab. 37 (2009),
arXiv:0704.1736), i.e. sd <= sqrt(2/N) ~ 0.032 at N = 2000, 0.045 at N = 1000, 0.071 at N = 400.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.integrate
import scipy.stats

from rmtweights.rmt import wigner
from rmtweights.sweeps.outlier_error import error_summary, fit_error_rate
from rmtweights.sweeps.wigner_outliers import outlier_sweep, peche_check
from wigner_helpers import eigenvalues_above, outlier_measure

UNIFORM = {"kind": "uniform", "low": -2.0, "high": 2.0}


# ------------------------------------------------------------------------------------ closed forms
def test_outlier_map_delta0_is_theta_plus_sigma2_over_theta():
    theta = np.array([-4.0, -1.3, 0.8, 1.0, 2.5, 7.0])
    sigma = 0.7
    # eq. (1.8) of paper 003: Phi(theta) = theta + sigma^2/theta; exact arithmetic up to rounding
    np.testing.assert_allclose(wigner.outlier_map(theta, sigma), theta + sigma**2 / theta, rtol=1e-14)
    assert wigner.outlier_map(3.0) == pytest.approx(3.0 + 1.0 / 3.0, rel=1e-15)


def test_stieltjes_sign_convention_of_paper_003():
    # eq. (1.4): g(z) = int dnu(t)/(t - z) < 0 to the right of the support, > 0 to its left
    assert wigner.stieltjes(2.0) == pytest.approx(-0.5, rel=1e-15)
    assert wigner.stieltjes(-2.0) == pytest.approx(0.5, rel=1e-15)
    assert wigner.stieltjes(3.0, UNIFORM) < 0 < wigner.stieltjes(-3.0, UNIFORM)


def test_outlier_map_discrete_bulk_matches_direct_stieltjes():
    atoms = np.random.default_rng(3).uniform(-1.0, 0.5, size=37)
    z = np.array([-3.0, -1.2, 0.7, 2.0, 9.0])
    sigma = 1.3
    direct = np.array([zz - sigma**2 * np.mean(1.0 / (atoms - zz)) for zz in z])  # eq. (1.9), (1.4)
    # same sum evaluated in another order: agreement to rounding (1e-13 relative)
    np.testing.assert_allclose(wigner.outlier_map(z, sigma, atoms), direct, rtol=1e-13)
    np.testing.assert_allclose(
        wigner.outlier_map(z, sigma, {"kind": "discrete", "values": atoms}), direct, rtol=1e-13
    )


@pytest.mark.parametrize("z", [-5.0, -2.01, 0.6, 2.0001, 4.0])
def test_uniform_stieltjes_closed_form_matches_quadrature(z):
    low, high = -0.5, 0.5
    bulk = {"kind": "uniform", "low": low, "high": high}
    opts = {"epsabs": 0, "epsrel": 1e-12}
    g_quad, _ = scipy.integrate.quad(lambda t: 1.0 / ((high - low) * (t - z)), low, high, **opts)
    dg_quad, _ = scipy.integrate.quad(lambda t: 1.0 / ((high - low) * (t - z) ** 2), low, high, **opts)
    # smooth integrands away from the support: adaptive quadrature is good to ~1e-12 relative
    assert wigner.stieltjes(z, bulk) == pytest.approx(g_quad, rel=1e-9)
    assert wigner.stieltjes_derivative(z, bulk) == pytest.approx(dg_quad, rel=1e-9)
    assert wigner.outlier_map(z, 0.9, bulk) == pytest.approx(z - 0.81 * g_quad, rel=1e-9)


def test_critical_points_and_bulk_edges():
    # delta_0: Peche's transition at sigma, semicircle edge 2 sigma (eqs. (1.7), (1.8))
    assert wigner.critical_spikes(1.5) == (-1.5, 1.5)
    assert wigner.bulk_edges(1.5) == pytest.approx((-3.0, 3.0), rel=1e-15)
    for bulk in (UNIFORM, np.array([-1.0, -0.2, 0.0, 0.4, 1.1])):
        left, right = wigner.critical_spikes(0.8, bulk)
        for x in (left, right):
            # Phi'(x*) = 1 - sigma^2 g'(x*) = 0 (eq. (4.26)); closed form / brentq at 1e-14
            assert 0.64 * wigner.stieltjes_derivative(x, bulk) == pytest.approx(1.0, rel=1e-10)
            h = 1e-4  # Phi has a minimum at x*: central difference of Phi vanishes to O(h^2)
            assert abs(wigner.outlier_map(x + h, 0.8, bulk) - wigner.outlier_map(x - h, 0.8, bulk)) < 1e-7
        lo_edge, hi_edge = wigner.bulk_edges(0.8, bulk)
        assert hi_edge == pytest.approx(wigner.outlier_map(right, 0.8, bulk), rel=1e-15)
        assert lo_edge < left and hi_edge > right
    # a very narrow uniform bulk tends to delta_0: edge -> 2 sigma
    narrow = {"kind": "uniform", "low": -1e-6, "high": 1e-6}
    assert wigner.bulk_edges(1.0, narrow)[1] == pytest.approx(2.0, abs=1e-5)


@pytest.mark.parametrize("bulk", [None, UNIFORM, [-1.0, 0.0, 0.3]])
def test_outlier_map_inverse_is_omega(bulk):
    sigma = 1.1
    left_edge, right_edge = wigner.bulk_edges(sigma, bulk)
    x = np.array([left_edge - 2.0, left_edge - 0.01, right_edge + 0.01, right_edge + 3.0])
    omega = wigner.outlier_map_inverse(x, sigma, bulk)
    # Lemma 4.1 of paper 003: Phi(omega(x)) = x; brentq at xtol 1e-13
    np.testing.assert_allclose(wigner.outlier_map(omega, sigma, bulk), x, rtol=1e-10)
    x_left, x_right = wigner.critical_spikes(sigma, bulk)
    assert np.all(omega[:2] < x_left) and np.all(omega[2:] > x_right)
    assert wigner.outlier_map_inverse(np.inf, sigma, bulk) == np.inf


def test_peche_limit_closed_form():
    theta = np.array([-2.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(wigner.peche_limit(theta, 1.0), [2.0, 2.0, 2.0, 2.0, 3.0 + 1.0 / 3.0])
    # continuous phase transition at theta = sigma (eq. (1.8))
    assert wigner.peche_limit(2.0 * (1 + 1e-9), 2.0) == pytest.approx(4.0, rel=1e-8)


def test_predicted_outliers_stick_below_the_transition():
    spikes = np.array([4.0, 2.0, 0.5, -0.5, -3.0])
    pred = wigner.predicted_outliers(spikes, 1.0)
    np.testing.assert_allclose(pred, [4.25, 2.5, 2.0, -2.0, -3.0 - 1.0 / 3.0], rtol=1e-15)


# ---------------------------------------------------------------------------------------- matrices
def test_goe_variances_and_semicircle():
    sigma, N = 1.5, 400
    r = wigner.goe(N, sigma, np.random.default_rng(11))
    np.testing.assert_array_equal(r, r.T)
    off = r[np.triu_indices(N, 1)]
    # 79 800 off-diagonal entries: SE of the variance estimate is sigma^2 sqrt(2/79800) = 0.5 %; 3 %
    assert off.var() == pytest.approx(sigma**2, rel=0.03)
    # 400 diagonal entries, variance 2 sigma^2 (GOE), SE 7 %: accept +-25 % (3.5 SE)
    assert np.diag(r).var() == pytest.approx(2 * sigma**2, rel=0.25)
    eig = np.linalg.eigvalsh(r / np.sqrt(N))
    # semicircle on [-2 sigma, 2 sigma] (eq. (1.7)); eigenvalue rigidity keeps the KS distance
    # O(log N / N) ~ 0.015 at N = 400, far below the i.i.d. critical value; 0.03 allows 2x
    ks = scipy.stats.kstest(eig, scipy.stats.semicircular(scale=2 * sigma).cdf).statistic
    assert ks < 0.03


def test_deformation_spectrum_and_bases():
    spikes = np.array([5.0, 4.0, 3.5])
    bulk = {"kind": "uniform", "low": -0.5, "high": 0.5}
    expected = np.sort(np.concatenate([spikes, -0.5 + (np.arange(47) + 0.5) / 47]))
    s_diag = wigner.deformation(50, spikes, bulk)
    s_haar = wigner.deformation(50, spikes, bulk, np.random.default_rng(2), basis="haar")
    np.testing.assert_array_equal(np.diag(np.diag(s_diag)), s_diag)
    np.testing.assert_array_equal(s_haar, s_haar.T)
    np.testing.assert_allclose(np.sort(np.diag(s_diag)), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(s_haar), expected, rtol=0, atol=1e-12)
    assert np.abs(s_haar - np.diag(np.diag(s_haar))).max() > 0.01  # really rotated
    u = wigner.haar_orthogonal(30, 4)
    np.testing.assert_allclose(u.T @ u, np.eye(30), atol=1e-13)
    # discrete bulk: equal-weight quantiles of the atoms; delta_0: zeros
    np.testing.assert_array_equal(wigner.bulk_eigenvalues(4, [1.0, -1.0]), [1.0, 1.0, -1.0, -1.0])
    np.testing.assert_array_equal(wigner.bulk_eigenvalues(3), np.zeros(3))


def test_spike_count_and_positions():
    assert wigner.spike_count(1000, "constant", 10) == 10
    assert wigner.spike_count(400, "sqrt", 3.0) == 60
    assert wigner.spike_count(1000, "n_over_log", 0.5) == round(500 / np.log(1000))
    assert wigner.spike_count(10, "n_over_log", 100) == 9  # clipped to N - 1
    pos = wigner.spike_positions(5, (3.0, 5.0))
    np.testing.assert_allclose(pos, [5.0, 4.5, 4.0, 3.5, 3.0])
    drawn = wigner.spike_positions(20, (3.0, 5.0), "uniform", 7)
    np.testing.assert_array_equal(drawn, wigner.spike_positions(20, (3.0, 5.0), "uniform", 7))
    assert np.all(np.diff(drawn) <= 0) and drawn.min() >= 3.0 and drawn.max() <= 5.0


def test_solvers_agree():
    w = wigner.deformed_wigner(200, [4.0, 3.0, 3.1], 1.0, UNIFORM, 5)
    # both are exact up to rounding: Lanczos runs to machine tolerance
    np.testing.assert_allclose(
        wigner.top_eigenvalues(w, 4, "lanczos"), wigner.top_eigenvalues(w, 4, "eigh"), atol=1e-10
    )
    np.testing.assert_allclose(
        eigenvalues_above(w, 2.5, 1, "lanczos"), eigenvalues_above(w, 2.5, 1, "eigh"), atol=1e-10
    )


# ------------------------------------------------------------------------------------- simulations
@pytest.fixture(scope="module")
def sweep() -> pd.DataFrame:
    # 10 spikes equally spaced in [3, 5], sigma = 1, nu_0 = delta_0 (Theorem 2.2 of paper 003)
    kwargs = {"sigma": 1.0, "interval": (3.0, 5.0), "growth": "constant", "c": 10}
    return pd.concat(
        [outlier_sweep([400, 3000], [0, 1], **kwargs), outlier_sweep([2000], [0], **kwargs)],
        ignore_index=True,
    )


def test_outlier_sweep_columns(sweep):
    assert list(sweep.columns) == [
        "N", "seed", "r", "j", "lambda_S", "predicted", "supercritical", "lambda_W", "abs_error",
        "sigma", "growth", "c", "bulk",
    ]
    assert len(sweep) == 5 * 10 and sweep["supercritical"].all()
    np.testing.assert_allclose(sweep["predicted"], sweep["lambda_S"] + 1.0 / sweep["lambda_S"], rtol=1e-14)


def test_outliers_follow_phi_at_n2000(sweep):
    at = sweep[sweep["N"] == 2000]
    # E|error| ~ 0.8 sd <= 0.8 * 0.032 = 0.025 per outlier (module docstring); the mean of 10 values
    # has SE ~0.006, so 0.05 is twice the expected value and 4 SE away
    assert at["abs_error"].mean() < 0.05


def test_outlier_error_shrinks_with_n(sweep):
    summary = error_summary(sweep)
    assert list(summary.columns) == ["N", "seed", "r", "max_error", "mean_error"]
    by_n = summary.groupby("N")["mean_error"].mean()
    # expected ratio sqrt(3000/400) = 2.7 between the two seed-averaged errors
    assert by_n[3000] < by_n[400]
    rate, intercept = fit_error_rate(summary)
    # O(N^-1/2) fluctuations: rate -0.5; 5 (N, seed) rows over 3 sizes leave about +-0.2 of scatter
    assert -0.9 < rate < -0.2 and np.isfinite(intercept)


def test_outliers_follow_phi_for_uniform_bulk():
    # nu_0 = U[-2, 2]: Phi differs from the delta_0 map by ~0.05 on [3, 3.5] (eq. (1.9))
    frame = outlier_sweep([1500], [0, 1, 2], bulk=UNIFORM, interval=(3.0, 3.5), c=5)
    signed = (frame["lambda_W"] - frame["predicted"]).mean()
    naive = (frame["lambda_W"] - wigner.outlier_map(frame["lambda_S"].to_numpy())).mean()
    # mean of 15 outliers, sd ~0.035 each (spike near x* = 2.24 shrinks it further): SE ~0.01
    assert abs(signed) < 0.02
    assert naive > 0.03  # the delta_0 map misses systematically
    w = wigner.deformed_wigner(1500, wigner.spike_positions(5, (3.0, 3.5)), 1.0, UNIFORM, 9)
    # the (r+1)-th eigenvalue sits at the bulk edge Phi(x*) = 2.958; N^(-2/3) fluctuations ~0.008
    assert wigner.top_eigenvalues(w, 6)[5] == pytest.approx(wigner.bulk_edges(1.0, UNIFORM)[1], abs=0.05)


def test_peche_transition():
    frame = peche_check([1000], [3.0, 0.5], 1.0, seeds=range(6))
    assert list(frame.columns) == [
        "N", "seed", "theta", "sigma", "supercritical", "lambda_1", "limit", "abs_error",
    ]
    above = frame[frame["theta"] == 3.0]
    # sd of one draw sqrt(2 (8/9) / 1000) = 0.042; mean of 6 seeds has SE 0.017: 0.05 is 3 SE
    assert abs(above["lambda_1"].mean() - (3.0 + 1.0 / 3.0)) < 0.05
    below = frame[frame["theta"] == 0.5]
    # sticks to 2 sigma (not Phi(0.5) = 2.5): TW fluctuations of scale N^(-2/3) = 0.01; 0.1 = 10 scales
    assert (below["abs_error"] < 0.1).all() and (below["limit"] == 2.0).all()


def test_outlier_measure_theorem_2_1():
    # r = round(sqrt(1200)) = 35 spikes in [3, 5] (growing rank, Assumption 2), 4 bins
    frame = outlier_measure([1200], [0], growth="sqrt", c=1.0, n_bins=4)
    r = int(frame["r"].iloc[0])
    assert r == 35
    # every outlier lands in some bin and no bulk eigenvalue does
    assert frame["count_W"].sum() == r and frame["count_S"].sum() == r
    # only outliers within ~2 sd (0.08 at N = 1200) of the 3 interior bin edges (bins 0.47 wide,
    # outliers ~0.055 apart) can switch bins: one or two per edge; 3/r allows three per bin
    # (seeds 0-5 gave at most 2)
    assert frame["abs_diff"].max() <= 3.0 / r
    np.testing.assert_allclose(wigner.outlier_map(frame["omega_lo"].to_numpy()), frame["lo"], rtol=1e-12)


# ------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call",
    [
        lambda: wigner.stieltjes(0.0),
        lambda: wigner.stieltjes(0.1, UNIFORM),
        lambda: wigner.outlier_map(3.0, -1.0),
        lambda: wigner.outlier_map(3.0, 1.0, {"kind": "gamma"}),
        lambda: wigner.outlier_map(3.0, 1.0, {"kind": "uniform", "low": 1.0, "high": 0.0}),
        lambda: wigner.outlier_map_inverse(1.5),
        lambda: wigner.spike_count(100, "linear", 1.0),
        lambda: wigner.goe(0, 1.0, 0),
        lambda: wigner.goe(10, 1.0, "seed"),
        lambda: wigner.deformation(3, [1.0, 2.0, 3.0]),
        lambda: wigner.deformation(5, [1.0], basis="haar"),
        lambda: outlier_sweep([100], [0], solver="arpack"),
        lambda: outlier_measure([100], [0], interval=(0.5, 3.0)),
    ],
)
def test_invalid_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
