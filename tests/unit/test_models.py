"""Tests of rmtweights.models: shapes, hand-computed parameter counts, names, Glorot init."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rmtweights.layers import layer_matrices
from rmtweights.models import MODELS, build_model, glorot_init_

MNIST, FASHION, CIFAR = (1, 28, 28), (1, 28, 28), (3, 32, 32)
SHAPES = {"mnist": MNIST, "fashion_mnist": FASHION, "cifar10": CIFAR}
SPIKE_N = 200  # first N of the sweep of App. A of paper 003 (small: fast)


def lin(n_in: int, n_out: int) -> int:
    """Parameters of Linear(n_in, n_out): weights plus biases."""
    return n_in * n_out + n_out


def conv(c: int, d: int, k: int) -> int:
    """Parameters of Conv2d(c, d, k x k): weights plus biases."""
    return c * d * k * k + d


def expected_params(name: str, shape: tuple[int, int, int]) -> int:
    """Parameter counts written out from the architectures (papers 000 App. C, 001 App. A, 003 App. A)."""
    c, h, _ = shape
    n_in = math.prod(shape)
    if name in ("mlp", "mlp1024"):  # in -> 1024 -> 512 -> 512 -> 10
        return lin(n_in, 1024) + lin(1024, 512) + lin(512, 512) + lin(512, 10)
    if name == "mlp512":  # in -> 512 -> 512 -> 512 -> 10
        return lin(n_in, 512) + 2 * lin(512, 512) + lin(512, 10)
    if name == "spike_mlp":  # 784 x N, N x N, N x 10
        return lin(n_in, SPIKE_N) + lin(SPIKE_N, SPIKE_N) + lin(SPIKE_N, 10)
    if name == "lenet":  # 28 -> 24 -> 12 -> 8 -> 4 ; 32 -> 28 -> 14 -> 10 -> 5 (no padding)
        s = {28: 4, 32: 5}[h]
        return conv(c, 6, 5) + conv(6, 16, 5) + lin(16 * s * s, 120) + lin(120, 84) + lin(84, 10)
    if name == "alexnet":  # same padding, pools after conv1, conv2, conv5: 28 -> 14 -> 7 -> 3 ; 32 -> 4
        s = {28: 3, 32: 4}[h]
        return (conv(c, 96, 3) + conv(96, 256, 3) + conv(256, 384, 3) + conv(384, 384, 3)
                + conv(384, 256, 3) + lin(256 * s * s, 1024) + lin(1024, 512) + lin(512, 10))
    if name == "minialexnet":  # same conv, pool 3/2 "same": 28 -> 14 -> 7 ; 32 -> 16 -> 8
        s = {28: 7, 32: 8}[h]
        return conv(c, 64, 5) + conv(64, 64, 5) + lin(64 * s * s, 384) + lin(384, 192) + lin(192, 10)
    raise AssertionError(name)


_CACHE: dict[tuple[str, tuple[int, int, int]], nn.Sequential] = {}


def model_for(name: str, shape: tuple[int, int, int]) -> nn.Sequential:
    """Build each (model, shape) once per session (MNIST and Fashion-MNIST share a shape)."""
    key = (name, shape)
    if key not in _CACHE:
        kwargs = {"width": SPIKE_N} if name == "spike_mlp" else {}
        _CACHE[key] = build_model(name, shape, generator=torch.Generator().manual_seed(0), **kwargs)
    return _CACHE[key]


@pytest.mark.parametrize("dataset", sorted(SHAPES))
@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_and_parameter_count(name, dataset):
    shape = SHAPES[dataset]
    model = model_for(name, shape)
    assert isinstance(model, nn.Sequential)
    with torch.no_grad():
        out = model(torch.zeros(3, *shape))
    assert out.shape == (3, 10)
    assert sum(p.numel() for p in model.parameters()) == expected_params(name, shape)


def test_minialexnet_matches_published_parameter_count():
    # Table 1 of Zhang et al. (ICLR 2017): the "small Alexnet" on 28x28x3 crops has 1,387,786 parameters.
    model = build_model("minialexnet", (3, 28, 28))
    assert sum(p.numel() for p in model.parameters()) == 1_387_786


@pytest.mark.parametrize("name", MODELS)
def test_layer_names_in_forward_order(name):
    model = model_for(name, CIFAR)
    names = [n for n, _ in model.named_children()]
    for cls, prefix in ((nn.Linear, "fc"), (nn.Conv2d, "conv"), (nn.ReLU, "relu"), (nn.MaxPool2d, "pool")):
        got = [n for n, m in model.named_children() if isinstance(m, cls)]
        assert got == [f"{prefix}{i}" for i in range(1, len(got) + 1)]
    flat = [n for n, m in model.named_children() if isinstance(m, nn.Flatten)]
    assert flat == ["flatten"]
    assert names.index("flatten") < names.index("fc1")
    if not any(isinstance(m, nn.Conv2d) for m in model.children()):
        assert names[0] == "flatten"  # MLPs start with the flatten
    else:
        assert names.index("flatten") > max(i for i, n in enumerate(names) if n.startswith("conv"))
    assert not any(isinstance(m, nn.Softmax | nn.LogSoftmax) for m in model.modules())  # logits out
    assert isinstance(list(model.children())[-1], nn.Linear)


@pytest.mark.parametrize("name", MODELS)
def test_glorot_uniform_weights_and_zero_biases(name):
    model = model_for(name, CIFAR)
    for module in model.modules():
        if not isinstance(module, nn.Linear | nn.Conv2d):
            continue
        w = module.weight.detach().double()
        receptive = w[0, 0].numel() if w.ndim == 4 else 1
        fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
        bound = math.sqrt(6.0 / (fan_in + fan_out))  # eq. (16) of Glorot & Bengio (2010)
        assert w.abs().max().item() <= bound
        # U[-b, b] has variance b^2/3 = 2/(fan_in+fan_out); the sample variance of N entries has
        # relative standard deviation sqrt(Var w^2)/E w^2 / sqrt(N) = sqrt(4/45)*3/sqrt(N) ~ 0.894/sqrt(N);
        # allow 6 of those.
        n = w.numel()
        assert w.pow(2).mean().item() == pytest.approx(2.0 / (fan_in + fan_out), rel=6 * 0.894 / math.sqrt(n))
        assert torch.count_nonzero(module.bias) == 0


def test_generator_makes_init_reproducible():
    a = build_model("lenet", MNIST, generator=torch.Generator().manual_seed(7))
    b = build_model("lenet", MNIST, generator=torch.Generator().manual_seed(7))
    c = build_model("lenet", MNIST, generator=torch.Generator().manual_seed(8))
    for (ka, va), (kb, vb), (_, vc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_glorot_init_resets_in_place():
    model = nn.Sequential(nn.Linear(30, 20))
    nn.init.constant_(model[0].bias, 1.0)
    assert glorot_init_(model, torch.Generator().manual_seed(0)) is model
    assert torch.count_nonzero(model[0].bias) == 0


def test_width_keywords():
    model = build_model("spike_mlp", MNIST, width=400)
    assert (model.fc1.in_features, model.fc1.out_features) == (784, 400)  # 784 x N
    assert (model.fc2.in_features, model.fc2.out_features) == (400, 400)  # N x N
    assert (model.fc3.in_features, model.fc3.out_features) == (400, 10)   # N x 10
    mlp = build_model("mlp", MNIST, hidden=(64, 32))
    assert [m.out_features for m in mlp.children() if isinstance(m, nn.Linear)] == [64, 32, 10]
    assert build_model("mlp1024", CIFAR).fc1.in_features == 3072  # [3072, 1024, 512, 512, 10]


def test_lenet_widths_reproducing_table2_dimensions():
    # Table 2 of paper 000: LeNet Conv2D_2 min(n, m) = 250 and FC_1 min(n, m) = 500 (MNIST and CIFAR-10),
    # reproduced by filters=(50, 50), fc=(500,) under the spatial reshape (models._lenet docstring).
    for shape in (MNIST, CIFAR):
        model = build_model("lenet", shape, filters=(50, 50), fc=(500,))
        dims = {lm.name: lm.m for lm in layer_matrices(model, "spatial", names=["conv2", "fc1"])}
        assert dims == {"conv2": 250, "fc1": 500}


def test_alexnet_widths_reproducing_table2_dimensions():
    # Table 2 of paper 000: AlexNet Conv2D_2..5 min(n, m) = 320, 576, 768, 768 and FC_1, FC_2 = 1024, 4096,
    # reproduced by torchvision's AlexNet widths with a 2x2 adaptive pool (models._alexnet docstring).
    table2 = {"conv2": 320, "conv3": 576, "conv4": 768, "conv5": 768, "fc1": 1024, "fc2": 4096}
    for shape in (MNIST, CIFAR):
        model = build_model("alexnet", shape, filters=(64, 192, 384, 256, 256), kernel_sizes=(3, 5, 3, 3, 3),
                            fc=(4096, 4096), pool_to=2)
        dims = {lm.name: min(lm.n, lm.m) for lm in layer_matrices(model, "spatial", names=list(table2))}
        assert dims == table2
        assert model(torch.zeros(2, *shape)).shape == (2, 10)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="mlp.*lenet.*alexnet.*spike_mlp"):
        build_model("resnet", MNIST)
    with pytest.raises(ValueError, match="unknown keyword"):
        build_model("lenet", MNIST, hidden=(10,))
    with pytest.raises(ValueError, match="input_shape"):
        build_model("mlp", (28, 28))
    with pytest.raises(ValueError, match="too small"):
        build_model("lenet", (1, 8, 8))
    with pytest.raises(ValueError, match="filters"):
        build_model("lenet", MNIST, filters=(6,))
