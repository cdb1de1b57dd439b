"""Tests of rmtweights.rmt.porter_thomas against scipy.stats.kstest, the sphere null and a planted vector."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rmtweights.rmt.porter_thomas import porter_thomas


def _right_singular_vectors(w: np.ndarray) -> np.ndarray:
    _, _, vh = np.linalg.svd(w, full_matrices=False)
    return vh.T  # columns = right singular vectors, largest singular value first


def test_porter_thomas_matches_scipy_kstest():
    v = _right_singular_vectors(np.random.default_rng(0).standard_normal((200, 100)))
    out = porter_thomas(v)
    for j in (0, 17, 99):
        ref = stats.kstest(math.sqrt(100) * v[:, j], "norm")
        assert out.ks_stat[j] == pytest.approx(ref.statistic, rel=1e-12)
        assert out.p_value[j] == pytest.approx(ref.pvalue, rel=1e-9)
    assert list(out.columns) == ["rank", "position", "ks_stat", "p_value", "p_value_moving_avg", "null"]
    assert out["rank"].tolist() == list(range(1, 101))
    assert out.position.iloc[0] == 1.0 and out.position.iloc[-1] == 0.0


def test_porter_thomas_p_values_uniform_for_a_gaussian_matrix():
    # Right singular vectors of a Gaussian matrix are uniform on the sphere (Haar V). With the
    # calibrated "sphere" null the 300 p-values are uniform: KS of the p-values at 1 %.
    v = _right_singular_vectors(np.random.default_rng(1).standard_normal((600, 300)))
    calibrated = porter_thomas(v, null="sphere", n_null=4000, seed=0)
    assert stats.kstest(calibrated.p_value, "uniform").pvalue >= 0.01
    # Paper 001's plain KS against N(0,1) is conservative (a unit vector's entries have mean square
    # exactly 1): a valid test (fraction below 0.05 at most 0.05 + 2 binomial s.e. = 0.075) with
    # p-values above uniform on average (mean 0.52-0.57 over 20 matrices while developing).
    plain = porter_thomas(v)
    assert np.mean(plain.p_value < 0.05) <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 300)
    assert 0.5 < plain.p_value.mean() < 0.6


def test_porter_thomas_flags_a_planted_sparse_vector():
    # W = G + theta u v^T with v supported on 5 entries and theta = 3 sqrt(n) >> the BBP threshold
    # (n m)^(1/4): the top right singular vector is ~ v, whose entries are nothing like N(0, 1/m).
    rng = np.random.default_rng(3)
    n, m = 600, 300
    v = np.zeros(m)
    v[:5] = 1 / math.sqrt(5)
    u = rng.standard_normal(n)
    u /= np.linalg.norm(u)
    w = rng.standard_normal((n, m)) + 3 * math.sqrt(n) * np.outer(u, v)
    vectors = _right_singular_vectors(w)
    out = porter_thomas(vectors)
    assert out.p_value.iloc[0] < 1e-10
    assert out.p_value.iloc[1:].min() > 1e-4  # the rest stay random (min of 299 uniforms)
    sphere = porter_thomas(vectors, null="sphere", n_null=1000)
    assert sphere.p_value.iloc[0] == 1 / 1001  # resolution limit of the Monte-Carlo null


def test_porter_thomas_moving_average_and_validation():
    v = _right_singular_vectors(np.random.default_rng(4).standard_normal((60, 40)))
    out1 = porter_thomas(v, window=1)
    np.testing.assert_allclose(out1.p_value_moving_avg, out1.p_value, rtol=1e-13)  # cumsum rounding
    out3 = porter_thomas(v, window=3)
    p = out3.p_value.to_numpy()
    assert out3.p_value_moving_avg.iloc[0] == pytest.approx(p[:2].mean(), rel=1e-14)  # truncated
    assert out3.p_value_moving_avg.iloc[10] == pytest.approx(p[9:12].mean(), rel=1e-14)
    with pytest.raises(ValueError, match="window"):
        porter_thomas(v, window=0)
    with pytest.raises(ValueError, match="null"):
        porter_thomas(v, null="beta")
    with pytest.raises(ValueError, match="shape"):
        porter_thomas(np.ones(5))
