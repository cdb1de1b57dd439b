"""Tests of rmtweights.rmt.heavytail: CSN power-law fit, bootstrap, LR verdict, Hill estimator.

Reference values come from closed forms (the continuous power-law MLE, eq. (3.1) of Clauset,
Shalizi, Newman 2009), from the ``powerlaw`` 2.0.0 package itself (same x_min search and KS
distance) and from seeded simulations with known tail exponents.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from rmtweights.analyze import analyze_spectrum
from rmtweights.rmt.heavytail import (
    ALTERNATIVES,
    VERDICTS,
    fit_heavy_tail,
    hill_estimator,
    ks_scan,
    power_law_mle,
)


def _pareto(alpha: float, n: int, seed: int, x_min: float = 1.0) -> np.ndarray:
    """Continuous power law p(x) ~ x^-alpha on [x_min, inf) by inverse CDF (eq. (D.4) of CSN)."""
    u = np.random.default_rng(seed).random(n)
    return x_min * (1.0 - u) ** (-1.0 / (alpha - 1.0))


def _singular_values(a: np.ndarray) -> np.ndarray:
    """Singular values via the m x m Gram matrix (cheaper than an SVD; the top of the spectrum,
    which is all a tail fit uses, is computed to full relative precision this way)."""
    w = a if a.shape[0] >= a.shape[1] else a.T
    return np.sqrt(np.clip(np.linalg.eigvalsh(w.T @ w), 0.0, None))


def _powerlaw_fit(x: np.ndarray, **kwargs):
    import powerlaw

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return powerlaw.Fit(x, discrete=False, verbose=0, parameter_ranges={"alpha": [1.0, None]}, **kwargs)


# --------------------------------------------------------------------------------------------------
# closed forms and agreement with powerlaw


def test_power_law_mle_and_ks_match_powerlaw_at_fixed_xmin():
    x = np.sort(_pareto(2.5, 500, seed=1))
    x_min = x[100]
    fit = _powerlaw_fit(x, xmin=x_min)
    # powerlaw uses the same closed form (its alpha lies in (1.5, 3], so no numerical refit):
    # agreement to rounding.
    assert power_law_mle(x, x_min) == pytest.approx(fit.power_law.alpha, rel=1e-12)
    alphas, distances = ks_scan(x, np.array([100]))
    assert alphas[0] == pytest.approx(fit.power_law.alpha, rel=1e-12)
    assert distances[0] == pytest.approx(fit.power_law.D, rel=1e-10)


def test_exact_xmin_search_matches_powerlaw_full_scan():
    # Log-normal body, power-law tail; 300 values so powerlaw's O(n^2) scan stays fast. With every
    # candidate (max_xmin_candidates=None) and min_tail=2 our candidate set is powerlaw's (all
    # distinct values but the largest), so the KS-minimising x_min must be the same value.
    rng = np.random.default_rng(7)
    body = rng.lognormal(0.0, 0.3, 200)
    x = np.concatenate([body, _pareto(2.5, 100, seed=8, x_min=2.0)])
    row = fit_heavy_tail(x, n_bootstrap=0, max_xmin_candidates=None, min_tail=2, compare=False)
    fit = _powerlaw_fit(x)
    assert row["x_min"] == fit.xmin
    assert row["alpha_sv"] == pytest.approx(fit.power_law.alpha, rel=1e-4)  # numeric refit if > 3


def test_alpha_eig_relation_is_exact():
    # alpha_sv = 2 alpha_eig - 1: fitting the squares directly gives the same tail and exponent.
    sv = _pareto(3.0, 800, seed=3)
    row_sv = fit_heavy_tail(sv, n_bootstrap=0, compare=False)
    row_eig = fit_heavy_tail(sv**2, n_bootstrap=0, compare=False)
    assert row_sv["alpha_eig"] == pytest.approx((row_sv["alpha_sv"] + 1) / 2, rel=1e-15)
    assert row_eig["n_tail"] == row_sv["n_tail"]
    assert row_eig["alpha_sv"] == pytest.approx(row_sv["alpha_eig"], rel=1e-10)


# --------------------------------------------------------------------------------------------------
# seeded simulations


@pytest.mark.parametrize("alpha", [2.5, 3.5])
def test_pareto_recovered_and_heavy_tailed(alpha):
    # n = 2000 from a pure power law: the MLE's standard error (alpha-1)/sqrt(n) is 3.4 % (2.5) and
    # 2.0 % (3.5) of alpha, so 10 % is >= 3 standard errors. Verdict heavy_tailed in 8/8 seeds while
    # developing (exponential rejected with R ~ 5, p < 1e-6).
    row = fit_heavy_tail(_pareto(alpha, 2000, seed=11), n_bootstrap=50, seed=0)
    assert row["status"] == "ok" and row["reason"] == ""
    assert row["alpha_sv"] == pytest.approx(alpha, rel=0.10)
    assert row["verdict"] == "heavy_tailed"
    assert row["gof_p"] >= 0.1
    assert row["n_tail"] >= 10 and row["n_bootstrap"] == 50
    assert row["lr_exponential"] > 0 and row["lr_p_exponential"] < 0.1


def test_gaussian_matrix_is_not_heavy_tailed():
    # MP bulk with a sharp edge: the top values fit a steep "power law" (alpha ~ 10-30) that the
    # bootstrap rejects and the exponential beats (not_heavy_tailed in 8/8 seeds while developing).
    sv = _singular_values(np.random.default_rng(5).standard_normal((400, 800)))
    row = fit_heavy_tail(sv, n_bootstrap=50, seed=0)
    assert row["status"] == "ok"
    assert row["verdict"] != "heavy_tailed"


def test_student_t_matrix_is_heavy_tailed():
    # Entries with P(|X| > x) ~ x^-mu, mu = 1.5 (Martin & Mahoney's "very heavy-tailed" class): the
    # top singular values are set by single large entries and the spectrum has a power-law tail with
    # alpha_sv = 1 + mu = 2.5 in the limit (eigenvalues 1 + mu/2). Finite size biases the fit up
    # (2.5-3.0 over 8 seeds), hence the loose band. The verdict was heavy_tailed in 7/8 seeds.
    # mu = 3 (t(3)) at 500 x 1000 gives "inconclusive": its largest entries (~ (nm)^(1/3) ~ 80) do
    # not yet clear the MP edge (~ sqrt(3)(sqrt n + sqrt m) ~ 94), so no power-law tail is visible.
    sv = _singular_values(np.random.default_rng(101).standard_t(1.5, size=(500, 1000)))
    row = fit_heavy_tail(sv, n_bootstrap=50, seed=0)
    assert row["verdict"] == "heavy_tailed"
    assert 2.0 < row["alpha_sv"] < 3.5


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_exponential_sample_is_not_heavy_tailed(seed):
    # An exponential tail spans too little range for the LR test to separate it from a steep power
    # law at x_min far out (CSN Sec. 5), so "inconclusive" is the honest answer there; the verdict
    # must never be heavy_tailed (seeds 4-9 while developing: 5 inconclusive, 1 not_heavy_tailed).
    x = 1.0 + np.random.default_rng(seed).exponential(1.0, 2000)
    row = fit_heavy_tail(x, n_bootstrap=50, seed=0)
    assert row["verdict"] in ("not_heavy_tailed", "inconclusive")


# --------------------------------------------------------------------------------------------------
# reproducibility, precision, small inputs


def test_same_seed_gives_identical_row():
    x = _pareto(2.5, 1000, seed=2)
    a = fit_heavy_tail(x, n_bootstrap=20, seed=3)
    b = fit_heavy_tail(x, n_bootstrap=20, seed=3)
    assert a == b  # no NaN in an ok row with compare=True, so == is exact equality


def test_float32_and_float64_inputs_give_the_same_row():
    # Numbers exactly representable in float32: the float32 array and its float64 copy must give
    # the identical row (everything is cast to float64 first).
    x32 = _pareto(2.5, 1000, seed=6).astype(np.float32)
    row32 = fit_heavy_tail(x32, n_bootstrap=20, seed=1)
    row64 = fit_heavy_tail(x32.astype(np.float64), n_bootstrap=20, seed=1)
    assert row32 == row64
    # Rounding float64 data to float32 moves values by <= 6e-8 relative; the fit moves by as little.
    x64 = _pareto(2.5, 1000, seed=6)
    row = fit_heavy_tail(x64, n_bootstrap=20, seed=1)
    assert row["n_tail"] == row32["n_tail"] and row["verdict"] == row32["verdict"]
    assert row["alpha_sv"] == pytest.approx(row32["alpha_sv"], rel=1e-5)


def test_scale_invariance_and_gammas_object():
    # alpha and p-values do not depend on the normalisation sv -> sv / sqrt(n); x_min scales.
    rng = np.random.default_rng(9)
    w = rng.standard_t(1.5, size=(300, 200))
    sv = np.linalg.svd(w, compute_uv=False)
    analysis = analyze_spectrum(sv, 300, 200)
    row_sv = fit_heavy_tail(sv, n_bootstrap=10)
    row_g = fit_heavy_tail(analysis, n_bootstrap=10)  # uses analysis.gammas = sv / sqrt(300)
    assert row_g["alpha_sv"] == pytest.approx(row_sv["alpha_sv"], rel=1e-12)
    assert row_g["x_min"] == pytest.approx(row_sv["x_min"] / math.sqrt(300), rel=1e-12)
    assert row_g["n_tail"] == row_sv["n_tail"] and row_g["gof_p"] == row_sv["gof_p"]


def test_small_spectrum_gives_reasoned_skipped_row():
    row = fit_heavy_tail(np.array([3.0, 2.0, 1.0, 0.5, 0.0]), min_tail=10)
    assert row["status"] == "skipped"
    assert "fewer than min_tail=10" in row["reason"]
    assert row["n_values"] == 4 and row["n_dropped"] == 1
    assert row["verdict"] == "inconclusive" and math.isnan(row["alpha_sv"])
    tied = fit_heavy_tail(np.ones(50))
    assert tied["status"] == "skipped" and "distinct" in tied["reason"]
    nan_row = fit_heavy_tail(np.array([1.0, np.nan] * 20))
    assert nan_row["status"] == "skipped" and "non-finite" in nan_row["reason"]
    assert set(row) == set(fit_heavy_tail(_pareto(2.5, 100, 0), n_bootstrap=0, compare=False))


def test_row_columns_and_no_bootstrap():
    row = fit_heavy_tail(_pareto(2.5, 300, seed=4), n_bootstrap=0)
    for alt in ALTERNATIVES:
        assert f"lr_{alt}" in row and f"lr_p_{alt}" in row
    assert math.isnan(row["gof_p"]) and row["n_bootstrap"] == 0
    assert row["verdict"] in VERDICTS and row["verdict"] != "heavy_tailed"  # never without a gof p


@pytest.mark.parametrize(
    "kwargs",
    [{"n_bootstrap": -1}, {"seed": 1.5}, {"min_tail": 1}, {"max_xmin_candidates": 1}, {"gof_level": 1.0}],
)
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        fit_heavy_tail(_pareto(2.5, 100, 0), **kwargs)


def test_negative_values_raise():
    with pytest.raises(ValueError, match="singular values must be >= 0"):
        fit_heavy_tail(np.array([-1.0, 2.0, 3.0]))


# --------------------------------------------------------------------------------------------------
# Hill


def test_hill_on_pareto():
    # k = 1000 of n = 2000 upper order statistics of an exact power law: the estimator is unbiased
    # here with standard error (alpha-1)/sqrt(k) = 2.4 % of alpha = 3.5, so 10 % is ~4 se.
    x = _pareto(3.5, 2000, seed=12)
    assert hill_estimator(x, k=1000) == pytest.approx(3.5, rel=0.10)
    assert hill_estimator(x) == hill_estimator(x, k=math.isqrt(2000))  # default k = floor(sqrt n)


def test_hill_equals_mle_of_the_top_k():
    # Hill with k is the CSN MLE with x_min = x_(k+1), the threshold point left out.
    x = np.sort(_pareto(2.5, 200, seed=13))[::-1]
    k = 50
    expected = 1.0 + k / np.sum(np.log(x[:k] / x[k]))
    assert hill_estimator(x, k) == pytest.approx(expected, rel=1e-14)
    with pytest.raises(ValueError, match="k must be smaller"):
        hill_estimator(x, k=200)
