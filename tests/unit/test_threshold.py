"""Thresholds: eq. (3) of paper 000 (TW-corrected MP edge) and the Gavish–Donoho hard threshold."""

import math

import numpy as np
import pytest
import torch

from rmtweights.analyze import analyze_spectrum
from rmtweights.rmt.threshold import count_spikes, gavish_donoho_threshold, mp_threshold, threshold_factor




def _noise_gammas(n, m, sigma, gen):
    """Normalised singular values of an n x m (n >= m) i.i.d. N(0, sigma^2) matrix (eigvals of W^T W / n)."""
    w = sigma * torch.randn(n, m, generator=gen, dtype=torch.float64)
    ev = torch.linalg.eigvalsh(w.T @ w).clamp_min(0.0)
    return torch.sqrt(ev).flip(0).numpy() / math.sqrt(n)


def test_mp_threshold_matches_hand_computation():
    # sigma = 0.8, q = 1/4, n = 1000, beta = 0.1 with t_0.9 = 0.4501 (Johnstone 2001, Table 1):
    # n^(-2/3) = 0.01, q^(-1/6) = 2^(1/3) = 1.259921, (1 + 1/2)^(4/3) = 1.717071,
    # gamma_+^2 / sigma^2 = 2.25 + 0.4501 * 0.01 * 1.259921 * 1.717071 = 2.259737,
    # gamma_+ = 0.8 * sqrt(2.259737) = 1.202594. The 4-digit t moves gamma_+ by < 1e-6.
    assert mp_threshold(0.8, 0.25, 1000, beta=0.1) == pytest.approx(1.2025938, abs=1e-6)


def test_threshold_scales_with_sigma_and_factor_inverts():
    c = threshold_factor(0.3, 777, 0.05)
    for sigma in (0.1, 1.0, 3.7):
        assert mp_threshold(sigma, 0.3, 777, beta=0.05) == pytest.approx(sigma * c, rel=1e-14)


def test_threshold_above_edge_and_converges_to_it():
    # t_{0.9} > 0, so gamma_+ > sigma (1 + sqrt q), with the gap shrinking like n^(-2/3)
    edge = 1.0 + math.sqrt(0.5)
    gaps = [mp_threshold(1.0, 0.5, n) - edge for n in (100, 1000, 10000)]
    assert all(g > 0 for g in gaps)
    assert gaps[0] / gaps[1] == pytest.approx(10 ** (2 / 3), rel=0.02)  # sqrt expansion, to O(gap)


def test_smaller_beta_gives_higher_threshold():
    values = [mp_threshold(1.0, 0.5, 500, beta=b) for b in (0.01, 0.05, 0.1, 0.3)]
    assert np.all(np.diff(values) < 0)


def test_gavish_donoho_at_square_is_four_over_root_three():
    # the title result of Gavish & Donoho (2014): lambda_*(1) = 4/sqrt(3)
    for sigma in (0.5, 1.0, 2.0):
        assert gavish_donoho_threshold(sigma, 1.0) == pytest.approx(4.0 / math.sqrt(3.0) * sigma, rel=1e-14)


def test_gavish_donoho_closed_form_and_above_bulk():
    # q = 1/2: lambda_*^2 = 3 + 4 / (1.5 + sqrt(8.25)) -> 1.978599 (hand computation)
    assert gavish_donoho_threshold(1.0, 0.5) == pytest.approx(1.9785991, abs=1e-7)
    for q in np.linspace(0.01, 1.0, 25):
        assert gavish_donoho_threshold(1.0, q) > 1.0 + math.sqrt(q)


def test_count_spikes_is_strict():
    g = np.array([3.0, 2.0, 2.0, 1.0])
    assert count_spikes(g, 2.0) == 1
    assert count_spikes(g[::-1], 1.5) == 3
    assert count_spikes(g, 5.0) == 0


@pytest.mark.parametrize("call, match", [
    (lambda: mp_threshold(0.0, 0.5, 100), "sigma"),
    (lambda: mp_threshold(1.0, 1.5, 100), "q"),
    (lambda: mp_threshold(1.0, 0.5, 0), "n"),
    (lambda: mp_threshold(1.0, 0.5, 100, beta=1.0), "beta"),
    (lambda: gavish_donoho_threshold(-1.0, 0.5), "sigma"),
    (lambda: count_spikes([1.0, np.nan], 0.5), "NaN"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_pure_noise_has_no_spikes(one_thread):
    # beta = 0.1: a pure-noise top value exceeds gamma_+ with probability ~0.1 in the TW1 limit
    # (0.12 +- 0.02 measured at 1000 x 500 over 300 draws: finite-n corrections), so s_hat = 0 in
    # >= 80 % of draws. Pooled over 38 seeded draws, P(>= 31 zeros | p = 0.88) = 0.93.
    sigma = 0.7
    gen = torch.Generator().manual_seed(2024)
    draws = zero_known = zero_bema = 0
    for n, m, count in ((1000, 500, 30), (3000, 1000, 8)):
        for _ in range(count):
            gammas = _noise_gammas(n, m, sigma, gen)
            zero_known += count_spikes(gammas, mp_threshold(sigma, m / n, n)) == 0
            result = analyze_spectrum(gammas * math.sqrt(n), n, m, "bema")
            assert result.status == "ok"
            assert result.sigma == pytest.approx(sigma, rel=0.01)  # BEMA: ~0.1 % error at these sizes
            zero_bema += result.s_hat == 0
            draws += 1
    assert zero_known >= 0.8 * draws
    assert zero_bema >= 0.8 * draws
