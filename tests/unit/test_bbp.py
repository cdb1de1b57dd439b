"""theta-hat, phi-hat (eq. (4) of paper 000), Ave_w (eqs. (5), (6)) and Table 1 of paper 000."""

import math

import numpy as np
import pytest
import torch

from rmtweights.analyze import analyze_spectrum
from rmtweights.rmt import bbp
from rmtweights.rmt.bbp import ave_w, ave_w_curve, phi_from_theta, phi_hat, phi_hat_numeric, theta_hat
from rmtweights.rmt.estimators import bema_sigma
from rmtweights.rmt.mp import mp_ppf
from rmtweights.rmt.threshold import count_spikes, mp_threshold

# Paper 000 (Nishikawa, Shimizu, Hashiguchi), Table 1: rank-2 signal (theta_1, theta_2) = (3, 2),
# sigma = 1, random orthogonal singular vectors, averages over 100 noise draws.
# size "100x200" etc. (q = 1/2): (phi_1, phi_hat_1, phi_2, phi_hat_2)
PAPER_TABLE1 = {
    (100, 200): (0.940, 0.939, 0.859, 0.860),
    (250, 500): (0.941, 0.940, 0.861, 0.862),
    (500, 1000): (0.941, 0.940, 0.860, 0.861),
}
THETAS = (3.0, 2.0)




def _outlier(theta, sigma, q):
    """Forward BBP map: gamma^2 = (theta^2 + sigma^2)(theta^2 + q sigma^2) / theta^2."""
    return np.sqrt((theta**2 + sigma**2) * (theta**2 + q * sigma**2)) / theta


def simulate_rank2(m, n, draws, seed):
    """Table 1 model, W / sqrt(n) = sum theta_i u_i v_i^T + Z / sqrt(n), W n x m (n >= m).

    Returns per draw: gammas (all m, descending), squared overlaps of the top-2 singular vectors
    on the shorter side (v, length m) and on the longer side (u, length n).
    """
    gen = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    thetas = torch.tensor(THETAS, dtype=f64)
    gammas, short, long_ = [], [], []
    for _ in range(draws):
        u = torch.linalg.qr(torch.randn(n, 2, generator=gen, dtype=f64)).Q  # random orthonormal
        v = torch.linalg.qr(torch.randn(m, 2, generator=gen, dtype=f64)).Q
        x = (u * thetas) @ v.T + torch.randn(n, m, generator=gen, dtype=f64) / math.sqrt(n)
        ev, vecs = torch.linalg.eigh(x.T @ x)  # right singular vectors = eigenvectors of X^T X
        g = torch.sqrt(ev.clamp_min(0.0)).flip(0)
        v_obs = vecs[:, -2:].flip(1)
        u_obs = (x @ v_obs) / g[:2]
        gammas.append(g.numpy())
        short.append(((v_obs * v).sum(0) ** 2).numpy())
        long_.append(((u_obs * u).sum(0) ** 2).numpy())
    return np.array(gammas), np.array(short), np.array(long_)


# ----------------------------------------------------------------------------- closed forms

@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("q", [0.1, 0.5, 1.0])
def test_theta_hat_inverts_outlier_location(sigma, q):
    theta = sigma * np.array([q**0.25 * 1.01, 1.2, 1.7, 3.0, 10.0])
    np.testing.assert_allclose(theta_hat(_outlier(theta, sigma, q), sigma, q), theta, rtol=1e-10)


def test_phi_hat_sigma_one_is_paper_closed_form():
    # display under eq. (4) of paper 000: phi = 1 - q(1 + theta^2) / (theta^2 (theta^2 + q))
    q = 0.37
    theta = np.array([0.9, 1.3, 2.0, 3.0, 7.5])
    expected = 1 - q * (1 + theta**2) / (theta**2 * (theta**2 + q))
    np.testing.assert_allclose(phi_from_theta(theta, 1.0, q), expected, rtol=1e-13)
    np.testing.assert_allclose(phi_hat(_outlier(theta, 1.0, q), 1.0, q), expected, rtol=1e-9)


def test_below_and_at_transition():
    sigma, q = 1.3, 0.4
    edge = sigma * (1 + math.sqrt(q))
    g = np.array([0.2, edge * 0.999, edge])
    assert np.all(np.isnan(theta_hat(g, sigma, q)))
    np.testing.assert_array_equal(phi_hat(g, sigma, q), 0.0)
    # continuity at the transition: theta -> sigma q^(1/4), phi -> 0
    just_above = edge * (1 + 1e-12)
    assert theta_hat(just_above, sigma, q) == pytest.approx(sigma * q**0.25, rel=1e-5)
    assert phi_hat(just_above, sigma, q) == pytest.approx(0.0, abs=1e-5)


def test_phi_in_unit_interval_and_increasing():
    g = np.linspace(0.0, 20.0, 500)
    phi = phi_hat(g, 0.8, 0.6)
    assert np.all((phi >= 0) & (phi < 1)) and np.all(np.diff(phi) >= 0)


@pytest.mark.parametrize("sigma", [0.5, 2.0])
@pytest.mark.parametrize("q", [0.1, 0.5, 1.0])
def test_phi_hat_numeric_eq4_equals_scaled_closed_form(sigma, q):
    # eq. (4) evaluated literally (D-transform, h by quadrature against the MP density, rho by
    # root finding, D') versus the sigma = 1 closed form scaled by sigma. Both are exact; the
    # quadrature (epsrel 1e-12) and root finding (1e-14) leave ~1e-12.
    g = sigma * (1 + math.sqrt(q)) * np.array([0.9, 1.001, 1.05, 1.3, 2.0, 4.0])
    np.testing.assert_allclose(phi_hat_numeric(g, sigma, q), phi_hat(g, sigma, q), rtol=0, atol=1e-9)
    # and sigma matters: the sigma = 1 formula on unscaled gammas would be wrong
    assert not np.allclose(phi_hat(g, 1.0, q), phi_hat(g, sigma, q), atol=1e-3)


@pytest.mark.parametrize("sigma, q", [(0.7, 0.3), (1.5, 0.8)])
def test_paper_d_transform_matches_its_definition(sigma, q):
    # Benaych-Georges & Nadakuditi (2012) define D(z) = h(z) (q h(z) + (1 - q)/z); paper 000 gives
    # its closed form for the MP law. Check one against the other above the bulk.
    for z in sigma * (1 + math.sqrt(q)) * np.array([1.01, 1.5, 3.0]):
        h = bbp._mp_h(z, sigma, q)
        assert bbp._d_transform(z, sigma, q) == pytest.approx(h * (q * h + (1 - q) / z), rel=1e-9)
        eps = 1e-6 * z
        slope = (bbp._d_transform(z + eps, sigma, q) - bbp._d_transform(z - eps, sigma, q)) / (2 * eps)
        assert bbp._d_transform_prime(z, sigma, q) == pytest.approx(slope, rel=1e-6)


# ----------------------------------------------------------------------------- Table 1

def _check_table1(sizes, draws, tol_phi, tol_phi_hat, tol_bema):
    for (m, n), (p1, ph1, p2, ph2) in ((s, PAPER_TABLE1[s]) for s in sizes):
        gammas, short, long_ = simulate_rank2(m, n, draws, seed=m)
        q = m / n
        phi_emp = short.mean(axis=0)
        phi_est = np.mean([phi_hat(g[:2], 1.0, q) for g in gammas], axis=0)
        phi_bema = np.mean([phi_hat(g[:2], bema_sigma(g, q), q) for g in gammas], axis=0)
        np.testing.assert_allclose(phi_emp, [p1, p2], atol=tol_phi, err_msg=f"phi, {m}x{n}")
        np.testing.assert_allclose(phi_est, [ph1, ph2], atol=tol_phi_hat, err_msg=f"phi_hat, {m}x{n}")
        np.testing.assert_allclose(phi_bema, phi_est, atol=tol_bema, err_msg=f"BEMA phi_hat, {m}x{n}")
        # the paper's phi is the SHORTER side: the longer side (length n) is far below the table,
        # by more than 0.04 (theta = 3) and 0.08 (theta = 2) in theory (BGN 2012 Sec. 3.1)
        assert np.all(np.abs(long_.mean(axis=0) - [p1, p2]) > 2 * tol_phi), f"long side, {m}x{n}"
        longer_theory = 1 - (q + np.square(THETAS)) / (np.square(THETAS) * (np.square(THETAS) + 1))
        np.testing.assert_allclose(long_.mean(axis=0), longer_theory, atol=tol_phi + 0.01)


def test_table1_fast(one_thread):
    # 20 draws: the standard error of a mean overlap is <= 0.021/sqrt(20) = 0.005 (phi_2 at
    # 100x200) and <= 0.011/sqrt(20) = 0.0025 for phi-hat, so 0.02 and 0.01 are ~4 SE; the wrong
    # (longer) side is >= 0.046 off the table. BEMA's sigma-hat is ~1.4 % high at m = 100 (two
    # spikes in the bulk fit), moving phi-hat_2 by ~0.006.
    _check_table1([(100, 200), (250, 500)], draws=20, tol_phi=0.02, tol_phi_hat=0.01, tol_bema=0.012)


@pytest.mark.slow
def test_table1_full(one_thread):
    # the paper's 100 draws per size: SE <= 0.0021 per mean (ours and the paper's), so 0.01 is
    # > 3 combined SE.
    _check_table1(sorted(PAPER_TABLE1), draws=100, tol_phi=0.01, tol_phi_hat=0.01, tol_bema=0.01)


def test_five_spikes_recovered(one_thread):
    # theta = 2..6 over sigma = 1 noise, 1000 x 2000 (n = 2000, m = 1000): all five are far above
    # the transition q^(1/4) = 0.84, so s_hat = 5 unless a noise value crosses gamma_+ (P ~ 0.1).
    # theta-hat fluctuates by O(n^(-1/2)) ~ 1-2 %: 5 % is a safe bound.
    n, m, thetas = 2000, 1000, np.arange(6.0, 1.0, -1.0)
    gen = torch.Generator().manual_seed(5)
    exact = 0
    for _ in range(3):
        u = torch.linalg.qr(torch.randn(n, 5, generator=gen, dtype=torch.float64)).Q
        v = torch.linalg.qr(torch.randn(m, 5, generator=gen, dtype=torch.float64)).Q
        noise = torch.randn(n, m, generator=gen, dtype=torch.float64) / math.sqrt(n)
        x = (u * torch.from_numpy(thetas)) @ v.T + noise
        sv = torch.linalg.svdvals(x).numpy() * math.sqrt(n)  # raw singular values of W = x sqrt(n)
        gammas = sv / math.sqrt(n)
        result = analyze_spectrum(sv, n, m, "bema")
        known = count_spikes(gammas, mp_threshold(1.0, m / n, n))
        for sigma, s_hat in ((1.0, known), (result.sigma, result.s_hat)):
            exact += s_hat == 5
            np.testing.assert_allclose(theta_hat(gammas[:5], sigma, m / n), thetas, rtol=0.05)
    assert exact >= 4  # of 6 (3 draws x known / BEMA sigma)


# ----------------------------------------------------------------------------- Ave_w

def test_ave_w_hand_computation():
    # (0.9 * 1.5 + 0.5 * 0.5) / (1.5 + 0.5) = 0.8; the value below gamma_+ does not enter
    assert ave_w([0.9, 0.5, 0.1], [3.0, 2.0, 1.0], 1.5) == pytest.approx(0.8, rel=1e-14)
    assert math.isnan(ave_w([0.9, 0.5], [1.0, 0.5], 1.5))  # s_hat = 0


def test_ave_w_in_unit_interval():
    rng = np.random.default_rng(0)
    for _ in range(20):
        g = np.sort(rng.uniform(0, 5, 50))[::-1]
        val = ave_w(rng.uniform(0, 1, 50), g, 2.5)
        assert 0 <= val <= 1


def test_ave_w_rejects_misaligned():
    with pytest.raises(ValueError, match="equal length"):
        ave_w([0.5], [1.0, 2.0], 0.5)


def _spiked_gammas(n=600, m=300, sigma=0.9):
    """A deterministic spiked spectrum: MP(sigma) quantiles for the bulk plus four outliers."""
    q = m / n
    bulk = mp_ppf((np.arange(m - 4) + 0.5) / (m - 4), q, sigma)
    spikes = _outlier(sigma * np.array([3.0, 2.0, 1.5, 1.1]), sigma, q)
    return np.sort(np.concatenate([spikes, bulk]))[::-1], n, m


def test_ave_w_curve_shape_and_readings():
    gammas, n, m = _spiked_gammas()
    sigma, q, k = 0.9, m / n, 12
    curve = ave_w_curve(gammas, sigma, q, n, k)
    assert list(curve.columns) == ["s", "reading", "gamma_plus", "sigma", "ave_w"]
    assert len(curve) == 2 * k
    for reading in ("fixed", "implied"):
        part = curve[curve.reading == reading]
        assert part.s.tolist() == list(range(1, k + 1))
        np.testing.assert_allclose(part.gamma_plus, gammas[1 : k + 1])
        vals = part.ave_w.dropna()
        assert len(vals) == k and np.all((vals >= 0) & (vals <= 1))
    assert np.all(curve[curve.reading == "fixed"].sigma == sigma)


def test_ave_w_curve_matches_direct_eq6():
    gammas, n, m = _spiked_gammas()
    sigma, q, k = 0.9, m / n, 10
    curve = ave_w_curve(gammas, sigma, q, n, k, beta=0.1).set_index(["reading", "s"])
    for s in range(1, k + 1):
        top, plus = gammas[:s], gammas[s]
        fixed = ave_w(phi_hat(top, sigma, q), top, plus)
        assert curve.loc[("fixed", s), "ave_w"] == pytest.approx(fixed, rel=1e-12)
        sig_s = curve.loc[("implied", s), "sigma"]
        # the implied sigma(s) puts eq. (3)'s threshold exactly at gamma_{s+1}: round trip
        assert mp_threshold(sig_s, q, n, beta=0.1) == pytest.approx(plus, rel=1e-12)
        implied = ave_w(phi_hat(top, sig_s, q), top, plus)
        assert curve.loc[("implied", s), "ave_w"] == pytest.approx(implied, rel=1e-12)
        assert implied > 0  # gamma_i > gamma_+ > MP edge of sigma(s): every spike has phi > 0


def test_ave_w_curve_rejects_bad_k():
    with pytest.raises(ValueError, match="k must be"):
        ave_w_curve([3.0, 2.0, 1.0], 1.0, 0.5, 100, 3)
    with pytest.raises(ValueError, match="k must be"):
        ave_w_curve([3.0, 2.0, 1.0], 1.0, 0.5, 100, 0)


@pytest.mark.parametrize("bad", [np.nan, -1.0])
def test_bad_gammas_raise(bad):
    with pytest.raises(ValueError, match="gammas"):
        phi_hat([2.0, bad], 1.0, 0.5)
