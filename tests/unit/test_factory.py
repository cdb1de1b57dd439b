"""Models of your own (rmtweights.factory): a file or module reference, seeded initialisation, checks with
messages that name the factory, the code fingerprint, and checkpoints that rebuild the model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rmtweights import factory, io
from rmtweights.checkpoint import load_trained_model
from rmtweights.data import load_dataset
from rmtweights.models import build_model
from rmtweights.train import train_model
from rmtweights.train_common import TrainConfig, init_model

NET = '''
"""A small network of your own (a docstring: not part of the fingerprint)."""
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, input_shape, num_classes, width):
        super().__init__()
        c, h, w = input_shape
        self.block = nn.Sequential()
        self.block.add_module("fc", nn.Linear(c * h * w, width))
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        h = torch.relu(self.block.fc(x.flatten(1)))
        return self.head(h + h.mean())  # not a plain sequence of layers


def build(input_shape, num_classes, width=12):
    return Net(input_shape, num_classes, width)


def not_a_module(input_shape, num_classes):
    return "a string"


def wrong_output(input_shape, num_classes):
    return nn.Flatten()
'''

SHAPE, CLASSES = (1, 8, 8), 10


@pytest.fixture
def net(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET)
    return f"{path}:build"


def _build(reference, seed, **options):
    spec = {"factory": reference, "kwargs": {}, "init": "own", "code": None, **options}
    return init_model(factory.FACTORY, spec, SHAPE, CLASSES, seed)


def _same(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_split_reference_names_a_file_or_a_module():
    assert factory.split_reference("models/mynet.py:build") == ("models/mynet.py", "build")
    assert factory.split_reference("pkg.nets:make_net") == ("pkg.nets", "make_net")
    for bad in ("mynet.py", ":build", "mynet.py:2build"):
        with pytest.raises(factory.FactoryError, match="expected 'path/to/file.py:function'"):
            factory.split_reference(bad)


def test_own_initialisation_follows_the_seed_and_leaves_the_callers_rng_alone(net):
    before = torch.get_rng_state()
    a, b, c = _build(net, 3), _build(net, 3), _build(net, 4)
    assert torch.equal(torch.get_rng_state(), before)
    assert _same(a, b) and not _same(a, c)
    # "own": torch's default Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases included
    bound = 1 / math.sqrt(64)
    assert a.block.fc.weight.abs().max() <= bound and a.block.fc.bias.abs().max() > 0


def test_glorot_initialisation_redraws_linear_weights_and_zeroes_biases(net):
    model = _build(net, 3, init="glorot")
    bound = math.sqrt(6 / (64 + 12))  # eq. (16) of Glorot & Bengio (2010): fan_in 64, fan_out 12
    weight = model.block.fc.weight
    assert weight.abs().max() <= bound and weight.abs().max() > 0.9 * bound
    assert torch.count_nonzero(model.block.fc.bias) == 0
    assert _same(model, _build(net, 3, init="glorot")) and not _same(model, _build(net, 3))


def test_an_importable_module_is_a_factory_too(tmp_path, monkeypatch):
    package = tmp_path / "mypackage"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(NET)
    monkeypatch.syspath_prepend(str(tmp_path))
    model = build_model(factory.FACTORY, SHAPE, CLASSES, factory="mypackage.nets:build", kwargs={"width": 5})
    assert model.head.in_features == 5
    assert factory.factory_file("mypackage.nets:build") == package / "nets.py"
    assert factory.factory_fingerprint("mypackage.nets:build") == factory.factory_fingerprint(f"{package / 'nets.py'}:b")


@pytest.mark.parametrize("reference,kwargs,needle", [
    ("{dir}/missing.py:build", {}, "no file"),
    ("no_such_package_xyz.nets:build", {}, "cannot import"),
    ("{dir}/net.py:make", {}, "defines no function 'make' (functions: build, not_a_module, wrong_output)"),
    ("{dir}/net.py:not_a_module", {}, "returned a str, not a torch.nn.Module"),
    ("{dir}/net.py:wrong_output", {}, "gives output (1, 64); expected logits of shape (1, 10)"),
    ("{dir}/net.py:build", {"depth": 3}, "unexpected keyword argument 'depth'"),
])
def test_a_bad_factory_stops_with_a_message_naming_it(tmp_path, net, reference, kwargs, needle):
    reference = reference.format(dir=tmp_path)
    with pytest.raises(factory.FactoryError) as err:
        build_model(factory.FACTORY, SHAPE, CLASSES, factory=reference, kwargs=kwargs)
    assert needle in str(err.value) and reference in str(err.value), str(err.value)


def test_the_fingerprint_ignores_comments_and_docstrings_and_sees_code(tmp_path, net):
    path = tmp_path / "net.py"
    first = factory.factory_fingerprint(net)
    path.write_text(NET.replace("(a docstring: not part", "(edited: not part") + "\n# a comment\n")
    assert factory.factory_fingerprint(net) == first
    path.write_text(NET.replace("width=12", "width=13"))
    assert factory.factory_fingerprint(net) != first


def test_a_checkpoint_rebuilds_the_factory_model_and_refuses_an_edited_file(tmp_path, net):
    data = load_dataset("synthetic", synthetic={"n_train": 200, "n_test": 100, "size": 8, "signal": 1.0}, seed=0)
    spec = {"factory": net, "kwargs": {"width": 12}, "init": "own", "code": factory.factory_fingerprint(net)}
    train_model(factory.FACTORY, spec, data, TrainConfig(epochs=1, batch_size=50, lr=0.05), 0, tmp_path / "run",
                device="cpu", log=None)
    final = io.load_checkpoint(tmp_path / "run" / "final.pt")
    assert final["model_name"] == "factory" and final["model_kwargs"] == spec
    model = load_trained_model(final)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in final["model_state"].items())
    (tmp_path / "net.py").write_text(NET.replace("h.mean()", "h.max()"))  # another network under the same name
    with pytest.raises(factory.FactoryError, match="changed since this model was planned or trained"):
        load_trained_model(final)
