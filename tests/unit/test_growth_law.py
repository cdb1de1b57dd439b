"""The spike-count growth law r(N) = c N^kappa (paper 003, Assumption 2): the quasi-Poisson count model over
the sizes N (primary) and least squares on log counts (secondary)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.sweeps.growth_law import fit_growth_law, fit_growth_law_log_ls, growth_verdict

PAPER_GRID = np.arange(200, 3001, 200)  # paper 003 App. A


def _poisson_counts(sizes, seeds: int, kappa: float, c: float, lack_of_fit: float,
                    rng: np.random.Generator) -> pd.DataFrame:
    """Poisson counts with mean c N^kappa exp(u_N), u_N ~ N(0, lack_of_fit^2) shared by a size's seeds."""
    shift = dict(zip(sizes, rng.normal(0.0, lack_of_fit, len(sizes))))
    n = np.repeat(sizes, seeds)
    mean = c * n.astype(float) ** kappa * np.exp([shift[v] for v in n])
    return pd.DataFrame({"N": n, "seed": np.tile(np.arange(seeds), len(sizes)), "spikes": rng.poisson(mean)})


def test_recovers_kappa_and_c_of_large_counts():
    # counts ~ 100..400: Poisson noise of a few percent; 15 sizes x 10 seeds pin kappa to ~0.01
    frame = _poisson_counts(PAPER_GRID, 10, 0.5, 7.0, 0.0, np.random.default_rng(0))
    fit = fit_growth_law(frame)
    assert fit["kappa"] == pytest.approx(0.5, abs=0.03)
    assert fit["c"] == pytest.approx(7.0, rel=0.2)
    assert fit["kappa_ci_low"] < 0.5 < fit["kappa_ci_high"] and fit["kappa_ci_high"] - fit["kappa_ci_low"] < 0.1
    assert fit["grows"] and fit["sublinear"] and "sublinearly" in fit["verdict"]
    assert (fit["n_obs"], fit["n_sizes"], fit["n_seeds"], fit["df"]) == (150, 15, 10, 13)
    # Pearson X^2/df of Poisson data is chi2_13/13, inside [0.26, 2.6] with probability 0.998
    assert 0.26 < fit["dispersion"] < 2.6


@pytest.mark.parametrize("sizes, seeds, lack_of_fit", [
    (PAPER_GRID[:3], 2, 0.2),   # the default study's short grid
    (PAPER_GRID[:5], 3, 0.0),   # the replication's grid
    (PAPER_GRID, 10, 0.2),      # paper scale, power law missing each size's mean by ~20 %
])
def test_interval_covers_true_kappa(sizes, seeds, lack_of_fit):
    """Coverage of the 95 % interval in 400 simulated studies: within 0.95 +- 0.045 (4 binomial SDs of 0.011)."""
    rng = np.random.default_rng(42)
    hits = 0
    for _ in range(400):
        fit = fit_growth_law(_poisson_counts(sizes, seeds, 0.5, 0.3, lack_of_fit, rng))
        hits += fit["kappa_ci_low"] <= 0.5 <= fit["kappa_ci_high"]
    assert 0.905 <= hits / 400 <= 0.995


def test_rows_as_independent_replicates_undercover_under_lack_of_fit():
    """Why the sizes are the replicates: log-LS over (N, seed) rows covers the true kappa far less often
    than 95 % when the power law misses each size's mean (same simulation as above, paper scale)."""
    rng = np.random.default_rng(42)
    hits = 0
    for _ in range(400):
        fit = fit_growth_law_log_ls(_poisson_counts(PAPER_GRID, 10, 0.5, 0.3, 0.2, rng), zeros="add_half")
        hits += fit["kappa_ci_low"] <= 0.5 <= fit["kappa_ci_high"]
    assert hits / 400 < 0.8


def test_zero_counts_are_kept():
    frame = _poisson_counts(PAPER_GRID[:5], 3, 0.8, 0.005, 0.0, np.random.default_rng(3))
    assert (frame.spikes == 0).any()
    fit = fit_growth_law(frame)
    assert fit["n_zero"] == int((frame.spikes == 0).sum()) and fit["n_obs"] == 15
    assert np.isfinite(fit["kappa"]) and fit["kappa_ci_low"] < fit["kappa"] < fit["kappa_ci_high"]


@pytest.mark.parametrize("kappa, low, high, grows, sublinear, word", [
    (0.5, 0.2, 0.8, True, True, "sublinearly"),
    (0.9, 0.6, 1.2, True, False, "linear growth is not excluded"),
    (0.3, -0.2, 0.8, False, True, "no significant growth"),
])
def test_growth_verdict(kappa, low, high, grows, sublinear, word):
    g, s, verdict = growth_verdict(kappa, low, high)
    assert (g, s) == (grows, sublinear) and word in verdict and "95% CI" in verdict


@pytest.mark.parametrize("call, match", [
    (lambda: fit_growth_law(pd.DataFrame({"N": [100, 200], "spikes": [1, 2]})), "lacks columns"),
    (lambda: fit_growth_law(pd.DataFrame({"N": [100, 200] * 2, "seed": [0, 0, 1, 1], "spikes": [1, 2, 2, 3]})),
     "at least 3 distinct N"),
    (lambda: fit_growth_law(pd.DataFrame({"N": [100, 200, 300], "seed": 0, "spikes": [0, 0, 0]})), "no spike"),
    (lambda: fit_growth_law(pd.DataFrame({"N": [100, 200, 300], "seed": 0, "spikes": [1, -1, 2]})), "non-negative"),
    (lambda: fit_growth_law(pd.DataFrame({"N": [100, 200, 300], "seed": 0, "spikes": [1, 1, 2]}), level=1.5), "level"),
    (lambda: fit_growth_law_log_ls(pd.DataFrame({"N": [100, 200, 300], "seed": 0, "spikes": [1, 1, 2]}), zeros="ignore"),
     "zeros"),
    (lambda: fit_growth_law_log_ls(pd.DataFrame({"N": [100] * 4, "seed": range(4), "spikes": [1, 2, 3, 4]})), "distinct N"),
])
def test_invalid_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- the secondary log-LS estimate
def _counts(law, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = np.repeat(np.arange(200, 3001, 200), 5)  # the N grid of paper 003 App. A, 5 seeds
    spikes = np.round(law(n) * np.exp(rng.normal(0.0, 0.1, n.size)))  # 10 % multiplicative noise
    return pd.DataFrame({"N": n, "seed": np.tile(np.arange(5), 15), "spikes": spikes})


def test_log_ls_sqrt_is_sublinear_growth():
    fit = fit_growth_law_log_ls(_counts(lambda n: 3.0 * np.sqrt(n)))
    # 75 rows with 10 % noise on log r over a 15-fold range of N: SE(kappa) ~ 0.013
    assert fit["kappa_ci_low"] < 0.5 < fit["kappa_ci_high"]
    assert fit["grows"] and fit["sublinear"]
    assert fit["c"] == pytest.approx(3.0, rel=0.3)
    assert fit["n_obs"] == 75 and fit["n_zero"] == 0 and fit["n_sizes"] == 15 and fit["n_seeds"] == 5
    assert fit["kappa_pvalue"] < 1e-6 and fit["kappa_pvalue_linear"] < 1e-6
    assert "sublinearly" in fit["verdict"]


def test_log_ls_linear_is_not_sublinear():
    fit = fit_growth_law_log_ls(_counts(lambda n: 0.1 * n))
    assert fit["kappa_ci_low"] < 1.0 < fit["kappa_ci_high"]
    assert fit["grows"] and not fit["sublinear"]


def test_log_ls_zero_handling():
    frame = _counts(lambda n: 2.0 + 0.0 * n)
    frame.loc[frame.index[:7], "spikes"] = 0
    dropped = fit_growth_law_log_ls(frame, zeros="drop")
    assert dropped["n_zero"] == 7 and dropped["n_obs"] == 68
    halved = fit_growth_law_log_ls(frame, zeros="add_half")
    assert halved["n_zero"] == 7 and halved["n_obs"] == 75
    # constant counts: dropping the zeros (which sit at N = 200, 400) leaves no trend ...
    assert not dropped["grows"]
    # ... while log(0 + 1/2) at the smallest N pulls the fitted exponent up (documented bias)
    assert halved["kappa"] > dropped["kappa"]


