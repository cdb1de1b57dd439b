"""External models: torchvision weights from a local file and rmtweights checkpoints, no training."""

import pytest
import torch

from rmtweights import io
from rmtweights.stages.import_model import import_model


def test_torchvision_weights_from_a_local_file(tmp_path):
    from torchvision.models import alexnet

    torch.manual_seed(123)
    reference = alexnet(weights=None)
    path = tmp_path / "alexnet.pth"
    torch.save(reference.state_dict(), path)  # how torchvision ships weights: a plain state_dict
    given, initial = import_model({"torchvision": "alexnet", "weights": str(path), "seed": 0})
    for key, value in reference.state_dict().items():
        assert torch.equal(given["model_state"][key], value)
    # The initial weights are a fresh, seeded initialisation of the same architecture.
    assert not torch.equal(initial["model_state"]["features.0.weight"], reference.state_dict()["features.0.weight"])
    again = import_model({"torchvision": "alexnet", "weights": str(path), "seed": 0})[1]
    assert torch.equal(initial["model_state"]["features.0.weight"], again["model_state"]["features.0.weight"])


def test_missing_weights_without_download_is_a_clear_error():
    with pytest.raises(ValueError, match="download"):
        import_model({"torchvision": "alexnet", "weights": None}, download=False)


def test_unknown_architecture_and_bad_spec():
    with pytest.raises(ValueError, match="no classification model"):
        import_model({"torchvision": "nosuchnet", "weights": None})
    with pytest.raises(ValueError, match="exactly one"):
        import_model({"weights": "x"})


def test_rmtweights_checkpoint_round_trip(tmp_path):
    from rmtweights.checkpoint import load_trained_model
    from rmtweights.train_common import init_model

    model = init_model("mlp", {"hidden": [32, 16]}, (1, 8, 8), 10, seed=3)
    with torch.no_grad():
        model.fc1.weight.mul_(2.0)  # "trained": differs from the seed's initialisation
    state = {"model_name": "mlp", "model_kwargs": {"hidden": [32, 16]}, "input_shape": [1, 8, 8],
             "num_classes": 10, "seed": 3, "model_state": model.state_dict()}
    path = tmp_path / "final.pt"
    io.save_checkpoint(state, path)
    given, initial = import_model({"checkpoint": str(path)})
    assert torch.equal(given["model_state"]["fc1.weight"], model.fc1.weight)
    assert torch.equal(initial["model_state"]["fc1.weight"] * 2.0, model.fc1.weight)  # init of seed 3
    rebuilt = load_trained_model(given)
    assert torch.equal(rebuilt.fc1.weight, model.fc1.weight)


def test_foreign_checkpoint_is_named(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(io.CheckpointError, match="foreign.pt"):
        import_model({"checkpoint": str(path)})
