"""rmtweights.baselines: the shuffled and Gaussian baselines of a layer given without its initialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rmtweights.api import analyze_model
from rmtweights.baselines import BASELINES, baseline_layers, baseline_matrix
from rmtweights.layers import LayerMatrix, SkippedTensor


def _layer(matrix: np.ndarray, name: str = "fc") -> LayerMatrix:
    return LayerMatrix(name, "linear", matrix, matrix.shape, "spatial", False)


def test_shuffled_keeps_every_entry_and_moves_them():
    w = np.random.default_rng(0).standard_normal((60, 30)) * 2 + 0.3
    base = baseline_matrix(_layer(w), "shuffled", seed=0).matrix
    assert base.shape == w.shape and base.dtype == np.float64
    np.testing.assert_array_equal(np.sort(base.ravel()), np.sort(w.ravel()))  # the same multiset of entries
    assert (base != w).mean() > 0.99  # a permutation of 1800 entries leaves ~1 in place


def test_gaussian_moments_and_seeding():
    w = np.random.default_rng(1).standard_normal((60, 30)) * 2.0 + 0.3
    base = baseline_matrix(_layer(w), "gaussian", seed=0).matrix
    count, mu, sd = w.size, w.mean(), w.std()
    # CLT: the sample mean of `count` i.i.d. N(mu, sd^2) values has SE sd/sqrt(count); the sample SD has
    # SE about sd/sqrt(2 count). 5 SE: a seeded draw outside it would have probability < 1e-6.
    assert abs(base.mean() - mu) < 5 * sd / math.sqrt(count)
    assert abs(base.std() - sd) < 5 * sd / math.sqrt(2 * count)


@pytest.mark.parametrize("baseline", BASELINES)
def test_seeded_by_seed_and_name(baseline):
    w = np.random.default_rng(2).standard_normal((20, 10))
    base = baseline_matrix(_layer(w), baseline, seed=0).matrix
    np.testing.assert_array_equal(base, baseline_matrix(_layer(w.copy()), baseline, seed=0).matrix)
    assert not np.array_equal(base, baseline_matrix(_layer(w), baseline, seed=1).matrix)
    assert not np.array_equal(base, baseline_matrix(_layer(w, "other"), baseline, seed=0).matrix)


def test_skipped_tensors_have_no_baseline_and_bad_names_are_refused():
    layers = [SkippedTensor("b", (3,), "1-d"), _layer(np.ones((12, 11)))]
    assert [layer.name for layer in baseline_layers(layers)] == ["fc"]
    with pytest.raises(ValueError, match="shuffled, gaussian"):
        baseline_matrix(_layer(np.ones((3, 3))), "uniform")


def test_heavy_tailed_noise_is_not_mistaken_for_signal():
    """i.i.d. Student-t(2.5) entries, no structure at all (issue 19's measurement): the matrix itself shows
    tens of singular values above gamma_+ (its largest entries, not learned signal, make them: for a tail
    exponent below 4 the top singular values follow the largest |entries|). A permutation of the entries
    keeps those entries, so the shuffled baseline shows about as many; the Gaussian baseline follows the MP
    law and shows ~0 (beta = 0.1: one value above gamma_+ in about one matrix in ten). Seeded: measured 17
    (matrix), 18 (shuffled), 0 (Gaussian); the bounds leave room for another BLAS's rounding."""
    w = np.random.default_rng(0).standard_t(2.5, size=(600, 300))
    counts = {}
    for baseline in BASELINES:
        table = analyze_model({"w.weight": torch.from_numpy(w)}, methods=["bema"], n_bootstrap=0, baseline=baseline)
        counts["matrix"] = int(table[table.state == "trained"].s_hat.iloc[0])
        counts[baseline] = int(table[table.state == "baseline"].s_hat.iloc[0])
    assert counts["matrix"] >= 10
    assert abs(counts["shuffled"] - counts["matrix"]) <= 0.4 * counts["matrix"], counts
    assert counts["gaussian"] <= 1, counts
