"""TW1 (GOE Tracy–Widom) cdf and quantiles computed by Bornemann's Fredholm-determinant method."""

import numpy as np
import pytest

from rmtweights.rmt.tracy_widom import tw1_cdf, tw1_quantile

# Quantiles of TW1 to four decimals: Tracy & Widom, Commun. Math. Phys. 177 (1996) 727 (Painlevé II),
# as tabulated by Johnstone, Ann. Statist. 29 (2001) 295, Table 1 and reproduced by Bornemann (2010).
# The tabulated values are rounded, so they pin the computed ones to +-5e-5; we assert 1e-4.
TW1_QUANTILES = {0.90: 0.4501, 0.95: 0.9793, 0.99: 2.0234}

# Mean and variance of TW1 to 13 digits: Bornemann, Math. Comp. 79 (2010) 871, arXiv:0804.2543,
# Sec. 8 (moments table; same values as Prähofer & Spohn / Tracy & Widom 1996).
TW1_MEAN = -1.2065335745820
TW1_VARIANCE = 1.6077810345810


@pytest.mark.parametrize("p, expected", sorted(TW1_QUANTILES.items()))
def test_quantiles_match_published_table(p, expected):
    assert tw1_quantile(p) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("p", [0.5, 0.9, 0.95, 0.99])
def test_quantile_converged_in_quadrature_order(p):
    # Bornemann's error decays exponentially in the order: 24 nodes already agree with 96 nodes
    # far below the 1e-6 accuracy the threshold needs.
    reference = tw1_quantile(p, order=96)
    assert tw1_quantile(p) == pytest.approx(reference, abs=1e-9)
    assert tw1_quantile(p, order=24) == pytest.approx(reference, abs=1e-6)


def test_cdf_converged_on_a_grid():
    s = np.linspace(-8.0, 8.0, 33)
    # the determinant is accurate to rounding (~1e-14) once converged; 48 vs 96 nodes shows it
    np.testing.assert_allclose(tw1_cdf(s), tw1_cdf(s, order=96), rtol=0, atol=1e-12)


def test_cdf_inverts_quantile():
    p = np.array([0.05, 0.3, 0.5, 0.83, 0.999])
    np.testing.assert_allclose(tw1_cdf(tw1_quantile(p)), p, rtol=0, atol=1e-10)


def test_cdf_monotone_with_limits():
    s = np.linspace(-10.0, 10.0, 161)
    f = tw1_cdf(s)
    assert f.shape == s.shape
    assert np.all(np.diff(f) >= 0)
    assert f[0] < 1e-15 and 1.0 - f[-1] < 1e-9  # log F1(-10) ~ -1000/24; 1 - F1(10) ~ e^{-21}
    assert tw1_cdf(-50.0) == 0.0 and tw1_cdf(50.0) == 1.0
    assert np.isnan(tw1_cdf(np.nan))


def test_mean_and_variance_match_bornemann():
    # E[X] = int_0^inf (1 - F) - int_-inf^0 F ;  E[X^2] = 2 int_0^inf s (1 - F) + 2 int_-inf^0 |s| F,
    # by Gauss–Legendre on [-12, 0] and [0, 14] (the tails beyond are < 1e-20).
    t, w = np.polynomial.legendre.leggauss(80)
    neg, wn = -6.0 * (t + 1.0), 6.0 * w
    pos, wp = 7.0 * (t + 1.0), 7.0 * w
    f_neg, sf_pos = tw1_cdf(neg), 1.0 - tw1_cdf(pos)
    mean = np.sum(wp * sf_pos) - np.sum(wn * f_neg)
    second = 2.0 * np.sum(wp * pos * sf_pos) + 2.0 * np.sum(wn * np.abs(neg) * f_neg)
    assert mean == pytest.approx(TW1_MEAN, abs=1e-9)
    assert second - mean**2 == pytest.approx(TW1_VARIANCE, abs=1e-9)


def test_quantile_array_and_cache():
    q = tw1_quantile([0.9, 0.95])
    assert isinstance(q, np.ndarray) and q.shape == (2,)
    assert isinstance(tw1_quantile(0.9), float)
    assert tw1_quantile(0.9) == q[0]  # same cached root


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, np.nan])
def test_quantile_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must lie"):
        tw1_quantile(p)


def test_cdf_rejects_bad_order():
    with pytest.raises(ValueError, match="order"):
        tw1_cdf(0.0, order=1)
