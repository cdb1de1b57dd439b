"""Stage extract_spectra: the trained and initial checkpoints' spectra, and the random controls of the prune layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rmtweights import io
from rmtweights.controls import derived_controls
from rmtweights.stages.extract_spectra import extract_spectra

KEYS = dict(study="demo", dataset="synthetic", model="mlp", variant="base", seed=3)


@pytest.fixture()
def checkpoints(tmp_path):
    g = torch.Generator().manual_seed(0)
    paths = []
    for name in ("final", "init"):
        state = {"fc1.weight": torch.randn(60, 40, generator=g, dtype=torch.float64),
                 "fc1.bias": torch.zeros(60, dtype=torch.float64),
                 "fc2.weight": torch.randn(10, 60, generator=g, dtype=torch.float64)}
        path = tmp_path / f"{name}.pt"
        io.save_checkpoint({"model_state": state}, path)
        paths.append(path)
    return paths


def test_without_a_control_layer_only_the_two_checkpoints(checkpoints):
    spectra, pt = extract_spectra(*checkpoints, KEYS, reshape="spatial", porter_thomas_window=None, device=None)
    assert pt is None and set(spectra.state) == {"trained", "initial"}
    assert (spectra.seed == 3).all() and (spectra.study == "demo").all()


def test_controls_of_the_prune_layer_are_states_of_their_own(checkpoints):
    spectra, pt = extract_spectra(*checkpoints, KEYS, reshape="spatial", porter_thomas_window=5, device=None,
                                  control_layer="fc1")
    assert list(dict.fromkeys(spectra.state)) == ["trained", "initial", "gaussian", "shuffled"]
    controls = spectra[spectra.state.isin(["gaussian", "shuffled"])]
    assert set(controls.layer) == {"fc1"} and (controls.status == "ok").all()  # the prune layer only
    assert set(pt.state) == {"trained", "initial"}  # vectors are tested for the run's own weights only
    # the controls are those of rmtweights.controls at the run's seed (3): same singular values to 1e-10
    trained = io.load_checkpoint(checkpoints[0])["model_state"]["fc1.weight"].numpy()  # 60 x 40: n >= m already
    expected = derived_controls(trained, 3, "fc1")
    for state, matrix in expected.items():
        sv = np.linalg.svd(matrix, compute_uv=False)
        got = spectra[spectra.state == state].sort_values("index").sv.to_numpy()
        np.testing.assert_allclose(got, sv, rtol=1e-10)
    # shuffling keeps the Frobenius norm: the sums of squared singular values agree
    fro = (spectra[spectra.state == "trained"].query("layer == 'fc1'").sv ** 2).sum()
    assert (spectra[spectra.state == "shuffled"].sv ** 2).sum() == pytest.approx(fro, rel=1e-10)


def test_unknown_control_layer_is_named(checkpoints):
    with pytest.raises(ValueError, match="control layer \\(the prune layer\\) 'fc9'"):
        extract_spectra(*checkpoints, KEYS, reshape="spatial", porter_thomas_window=None, device=None,
                        control_layer="fc9")
