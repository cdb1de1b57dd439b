"""The random controls of a layer (rmtweights.controls): their distribution, their seeds, and the scale
invariance of Ave_w(s) that makes a Gaussian at the entry SD equivalent to one at the fitted sigma."""

from __future__ import annotations

import numpy as np
import pytest

from rmtweights.analyze import analyze_spectrum
from rmtweights.controls import CONTROLS, DERIVED_CONTROLS, control_rng, derived_controls, gaussian_control, \
    shuffled_control
from rmtweights.rmt.bbp import ave_w_curve


def _spiked(seed: int = 1, n: int = 400, m: int = 200, sd: float = 0.05) -> np.ndarray:
    """Noise of entry SD ``sd`` plus a rank-3 signal well above the BBP transition."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, 3)))
    v, _ = np.linalg.qr(rng.standard_normal((m, 3)))
    return rng.normal(0, sd, (n, m)) + sd * np.sqrt(n) * (u * [4.0, 3.0, 2.0]) @ v.T


def test_names():
    assert DERIVED_CONTROLS == ("gaussian", "shuffled") and CONTROLS == ("initial", "gaussian", "shuffled")
    with pytest.raises(ValueError, match="control must be one of"):
        control_rng(0, "fc1", "initial")


def test_gaussian_control_has_the_shape_mean_zero_and_the_entry_sd():
    w = _spiked() + 0.3  # a non-zero mean is not copied: it would be a rank-one spike
    g = gaussian_control(w, np.random.default_rng(0))
    assert g.shape == w.shape and g.dtype == np.float64
    # 80 000 entries: the SD of the sample SD is sd / sqrt(2N) = 0.25 %; the mean's SE is 0.35 % of sd
    assert g.std() == pytest.approx(w.std(), rel=0.01)
    assert abs(g.mean()) < 0.02 * w.std()
    # its spectrum is pure MP noise: BEMA recovers the entry SD (2 % at 400 x 200) and finds no spike
    fit = analyze_spectrum(np.linalg.svd(g, compute_uv=False), 400, 200, "bema")
    assert fit.sigma == pytest.approx(w.std(), rel=0.02) and fit.s_hat <= 1  # beta = 0.1: one by chance


def test_shuffled_control_keeps_the_entries_and_destroys_the_spikes():
    w = _spiked()
    s = shuffled_control(w, np.random.default_rng(0))
    assert s.shape == w.shape and np.array_equal(np.sort(s.ravel()), np.sort(w.ravel()))
    assert not np.array_equal(s, w)
    trained = analyze_spectrum(np.linalg.svd(w, compute_uv=False), 400, 200, "bema")
    shuffled = analyze_spectrum(np.linalg.svd(s, compute_uv=False), 400, 200, "bema")
    assert trained.s_hat == 3 and shuffled.s_hat <= 1


def test_seeds_are_per_run_layer_and_control():
    w = _spiked()
    a, b = derived_controls(w, 0, "fc1"), derived_controls(w, 0, "fc1")
    assert set(a) == set(DERIVED_CONTROLS)
    assert all(np.array_equal(a[name], b[name]) for name in a)  # same seed, same numbers
    other_seed, other_layer = derived_controls(w, 1, "fc1"), derived_controls(w, 0, "fc2")
    assert not any(np.array_equal(a[name], other_seed[name]) for name in a)
    assert not any(np.array_equal(a[name], other_layer[name]) for name in a)


@pytest.mark.parametrize("method", ["bema", "gb"])
@pytest.mark.parametrize("scale", [1e-3, 7.3])
def test_ave_w_curve_is_invariant_to_the_scale_of_the_spectrum(method, scale):
    # implied: sigma(s) = gamma_{s+1} / c(q, n, beta) scales with the spectrum; fixed: sigma-hat does,
    # because BEMA and Gaussian broadening are scale-equivariant. Both curves agree to rounding (1e-10).
    sv = np.linalg.svd(_spiked(), compute_uv=False)
    one = analyze_spectrum(sv, 400, 200, method)
    scaled = analyze_spectrum(scale * sv, 400, 200, method)
    assert scaled.sigma == pytest.approx(scale * one.sigma, rel=1e-10) and scaled.s_hat == one.s_hat
    k = 40
    a = ave_w_curve(one.gammas, one.sigma, one.q, 400, k)
    b = ave_w_curve(scaled.gammas, scaled.sigma, scaled.q, 400, k)
    np.testing.assert_allclose(b.ave_w, a.ave_w, rtol=1e-10, atol=1e-12, equal_nan=True)
