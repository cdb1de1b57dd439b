"""rmtweights.rmt.subspace: principal angles (closed forms), the overlap's random level (seeded simulation),
directions without counterpart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rmtweights.rmt.subspace import OVERLAP_COLUMNS, compare_subspaces, principal_cosines, random_overlap


def orthonormal(rng: np.random.Generator, d: int, k: int) -> np.ndarray:
    """A Haar-distributed d x k orthonormal basis (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, k)))
    return q * np.sign(np.diag(r))


def test_identical_subspaces_overlap_one_in_any_basis():
    rng = np.random.default_rng(0)
    va = orthonormal(rng, 120, 4)
    rotated = va @ orthonormal(rng, 4, 4)  # another basis of the same subspace
    result = compare_subspaces(va, rotated)
    np.testing.assert_allclose(result.cosines, 1.0, atol=1e-12)
    assert result.overlap == pytest.approx(1.0, abs=1e-12)
    assert result.new.size == 0 and result.summary()["new_directions"] == 0


@pytest.mark.parametrize("theta", [0.2, 0.7, 1.0, 1.4])
def test_rotated_directions_have_the_rotation_angle(theta):
    # V_B = cos(theta) V_A + sin(theta) W with W orthonormal and orthogonal to V_A: every principal
    # angle is theta (closed form), and each direction of B has squared cosine cos^2(theta) with A
    rng = np.random.default_rng(1)
    basis = orthonormal(rng, 80, 6)
    va, w = basis[:, :3], basis[:, 3:]
    vb = math.cos(theta) * va + math.sin(theta) * w
    result = compare_subspaces(va, vb)
    np.testing.assert_allclose(result.cosines, math.cos(theta), atol=1e-12)
    np.testing.assert_allclose(result.counterpart, math.cos(theta) ** 2, atol=1e-12)
    assert result.overlap == pytest.approx(math.cos(theta) ** 2, abs=1e-12)
    assert result.summary()["new_directions"] == (3 if math.cos(theta) ** 2 < 0.5 else 0)


def test_a_direction_added_to_the_subspace_is_new():
    rng = np.random.default_rng(2)
    basis = orthonormal(rng, 60, 5)
    va, vb = basis[:, :2], basis[:, [0, 2, 1]]  # B keeps A's two directions and adds one, second in order
    result = compare_subspaces(va, vb)
    assert result.overlap == pytest.approx(1.0, abs=1e-12)  # the smaller subspace lies in the larger
    assert result.summary()["new_index"] == "2" and result.summary()["new_directions"] == 1
    none = compare_subspaces(np.empty((60, 0)), vb)  # A without spikes: every direction of B is new
    assert math.isnan(none.overlap) and none.summary()["new_directions"] == 3
    assert set(none.summary()) == set(OVERLAP_COLUMNS)


@pytest.mark.parametrize("k_a, k_b", [(1, 1), (3, 5), (8, 8)])
def test_independent_random_subspaces_reach_the_random_level(k_a, k_b):
    # E[overlap] = max(k_a, k_b)/d exactly; 4000 draws put the sample mean within 4 standard errors
    rng = np.random.default_rng(3)
    d, draws = 200, 4000
    values = np.array([compare_subspaces(orthonormal(rng, d, k_a), orthonormal(rng, d, k_b)).overlap
                       for _ in range(draws)])
    expected = random_overlap(k_a, k_b, d)
    assert expected == max(k_a, k_b) / d
    assert abs(values.mean() - expected) < 4 * values.std(ddof=1) / math.sqrt(draws)
    # and far below the overlap of related subspaces: the level a reader compares with
    assert np.quantile(values, 0.99) < 0.25


def test_bad_bases_are_refused_by_name():
    rng = np.random.default_rng(4)
    va = orthonormal(rng, 30, 2)
    with pytest.raises(ValueError, match="vb does not have orthonormal columns"):
        principal_cosines(va, 2 * va)
    with pytest.raises(ValueError, match="length 31"):
        principal_cosines(va, orthonormal(rng, 31, 2))
    with pytest.raises(ValueError, match="new_below"):
        compare_subspaces(va, va, new_below=0.0)
    with pytest.raises(ValueError, match="do not fit"):
        random_overlap(5, 2, 4)
