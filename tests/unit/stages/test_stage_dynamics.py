"""The dynamics stages: per-snapshot analyses (analyze_snapshot, analyze_checkpoint), the table over time with
consecutive subspace overlaps (gather_dynamics), the study table (aggregate_dynamics), its figure
(plot_dynamics) and the settings record. Planted truth: a spike present from checkpoint k on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from rmtweights import io
from rmtweights.stages.aggregate_dynamics import aggregate_dynamics
from rmtweights.stages.analyze_checkpoint import analyze_checkpoint
from rmtweights.stages.analyze_snapshot import analyze_snapshot
from rmtweights.stages.gather_dynamics import gather_dynamics
from rmtweights.stages.plot_dynamics import plot_dynamics
from rmtweights.stages.record_snapshot_settings import read_settings, record_snapshot_settings

KEYS = dict(study="s", dataset="none", model="m", variant="series", seed=0)
ANALYSIS = dict(methods=["bema", "gb", "modified_mp"], alpha=0.2, a=15, beta=0.1,
                heavy_tail={"n_bootstrap": 0, "seed": 0}, reshape="spatial")
BIRTH, STEPS = 2, [0, 100, 200, 300, 400]


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """Five checkpoints of a 300 x 200 layer: a fixed base, fresh noise at each step, and from step index 2 on a
    spike of gamma = 3/sqrt(300) = 0.17 (bulk edge 0.06 x 1.8 = 0.11) along fixed directions; plus a bias and a
    10-way head (skipped with their reasons)."""
    folder = tmp_path_factory.mktemp("series")
    rng = np.random.default_rng(7)
    n, m = 300, 200
    u, v = rng.standard_normal(n), rng.standard_normal(m)
    spike = 3.0 * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    base = rng.standard_normal((n, m)) / math.sqrt(n)
    paths = []
    for index, step in enumerate(STEPS):
        w = base + 0.3 * rng.standard_normal((n, m)) / math.sqrt(n) + (spike if index >= BIRTH else 0.0)
        paths.append(folder / f"step{step}.safetensors")
        save_file({"layer.weight": torch.tensor(w, dtype=torch.float32), "layer.bias": torch.zeros(n),
                   "head.weight": torch.zeros(10, 5)}, str(paths[-1]))
    return paths


@pytest.fixture(scope="module")
def dynamics(series):
    analysed = [analyze_checkpoint(str(path), KEYS, step, ANALYSIS["methods"], include=None, exclude=None,
                                   **{k: v for k, v in ANALYSIS.items() if k != "methods"})
                for path, step in zip(series, STEPS)]
    return gather_dynamics([t for t, _ in analysed][::-1], [d for _, d in analysed][::-1], "step")  # any order


def test_a_spike_planted_from_checkpoint_k_on_is_found_from_k_on(dynamics):
    layer = dynamics[dynamics.layer == "layer"]
    for method in ("bema", "gb"):
        rows = layer[layer.method == method].sort_values("step")
        assert rows.step.tolist() == STEPS
        assert rows.s_hat.tolist() == [0] * BIRTH + [1] * (len(STEPS) - BIRTH)
        # born at k: one new direction; afterwards it persists: overlap ~1 beside a random level of 1/200
        assert rows.new_directions.tolist()[1:] == [0] * (BIRTH - 1) + [1] + [0] * (len(STEPS) - BIRTH - 1)
        after = rows[rows.step > STEPS[BIRTH]]
        assert (after.overlap > 0.95).all() and (after.overlap_random == 1 / 200).all()
        assert rows.previous.isna().iloc[0] and rows.previous.tolist()[1:] == STEPS[:-1]
    assert dynamics.test_acc.isna().all()  # no data set for an external series


def test_the_table_keeps_every_tensor_with_its_status(dynamics):
    first = dynamics[dynamics.step == 0].drop_duplicates("layer").set_index("layer")
    assert set(first.index) == {"layer", "layer.bias", "head"}
    assert first.loc["head", "status"] == "skipped" and "min_dim" in first.loc["head", "reason"]
    assert first.loc["layer.bias", "status"] == "skipped"
    assert list(dynamics.columns[:6]) == ["study", "dataset", "model", "variant", "seed", "step"]
    assert list(dynamics.columns[-2:]) == ["status", "reason"]


def test_aggregation_over_seeds_and_the_figure(dynamics):
    # two seeds: the second has one spike more at every step of `layer`
    other = dynamics.assign(seed=1, s_hat=dynamics.s_hat + 1)
    table = aggregate_dynamics(pd.concat([dynamics, other], ignore_index=True))
    rows = table[(table.layer == "layer") & (table.method == "bema")].sort_values("step")
    assert rows.s_hat_mean.tolist() == [0.5, 0.5, 1.5, 1.5, 1.5]
    assert rows.s_hat_sd.tolist() == pytest.approx([math.sqrt(0.5)] * 5)  # SD of {x, x + 1}
    assert (rows.s_hat_n == 2).all() and (rows.n_seeds == 2).all() and (rows.status == "ok").all()
    head = table[table.layer == "head"]
    assert (head.status == "skipped").all() and head.s_hat_mean.isna().all()
    fig = plot_dynamics(table, KEYS)
    gids = {artist.get_gid() for ax in fig.axes for artist in ax.get_lines() if artist.get_gid()}
    assert {"s_hat:layer:bema", "s_hat:layer:gb", "ave_w:layer:bema", "overlap:layer"} <= gids
    assert "accuracy" not in gids  # no accuracy to draw: the panel says so
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " ".join(t.get_text() for t in fig.texts)
    assert "no test accuracy" in texts and "head (10×5): skipped" in texts, texts
    with pytest.raises(ValueError, match="no rows of s/none/m/other"):
        plot_dynamics(table, {**KEYS, "variant": "other"})


def test_a_trained_snapshot_carries_its_epoch_and_accuracy(tmp_path):
    from rmtweights.checkpoint import snapshot_state

    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(64, generator=g), torch.randn(40, generator=g)
    weight = torch.randn(64, 40, generator=g) / 8 + 3 * torch.outer(u / u.norm(), v / v.norm())  # one spike
    state = {"format": "x", "model_name": "mlp", "model_kwargs": {}, "input_shape": [1, 8, 8], "num_classes": 10,
             "dataset": "syn", "n_train": 10, "seed": 3, "config": {}, "epoch": 2, "metrics": [],
             "model_state": {"fc1.weight": weight, "fc1.bias": torch.zeros(64)}}
    io.save_checkpoint(snapshot_state(state, 0.5, 0.75), tmp_path / "epoch2.pt")
    settings = record_snapshot_settings({"analysis": ANALYSIS, "weights": {"recipe": {"lr": 0.1}}})
    assert read_settings(settings) == {"analysis": ANALYSIS, "weights": {"recipe": {"lr": 0.1}}}
    keys = {**KEYS, "variant": "base", "seed": 3}
    table, directions = analyze_snapshot(tmp_path / "epoch2.pt", settings, keys, 2)
    assert set(table.epoch) == {2} and set(table.test_acc) == {0.75} and set(table.seed) == {3}
    assert set(table[table.status == "ok"].layer) == {"fc1"}  # torch module names: the bias is no layer
    assert table.s_hat.max() == 1 and directions["index"].tolist() == [1]  # the spike's direction is stored
    stored = np.asarray(directions.vector.iloc[0], dtype=float)
    assert abs(stored @ (v / v.norm()).numpy()) > 0.95  # the planted right vector (length m = 40)
    with pytest.raises(ValueError, match="holds epoch 2, not 3"):
        analyze_snapshot(tmp_path / "epoch2.pt", settings, keys, 3)


def test_spectra_tables_hand_over_the_vectors_of_its_own_decomposition():
    from rmtweights.layers import layer_matrix
    from rmtweights.spectrum import layer_spectrum
    from rmtweights.stages.spectra import spectra_tables

    g = torch.Generator().manual_seed(1)
    dense = layer_matrix("fc", "linear", torch.randn(50, 30, generator=g))
    kernel = layer_matrix("conv", "conv", torch.randn(16, 12, 3, 3, generator=g), reshape="slices")
    seen = []
    spectra, _ = spectra_tables({"trained": [dense, kernel]}, reshape="slices",
                                on_vectors=lambda state, layer, v: seen.append((state, layer, v)))
    assert [(state, layer) for state, layer, _ in seen] == [("trained", "fc")]  # slices have no vectors
    vectors = seen[0][2]
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(30), atol=1e-12)
    reference = layer_spectrum(dense.matrix, vectors=True)
    np.testing.assert_allclose(np.abs(vectors[:, 0]), np.abs(reference.right_vectors[:, 0]), atol=1e-10)
    assert set(spectra[spectra.status == "ok"].layer) == {"fc", "conv"}


def test_spectra_tables_decomposes_with_vectors_only_the_states_that_hand_them_over(monkeypatch):
    import rmtweights.stages.spectra as spectra_module
    from rmtweights.layers import layer_matrix
    from rmtweights.stages.spectra import spectra_tables

    asked = []
    real = spectra_module.layer_spectrum

    def spy(matrix, **kwargs):
        asked.append(kwargs["vectors"])
        return real(matrix, **kwargs)

    monkeypatch.setattr(spectra_module, "layer_spectrum", spy)
    g = torch.Generator().manual_seed(2)
    layers = {state: [layer_matrix("fc", "linear", torch.randn(50, 30, generator=g))] for state in ("a", "b", "c")}
    seen = []
    spectra, _ = spectra_tables(layers, on_vectors=lambda state, layer, v: seen.append(state), vector_states=["a", "c"])
    assert seen == ["a", "c"] and asked == [True, False, True]
    assert (spectra.status == "ok").all() and set(spectra.state) == {"a", "b", "c"}
