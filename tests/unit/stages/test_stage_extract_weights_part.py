"""Stage extract_weights_part: a weights file analysed tensor by tensor, and its random baseline."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from safetensors.torch import save_file

from rmtweights.baselines import baseline_matrix
from rmtweights.layers import layer_matrix
from rmtweights.stages.extract_weights_part import extract_weights_part, weights_part_tables
from rmtweights.tensors import classify

MEAN, STD = 0.3, 2.0


def _state_dict() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "fc1.weight": MEAN + STD * torch.randn(30, 60, generator=g),  # 2-d: linear, 60 x 30 after orientation
        "fc1.bias": torch.randn(30, generator=g),  # 1-d: skipped
        "conv.weight": torch.randn(16, 8, 3, 3, generator=g),  # 4-d: spatial reshape (8*3) x (16*3)
        "conv1d.weight": torch.randn(20, 12, 3, generator=g),  # 3-d: Conv1d kernel, (12*3) x 20
        "index.weight": torch.arange(25, dtype=torch.int32).reshape(5, 5),  # integer: a buffer
        "num_batches_tracked": torch.tensor(7, dtype=torch.int64),  # integer scalar
    }


NAMES = list(_state_dict())
LAYERS = {"fc1.weight": "fc1", "conv.weight": "conv", "conv1d.weight": "conv1d"}


@pytest.fixture(scope="module", params=["safetensors", "pt"])
def weights_path(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / f"model.{request.param}"
    if request.param == "safetensors":
        save_file(_state_dict(), str(path))
    else:
        torch.save(_state_dict(), path)
    return str(path)


def test_rows_for_every_tensor_and_singular_values(weights_path):
    spectra, pt = weights_part_tables(weights_path, NAMES)
    trained = spectra[spectra.state == "trained"]
    baseline = spectra[spectra.state == "baseline"]
    assert set(spectra.state) == {"trained", "baseline"}  # never "initial": there are no initial weights
    expected_trained = [LAYERS.get(name, name) for name in NAMES]
    assert list(dict.fromkeys(trained.layer)) == expected_trained  # every listed tensor, in order
    assert list(dict.fromkeys(baseline.layer)) == list(LAYERS.values())  # layers only
    tensors = _state_dict()
    for name in NAMES:
        kind, reason = classify(name, tuple(tensors[name].shape), tensors[name].dtype)
        rows = trained[trained.layer == LAYERS.get(name, name)]
        if kind is None:
            assert len(rows) == 1 and rows.status.iloc[0] == "skipped" and rows.reason.iloc[0] == reason
            continue
        assert (rows.status == "ok").all() and (rows.kind == kind).all()
        matrix = layer_matrix(LAYERS[name], kind, tensors[name], "spatial").matrix
        assert (rows.n.iloc[0], rows.m.iloc[0]) == matrix.shape
        # LAPACK svdvals of the same float64 matrix; these well-conditioned matrices (s_max / s_min < 10)
        # keep even the float64 Gram path of rmtweights.spectrum at ~1e-14 relative: 1e-10 is ample
        ref = scipy.linalg.svdvals(matrix)
        np.testing.assert_allclose(rows.sort_values("index").sv, ref, rtol=1e-10)
    assert set(pt.layer) == set(LAYERS.values())  # Porter–Thomas vectors of every layer, both states
    reasons = trained.set_index("layer").reason
    assert "bias" in reasons["fc1.bias"] and "int32 buffer" in reasons["index.weight"]
    assert "int64 buffer" in reasons["num_batches_tracked"]


@pytest.mark.parametrize("baseline", ["shuffled", "gaussian"])
def test_baseline_state_is_the_chosen_baseline(weights_path, baseline):
    spectra, _ = weights_part_tables(weights_path, NAMES, seed=5, baseline=baseline)
    tensors = _state_dict()
    for name, layer in LAYERS.items():
        kind, _ = classify(name, tuple(tensors[name].shape), tensors[name].dtype)
        base = baseline_matrix(layer_matrix(layer, kind, tensors[name], "spatial"), baseline, seed=5)
        ref = scipy.linalg.svdvals(base.matrix)
        rows = spectra[(spectra.state == "baseline") & (spectra.layer == layer)].sort_values("index")
        np.testing.assert_allclose(rows.sv, ref, rtol=1e-10)


def test_stage_reads_the_spec(weights_path):
    """The rule passes the external model's spec: its seed (null: 0), baseline and tensor options."""
    spec = {"weights": weights_path, "seed": None, "baseline": "gaussian", "experts": None, "split_qkv": False,
            "split_gate_up": False}
    keys = {"study": "s", "dataset": "none", "model": "m", "variant": "weights", "seed": 0}
    spectra, _ = extract_weights_part(spec, NAMES, keys, reshape="spatial", porter_thomas_window=15, device=None)
    ref, _ = weights_part_tables(weights_path, NAMES, seed=0, baseline="gaussian")
    np.testing.assert_array_equal(spectra.sv.to_numpy(), ref.sv.to_numpy())
    assert (spectra.study == "s").all() and (spectra.seed == 0).all()


def test_baseline_does_not_depend_on_the_other_tensors_of_the_job(weights_path):
    alone, _ = weights_part_tables(weights_path, ["conv.weight"], porter_thomas_window=None)
    together, _ = weights_part_tables(weights_path, ["fc1.weight", "fc1.bias", "conv.weight"],
                                      porter_thomas_window=None)
    pick = lambda frame: frame[(frame.state == "baseline") & (frame.layer == "conv")].sv.to_numpy()  # noqa: E731
    assert pick(alone).size == 24 and np.array_equal(pick(alone), pick(together))


def test_missing_name_raises(weights_path):
    with pytest.raises(ValueError, match=r"nope\.weight"):
        weights_part_tables(weights_path, ["fc1.weight", "nope.weight"])
