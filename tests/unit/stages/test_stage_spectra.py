"""Stage extract_spectra: singular values per layer and state, skip rules, pooled slices, Porter–Thomas in the same pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rmtweights.layers import LayerMatrix, SkippedTensor, layer_matrices
from rmtweights.rmt.porter_thomas import porter_thomas
from rmtweights.stages.spectra import PORTER_THOMAS_COLUMNS, SPECTRA_COLUMNS, spectra_tables


def test_spectra_values_skip_rules_and_columns():
    rng = np.random.default_rng(0)
    n, m = 40, 25
    u, _ = np.linalg.qr(rng.standard_normal((n, m)))
    v, _ = np.linalg.qr(rng.standard_normal((m, m)))
    s = np.linspace(3.0, 0.5, m)  # known singular values
    w = u @ np.diag(s) @ v.T
    head = rng.standard_normal((10, 40))  # a 10-way head: m = 10
    layers = [
        LayerMatrix("fc1", "linear", w, (n, m), "spatial", False),
        LayerMatrix("fc2", "linear", head.T, (10, 40), "spatial", True),
        LayerMatrix("fc3", "linear", np.zeros((30, 20)), (30, 20), "spatial", False),
        LayerMatrix("fc4", "linear", np.full((30, 20), np.nan), (30, 20), "spatial", False),
    ]
    frame, pt = spectra_tables({"trained": layers})
    assert tuple(frame.columns) == SPECTRA_COLUMNS and pt is None
    assert (frame.state == "trained").all() and (frame["shape"][frame.layer == "fc1"] == "40x25").all()
    ok = frame[frame.layer == "fc1"]
    assert (ok.status == "ok").all() and (ok.reason == "").all()
    # the decomposition recovers the constructed singular values (float64 Gram path: ~1e-15 relative
    # for values of order 1, rmtweights.spectrum; 1e-12 is ample)
    np.testing.assert_allclose(ok.sv.to_numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(ok.gamma.to_numpy(), s / np.sqrt(n), rtol=1e-12)  # gamma = sv / sqrt(n)
    assert ok["index"].tolist() == list(range(m)) and (ok.q == m / n).all() and (ok.n == n).all()
    rows = {r.layer: r for r in frame[frame.layer != "fc1"].itertuples()}
    assert set(rows) == {"fc2", "fc3", "fc4"}  # one row each, never silence
    assert rows["fc2"].status == "skipped" and rows["fc2"].reason.startswith("m=10 <= min_dim=10")
    assert rows["fc3"].status == "skipped" and "all-zero" in rows["fc3"].reason
    assert rows["fc4"].status == "failed" and "NaN" in rows["fc4"].reason
    assert all(np.isnan(r.sv) and np.isnan(r.gamma) and pd.isna(r.index) for r in rows.values())
    assert str(frame["index"].dtype) == "Int64" and frame.n.dtype == np.int64
    # min_dim=5 analyses the head
    assert (spectra_tables({"trained": layers[1:2]}, min_dim=5)[0].status == "ok").all()


def test_spectra_pool_slices():
    k = np.random.default_rng(1).standard_normal((16, 12, 3, 3))
    (lm,) = layer_matrices({"conv1.weight": torch.from_numpy(k)}, "slices")
    frame, _ = spectra_tables({"trained": [lm]}, reshape="slices")
    assert len(frame) == 9 * 12 and (frame.n == 16).all() and (frame.m == 12).all()
    expected = np.sort(np.concatenate([np.linalg.svd(k[:, :, i, j], compute_uv=False)
                                       for i in range(3) for j in range(3)]))[::-1]
    np.testing.assert_allclose(frame.sv.to_numpy(), expected, rtol=1e-12)
    assert (frame.reshape == "slices").all() and (frame.kind == "conv").all()


def test_states_skipped_tensors_porter_thomas_and_progress():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((120, 60))
    layers = {"trained": [LayerMatrix("fc1", "linear", w, (60, 120), "spatial", True),
                          SkippedTensor("fc1.bias", (60,), "1-d tensor (a bias or a normalisation scale): not a matrix")],
              "initial": iter([LayerMatrix("fc1", "linear", w[::-1].copy(), (60, 120), "spatial", True)])}
    lines = []
    frame, pt = spectra_tables(layers, porter_thomas_window=15, log=lines.append)
    assert frame.groupby("state").layer.unique().map(list).to_dict() == {"initial": ["fc1"], "trained": ["fc1", "fc1.bias"]}
    bias = frame[frame.layer == "fc1.bias"].iloc[0]
    assert bias.status == "skipped" and "bias" in bias.reason and bias["shape"] == "60" and bias.n == 0
    # one Porter-Thomas row per right singular vector, equal to the test run on an SVD's vectors
    assert tuple(pt.columns) == PORTER_THOMAS_COLUMNS and len(pt) == 2 * 60
    _, _, vt = np.linalg.svd(w, full_matrices=False)
    ref = porter_thomas(vt.T, window=15)
    mine = pt[pt.state == "trained"].reset_index(drop=True)
    # vectors agree with gesdd's to ~1e-12 up to sign (rmtweights.spectrum); KS distances to 1e-8
    np.testing.assert_allclose(mine.ks_stat, ref.ks_stat, atol=1e-8)
    # one line per decomposed layer: count, state, name, shape in words, status (path)
    assert len(lines) == 2 and lines[0].startswith("1 trained fc1 60×120 matrix: ok (")
    lines = []
    spectra_tables(layers | {"initial": []}, log=lines.append, totals={"trained": 1})
    assert lines[0].startswith("1/1 trained fc1 60×120 matrix: ok (") and "left" not in lines[0]


def test_stack_of_slices_has_no_vectors():
    k = torch.from_numpy(np.random.default_rng(1).standard_normal((16, 12, 3, 3)))
    (lm,) = layer_matrices({"conv1.weight": k}, "slices")
    with pytest.raises(ValueError, match="slices"):
        spectra_tables({"trained": [lm]}, reshape="slices", porter_thomas_window=15)


def test_large_layers_take_the_device_path_with_the_same_numbers():
    """The GPU code path (torch), run here on the CPU by naming a torch device: same values as the CPU path
    to 1e-8 s_max (both are float64 Gram eigenvalues, rmtweights.spectrum); small layers stay on the CPU path."""
    rng = np.random.default_rng(5)
    big = LayerMatrix("big", "linear", rng.standard_normal((1100, 1000)), (1000, 1100), "spatial", True)
    small = LayerMatrix("small", "linear", rng.standard_normal((60, 40)), (40, 60), "spatial", True)
    lines = []
    on_device, _ = spectra_tables({"trained": [big, small]}, device=torch.device("cpu"), log=lines.append)
    on_cpu, _ = spectra_tables({"trained": [big, small]})
    assert "torch-cpu" in lines[0] and "gram-eigh-f64" in lines[1]
    s_max = on_cpu.sv.max()
    np.testing.assert_allclose(on_device.sv, on_cpu.sv, rtol=0, atol=1e-8 * s_max)
