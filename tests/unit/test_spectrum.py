"""rmtweights.spectrum.singular_values against float64 LAPACK gesdd (scipy.linalg.svd).

Tolerances. The reference (float64 gesdd) is itself off by at most its backward error
``E_ref = max(n, m) * eps * s_max`` per singular value (the numpy.linalg.matrix_rank rule). The Gram
path promises ``|s_hat - s| <= min(P, P**2 / s)`` with ``P = Spectrum.path_tolerance`` (Weyl's
inequality on the float64 Gram matrix; module docstring), so every comparison below asserts

* the project-wide requirement ``|s_hat - s_ref| <= 1e-5 * s_max`` and
* the much tighter path bound ``|s_hat - s_ref| <= min(P, P**2 / s_ref) + E_ref`` (for the largest
  values this is ~1e-12 relative; for values near zero it is P ~ 1e-7 .. 1e-6 s_max here).

A failure of the second means the documented error bound is wrong, not just loose.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.linalg
import torch

from rmtweights import spectrum as spectrum_module
from rmtweights.spectrum import Spectrum, check_matrix, singular_values

EPS = np.finfo(np.float64).eps
REQUIRED = 1e-5  # every singular value within 1e-5 x s_max of float64 gesdd


def _tall(a: np.ndarray) -> np.ndarray:
    return a if a.shape[0] >= a.shape[1] else a.T


def _reference(matrix: np.ndarray, vectors: bool = False):
    """float64 gesdd of the (tall) matrix: values, or (values, right vectors as columns)."""
    a = np.asarray(_tall(matrix), dtype=np.float64)
    if not vectors:
        return scipy.linalg.svd(a, compute_uv=False, lapack_driver="gesdd")
    _, s, vt = scipy.linalg.svd(a, full_matrices=False, lapack_driver="gesdd")
    return s, vt.T


def _assert_close_to_reference(spec: Spectrum, ref: np.ndarray) -> None:
    """Both the 1e-5 x s_max requirement and the path's own bound (module docstring of the tests)."""
    n, m = spec.n, spec.m
    s_max = ref[0]
    err = np.abs(spec.sv - ref)
    assert err.max() <= REQUIRED * s_max, f"max error {err.max() / s_max:.2e} x s_max"
    p = spec.path_tolerance
    with np.errstate(divide="ignore"):
        bound = np.minimum(p, p**2 / ref) + max(n, m) * EPS * s_max
    worst = int(np.argmax(err / bound))
    assert np.all(err <= bound), (f"sv[{worst}]={ref[worst]:.3e}: error {err[worst]:.2e} above the "
                                  f"path bound {bound[worst]:.2e} (P={p:.2e})")


def _gaussian(n: int, m: int, seed: int, dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, m)) / math.sqrt(max(n, m))).astype(dtype)


def _low_rank(n: int, m: int, r: int, seed: int, flat: bool = False) -> np.ndarray:
    """Exact rank r (float64): a product of Gaussian factors, or (flat) of orthonormal ones."""
    rng = np.random.default_rng(seed)
    left, right = rng.standard_normal((n, r)), rng.standard_normal((r, m))
    if flat:  # r equal singular values 1: the largest ||A||_F for a given s_max
        left, right = np.linalg.qr(left)[0], np.linalg.qr(right.T)[0].T
    return left @ right


# ------------------------------------------------------------------------------- accuracy of sv
@pytest.mark.parametrize("shape", [(200, 200), (100, 400), (400, 100), (3000, 40)],
                         ids=["square", "1:4", "4:1", "tall"])
def test_gaussian_shapes_match_gesdd(shape):
    w = _gaussian(*shape, seed=sum(shape))
    spec = singular_values(w)
    n, m = max(shape), min(shape)
    assert (spec.n, spec.m, spec.method) == (n, m, "gram-eigh-f64")
    assert spec.sv.dtype == np.float64 and spec.sv.shape == (m,)
    assert np.all(np.diff(spec.sv) <= 0) and spec.sv[-1] >= 0
    assert spec.right_vectors is None
    _assert_close_to_reference(spec, _reference(w))
    # the path bound itself guarantees the 1e-5 requirement at these sizes
    assert spec.path_tolerance <= REQUIRED * spec.sv[0]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_low_precision_inputs_match_gesdd_of_the_same_rounded_matrix(dtype):
    w64 = _gaussian(300, 120, seed=3)
    if dtype == "bfloat16":  # numpy has no bfloat16: a torch tensor, rounded once
        matrix = torch.from_numpy(w64).to(torch.bfloat16)
        rounded = matrix.to(torch.float64).numpy()
    else:
        matrix = w64.astype(dtype)
        rounded = matrix.astype(np.float64)
    spec = singular_values(matrix)
    _assert_close_to_reference(spec, _reference(rounded))
    # the data floor grows with the input's unit roundoff (float32 < float16 < bfloat16)
    assert spec.rank_tolerance > spec.path_tolerance


def test_layout_and_input_orientation_do_not_matter():
    w = _gaussian(250, 90, seed=5)
    base = singular_values(w).sv
    # same singular values: Fortran order, the wide transpose (a view and a copy), reversed rows
    for variant in (np.asfortranarray(w), w.T, np.ascontiguousarray(w.T), w[::-1]):
        np.testing.assert_allclose(singular_values(variant).sv, base, rtol=0, atol=1e-12 * base[0])
    strided = w[:, ::2]  # a non-contiguous view is accepted as it is
    _assert_close_to_reference(singular_values(strided), _reference(strided))


def test_input_is_not_modified():
    w = _gaussian(120, 80, seed=6)
    before = w.copy()
    singular_values(w, vectors=True)
    singular_values(w.T)
    np.testing.assert_array_equal(w, before)


def test_ill_conditioned_singular_values_from_1_to_1e_minus_12():
    rng = np.random.default_rng(7)
    n, m = 400, 250
    u = np.linalg.qr(rng.standard_normal((n, m)))[0]
    v = np.linalg.qr(rng.standard_normal((m, m)))[0]
    s = np.logspace(0, -12, m)
    w = (u * s) @ v.T
    spec = singular_values(w)
    ref = _reference(w)
    _assert_close_to_reference(spec, ref)
    # values well above the path floor are relatively accurate (P^2/s relative P^2/s^2 <= 1e-4)
    big = ref >= 100 * spec.path_tolerance
    assert big.sum() > m // 3
    np.testing.assert_allclose(spec.sv[big], ref[big], rtol=1e-4)


@pytest.mark.parametrize("flat", [False, True], ids=["gaussian-factors", "orthonormal-factors"])
@pytest.mark.parametrize("shape, r", [((300, 300), 100), ((600, 150), 120), ((150, 600), 7), ((40, 30), 3)])
def test_rank_deficient_tail_is_below_rank_tolerance(shape, r, flat):
    w = _low_rank(*shape, r, seed=r, flat=flat)
    spec = singular_values(w)
    ref = _reference(w)
    # exact rank r: the m - r smallest are rounding noise at or below the tolerance ...
    assert np.all(spec.sv[r:] <= spec.rank_tolerance)
    # ... the r largest are accurate and clearly above it, so the rank is recovered
    _assert_close_to_reference(spec, ref)
    assert spec.sv[r - 1] > 100 * spec.rank_tolerance
    assert int(np.count_nonzero(spec.sv > spec.rank_tolerance)) == r


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_data_floor_covers_the_rounding_of_a_low_rank_matrix(dtype):
    # A rank-20 matrix stored in a coarse dtype is no longer rank 20: the rounding error E lifts the
    # tail to about rms(E) (sqrt n + sqrt m). rank_tolerance (path + data floor) must cover that
    # tail, computed exactly (gesdd of the same rounded matrix).
    w = _low_rank(240, 160, 20, seed=11)
    t = torch.from_numpy(w).to(getattr(torch, dtype))
    rounded = t.to(torch.float64).numpy()
    spec = singular_values(t)
    ref = _reference(rounded)
    assert np.all(ref[20:] <= spec.rank_tolerance)
    assert np.all(spec.sv[20:] <= spec.rank_tolerance)
    assert ref[19] > 10 * spec.rank_tolerance  # the signal stays above it
    if dtype != "float32":  # for coarse data the data floor, not the path floor, is what matters
        assert ref[20:].max() > spec.path_tolerance


def test_zero_matrix():
    spec = singular_values(np.zeros((30, 20), dtype=np.float32))
    np.testing.assert_array_equal(spec.sv, np.zeros(20))
    assert spec.rank_tolerance == 0.0 and np.all(spec.sv <= spec.rank_tolerance)


@pytest.mark.parametrize("scale", [1e250, 1e-250, 2.0**-1070 * 2**30])
def test_extreme_magnitudes_are_rescaled_exactly(scale):
    # A^T A would overflow (1e250) or underflow (1e-250, subnormal entries) in float64; the matrix is
    # rescaled by a power of two, so the singular values are those of the base matrix times scale.
    base = _gaussian(60, 40, seed=12)
    w = base * scale
    ref = _reference(base) * scale if scale < 1e-300 else _reference(w)
    for device in (None, "cpu"):
        spec = singular_values(w, device=device)
        rel = 1e-10 if scale > 1e-300 else 1e-6  # subnormal inputs keep only ~30 bits
        np.testing.assert_allclose(spec.sv, ref, rtol=0, atol=rel * ref[0])
        assert spec.rank_tolerance < 1e-5 * spec.sv[0]


def test_integer_input_is_exact_values():
    w = np.random.default_rng(13).integers(-5, 6, size=(50, 30))
    spec = singular_values(w)
    _assert_close_to_reference(spec, _reference(w.astype(float)))


def test_planted_spikes_are_accurate_to_float64_precision():
    rng = np.random.default_rng(14)
    n, m = 500, 200
    noise = rng.standard_normal((n, m)) / math.sqrt(n)
    u = np.linalg.qr(rng.standard_normal((n, 4)))[0]
    v = np.linalg.qr(rng.standard_normal((m, 4)))[0]
    w = (noise + (u * np.array([6.0, 4.0, 3.0, 2.5])) @ v.T).astype(np.float32)
    spec = singular_values(w, vectors=True)
    ref, ref_v = _reference(w, vectors=True)
    _assert_close_to_reference(spec, ref)
    # spikes: relative error <= P^2/s^2 + E_ref/s (~1e-13)
    np.testing.assert_allclose(spec.sv[:4], ref[:4], rtol=1e-12)
    overlap = np.abs(np.sum(spec.right_vectors[:, :4] * ref_v[:, :4], axis=0))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-12)


# ------------------------------------------------------------------------------- right vectors
@pytest.mark.parametrize("shape", [(300, 300), (480, 120), (120, 480)])
def test_right_vectors(shape):
    w = _gaussian(*shape, seed=20 + shape[0], dtype=np.float32)
    spec = singular_values(w, vectors=True)
    a = np.asarray(_tall(w), dtype=np.float64)  # for a wide input: the vectors of W^T
    v = spec.right_vectors
    m = spec.m
    assert v.shape == (m, m) and v.dtype == np.float64
    np.testing.assert_allclose(v.T @ v, np.eye(m), rtol=0, atol=1e-8)  # orthonormal
    top = spec.sv > 1e-3 * spec.sv[0]
    np.testing.assert_allclose(np.linalg.norm(a @ v[:, top], axis=0), spec.sv[top], rtol=1e-6)
    # agreement with gesdd's vectors (signs are arbitrary: compare |v|). Davis-Kahan: the angle is
    # <= dlambda / gap_i with dlambda = P^2; for a relative gap > 1e-3, P^2/gap <= 1e3 (P/s_max)^2,
    # ~1e-9 here, so 1e-8 entrywise is a safe bound that a wrong vector would break.
    ref, ref_v = _reference(w, vectors=True)
    lam = ref**2
    gaps = np.array([np.min(np.abs(np.delete(lam, i) - lam[i])) for i in range(m)]) / lam[0]
    separated = gaps > 1e-3
    assert separated.sum() >= 5
    assert 1e3 * (spec.path_tolerance / spec.sv[0]) ** 2 < 1e-8
    diff = np.abs(np.abs(v[:, separated]) - np.abs(ref_v[:, separated]))
    assert diff.max() <= 1e-8
    # the values are the same as without vectors
    np.testing.assert_allclose(spec.sv, singular_values(w).sv, rtol=0, atol=1e-12 * spec.sv[0])


def test_spectrum_is_frozen_and_read_only():
    spec = singular_values(_gaussian(20, 10, seed=1), vectors=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.method = "x"
    with pytest.raises(ValueError):
        spec.sv[0] = 1.0
    with pytest.raises(ValueError):
        spec.right_vectors[0, 0] = 1.0


# ------------------------------------------------------------------------------- torch path
@pytest.mark.parametrize("shape", [(200, 200), (300, 75), (75, 300)])
def test_torch_path_on_cpu_agrees_with_numpy_path(shape, one_thread):
    w = _gaussian(*shape, seed=30, dtype=np.float32)
    ref = singular_values(w, vectors=True)
    for matrix in (w, torch.from_numpy(w)):
        got = singular_values(matrix, vectors=True, device="cpu")
        assert got.method == "torch-cpu-gram-f64" and (got.n, got.m) == (ref.n, ref.m)
        np.testing.assert_allclose(got.sv, ref.sv, rtol=0, atol=1e-8 * ref.sv[0])
        assert got.path_tolerance == pytest.approx(ref.path_tolerance, rel=1e-8)
        assert got.rank_tolerance == pytest.approx(ref.rank_tolerance, rel=1e-8)
        np.testing.assert_allclose(np.abs(got.right_vectors[:, :5]), np.abs(ref.right_vectors[:, :5]),
                                   rtol=0, atol=1e-8)
        _assert_close_to_reference(got, _reference(w))


def test_torch_path_bfloat16_and_bad_input(one_thread):
    t = torch.from_numpy(_gaussian(80, 40, seed=31)).to(torch.bfloat16)
    got = singular_values(t, device=torch.device("cpu"))
    np.testing.assert_allclose(got.sv, singular_values(t).sv, rtol=0, atol=1e-8 * got.sv[0])
    bad = t.clone()
    bad[3, 4] = float("nan")
    with pytest.raises(ValueError, match="NaN/Inf"):
        singular_values(bad, device="cpu")


def test_auto_device_without_cuda_uses_the_numpy_path(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert singular_values(_gaussian(20, 10, seed=2), device="auto").method == "gram-eigh-f64"


# ------------------------------------------------------------------------------- fallback
def test_eigensolver_failure_falls_back_to_gesdd(monkeypatch):
    def broken(g, vectors):
        raise np.linalg.LinAlgError("simulated non-convergence")

    monkeypatch.setattr(spectrum_module, "_eigh", broken)
    w = _gaussian(90, 60, seed=40)
    spec = singular_values(w, vectors=True)
    ref, ref_v = _reference(w, vectors=True)
    assert spec.method == "gesdd-f64"
    np.testing.assert_allclose(spec.sv, ref, rtol=1e-13)
    np.testing.assert_allclose(np.abs(spec.right_vectors), np.abs(ref_v), atol=1e-10)
    assert spec.path_tolerance == pytest.approx(90 * EPS * ref[0])


# ------------------------------------------------------------------------------- bad input
_NAN_F32 = np.ones((4, 3), dtype=np.float32)
_NAN_F32[1, 2] = np.nan
_INF_F16 = np.ones((3, 5), dtype=np.float16)
_INF_F16[0, 0] = -np.inf
_INF_F64 = np.eye(4)
_INF_F64[2, 1] = np.inf


@pytest.mark.parametrize("matrix, reason", [
    (np.ones(5), "not a 2-d matrix"),
    (np.ones((2, 3, 4)), "not a 2-d matrix"),
    (np.ones((0, 4)), "empty matrix"),
    (np.ones((3, 0), dtype=np.float32), "empty matrix"),
    (np.ones((3, 3), dtype=complex), "complex"),
    (torch.ones(3, 3, dtype=torch.complex64), "complex"),
    (np.array([["a", "b"], ["c", "d"]]), "not a real numeric"),
    (_NAN_F32, "1 NaN/Inf entry"),
    (_INF_F16, "1 NaN/Inf entry"),
    (_INF_F64, "1 NaN/Inf entry"),
    (torch.full((3, 2), float("inf")), "6 NaN/Inf entries"),
])
def test_bad_input_raises_value_error_naming_the_problem(matrix, reason):
    assert reason in check_matrix(matrix)
    with pytest.raises(ValueError, match=reason):
        singular_values(matrix)
    with pytest.raises(ValueError, match=reason):
        singular_values(matrix, device="cpu")


def test_check_matrix_accepts_good_input_and_options_are_checked():
    assert check_matrix(np.ones((3, 2), dtype=np.float16)) is None
    assert check_matrix(torch.ones(2, 5, dtype=torch.bfloat16)) is None
    with pytest.raises(ValueError, match="device"):
        singular_values(np.eye(3), device="no-such-device")
    with pytest.raises(ValueError, match="vectors"):
        singular_values(np.eye(3), vectors="yes")
