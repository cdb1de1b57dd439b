"""Tests for rmtweights.rmt.mp: the Marchenko–Pastur law of normalised singular values.

Reference values come from closed forms (moments of the MP law, the quarter-circle law at q = 1)
and from adaptive quadrature (scipy.integrate.quad) of the density, which is independent of the
closed-form cdf under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, stats
from scipy.linalg import svdvals

from rmtweights.rmt.mp import mp_cdf, mp_edges, mp_isf, mp_pdf, mp_ppf

QS = [0.02, 0.3, 0.5, 1.0]
SIGMAS = [0.5, 1.0, 2.3]
GRID = [(q, s) for q in QS for s in SIGMAS]


def _quad(f, lo: float, hi: float) -> float:
    # the density has square-root zeros at both edges (q < 1): quad's adaptive Gauss–Kronrod
    # handles them; with epsabs=1e-13 its error estimates stay below 1e-12 on this grid.
    val, err = integrate.quad(f, lo, hi, limit=200, epsabs=1e-13, epsrel=1e-12)
    assert err < 1e-10
    return val


@pytest.mark.parametrize(("q", "sigma"), GRID)
def test_pdf_integrates_to_one(q, sigma):
    lo, hi = mp_edges(q, sigma)
    # closed form integrates to 1 exactly; 1e-10 leaves room for quadrature error only
    assert _quad(lambda x: mp_pdf(x, q, sigma), lo, hi) == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize(("q", "sigma"), GRID)
def test_moments(q, sigma):
    # MP eigenvalue law of gamma^2 with ratio q and scale sigma^2 (Bai & Silverstein 2010, Sec. 3.1):
    # E[gamma^2] = sigma^2, E[gamma^4] = sigma^4 (1 + q), so Var[gamma^2] = q sigma^4.
    lo, hi = mp_edges(q, sigma)
    m2 = _quad(lambda x: x**2 * mp_pdf(x, q, sigma), lo, hi)
    m4 = _quad(lambda x: x**4 * mp_pdf(x, q, sigma), lo, hi)
    # relative 1e-9: quadrature tolerance (1e-12) scaled by moments up to (2.3 * 2)^4 ~ 450
    assert m2 == pytest.approx(sigma**2, rel=1e-9)
    assert m4 - m2**2 == pytest.approx(q * sigma**4, rel=1e-9)


@pytest.mark.parametrize(("q", "sigma"), GRID)
def test_cdf_matches_quadrature_of_pdf(q, sigma):
    lo, hi = mp_edges(q, sigma)
    xs = np.linspace(lo, hi, 13)[1:-1]
    ref = np.array([_quad(lambda x: mp_pdf(x, q, sigma), lo, x) for x in xs])
    # both are accurate to ~1e-13; 1e-11 absolute is a safe bound
    assert_allclose(mp_cdf(xs, q, sigma), ref, rtol=0, atol=1e-11)


@pytest.mark.parametrize(("q", "sigma"), GRID)
def test_ppf_isf_invert_cdf(q, sigma):
    p = np.concatenate([[0.0, 1e-12, 1e-6], np.linspace(0.001, 0.999, 101), [1 - 1e-6, 1.0]])
    x = mp_ppf(p, q, sigma)
    # inverse to 1e-12 in probability (brief: ~1e-10); the cdf itself is accurate to ~1e-15
    assert_allclose(mp_cdf(x, q, sigma), p, rtol=0, atol=1e-12)
    xu = mp_isf(p, q, sigma)
    assert_allclose(1.0 - mp_cdf(xu, q, sigma), p, rtol=0, atol=1e-12)
    assert np.all(np.diff(x) > 0)
    assert np.all(np.diff(xu) < 0)
    # isf(p) == ppf(1 - p) in x wherever the quantile is not too steep
    inner = (p > 1e-3) & (p < 1 - 1e-3)
    assert_allclose(xu[inner], mp_ppf(1.0 - p[inner], q, sigma), rtol=1e-9)


def test_isf_keeps_relative_accuracy_in_upper_tail():
    # P(X > isf(p)) = p for tiny p, where 1 - mp_cdf would have lost all digits: compare with a
    # purely relative quadrature (epsabs=0) of the density over [isf(p), x_max].
    q = 0.4
    p = np.array([1e-12, 1e-9, 1e-6])
    x = mp_isf(p, q)
    lo, hi = mp_edges(q)
    assert np.all((x < hi) & (x > lo)) and np.all(np.diff(x) < 0)
    tail = np.array(
        [
            integrate.quad(
                lambda u: 2.0 * u * mp_pdf(hi - u * u, q),
                0.0,
                math.sqrt(hi - xi),
                epsabs=0.0,
                epsrel=1e-9,
            )[0]
            for xi in x
        ]
    )
    # relative 1e-7: the closed-form tail loses ~eps * B/(B - x^2) ~ 1e-8 to cancellation at 1e-12
    assert_allclose(tail, p, rtol=1e-7)


@pytest.mark.parametrize("sigma", SIGMAS)
def test_quarter_circle_at_q_one(sigma):
    # q = 1: g(x) = sqrt(4 sigma^2 - x^2)/(pi sigma^2), finite at 0, with closed-form cdf
    # F(x) = x sqrt(4 sigma^2 - x^2)/(2 pi sigma^2) + (2/pi) arcsin(x/(2 sigma)).
    x = np.linspace(0.0, 2 * sigma, 41)
    inner = x[1:-1]
    density = np.sqrt(4 * sigma**2 - inner**2) / (math.pi * sigma**2)
    assert_allclose(mp_pdf(inner, 1.0, sigma), density, rtol=1e-13)
    ref = x * np.sqrt(4 * sigma**2 - x**2) / (2 * math.pi * sigma**2)
    ref += 2 / math.pi * np.arcsin(x / (2 * sigma))
    assert_allclose(mp_cdf(x, 1.0, sigma), ref, rtol=0, atol=1e-14)  # two closed forms: rounding only
    assert mp_edges(1.0, sigma) == (0.0, 2 * sigma)
    assert mp_ppf(0.0, 1.0, sigma) == 0.0


@pytest.mark.parametrize(("q", "sigma"), [(0.25, 1.0), (1.0, 0.7)])
def test_edges_and_outside_support(q, sigma):
    lo, hi = mp_edges(q, sigma)
    assert lo == pytest.approx(sigma * (1 - math.sqrt(q)), abs=1e-15)
    assert hi == pytest.approx(sigma * (1 + math.sqrt(q)))
    below = np.array([-1.0, lo - 1e-9, lo])
    above = np.array([hi, hi + 1e-9, 10 * hi])
    assert np.all(mp_pdf(above, q, sigma) == 0.0) and np.all(mp_pdf(below[:2], q, sigma) == 0.0)
    assert np.all(mp_cdf(below, q, sigma) == 0.0)
    assert np.all(mp_cdf(np.array([hi, hi + 1e-9, 10 * hi]), q, sigma) == 1.0)
    assert mp_ppf(0.0, q, sigma) == lo and mp_ppf(1.0, q, sigma) == hi
    assert mp_isf(0.0, q, sigma) == hi and mp_isf(1.0, q, sigma) == lo


def test_shapes_scalars_and_nan():
    x = np.linspace(0.1, 1.5, 12).reshape(3, 4)
    assert mp_pdf(x, 0.5).shape == (3, 4)
    assert mp_cdf(x, 0.5).shape == (3, 4)
    assert mp_ppf(np.full((2, 2), 0.5), 0.5).shape == (2, 2)
    assert np.ndim(mp_pdf(1.0, 0.5)) == 0 and np.ndim(mp_isf(0.5, 0.5)) == 0
    assert np.isnan(mp_pdf(np.nan, 0.5)) and np.isnan(mp_cdf(np.nan, 0.5))


@pytest.mark.parametrize(
    ("func", "args", "match"),
    [
        (mp_pdf, (0.5, 0.0), "q=0.0"),
        (mp_cdf, (0.5, 1.5), "q=1.5"),
        (mp_edges, (float("nan"),), "q=nan"),
        (mp_pdf, (0.5, 0.5, 0.0), "sigma=0.0"),
        (mp_cdf, (0.5, 0.5, -1.0), "sigma=-1.0"),
        (mp_ppf, (0.5, 0.5, float("inf")), "sigma=inf"),
        (mp_ppf, (1.1, 0.5), "p="),
        (mp_isf, (-0.1, 0.5), "p="),
        (mp_ppf, (float("nan"), 0.5), "p="),
    ],
)
def test_bad_arguments_raise(func, args, match):
    with pytest.raises(ValueError, match=match):
        func(*args)


def test_gaussian_matrix_spectrum_follows_mp():
    # Seeded 500 x 1000 Gaussian matrix, sigma = 0.7: gammas = svdvals / sqrt(n).
    # Eigenvalues of random matrices are far more rigid than i.i.d. samples, so the KS distance
    # to the limiting law is dominated by the O(1/m) finite-size correction; the i.i.d.
    # KS p-value is therefore large, and 0.02 bounds the sup-distance generously
    # (measured: 0.007).
    rng = np.random.default_rng(20260301)
    n, m, sigma = 1000, 500, 0.7
    gammas = svdvals(rng.standard_normal((n, m)) * sigma) / math.sqrt(n)
    q = m / n
    res = stats.kstest(gammas, lambda x: mp_cdf(x, q, sigma))
    assert res.statistic < 0.02
    assert res.pvalue > 0.05
    # histogram vs density: 20 bins of 25 values each have Poisson-like error well below 15 %
    # of the peak density (rigidity makes it smaller still)
    hist, edges = np.histogram(gammas, bins=20, density=True)
    centres = 0.5 * (edges[1:] + edges[:-1])
    assert np.max(np.abs(hist - mp_pdf(centres, q, sigma))) < 0.15 * mp_pdf(centres, q, sigma).max()
