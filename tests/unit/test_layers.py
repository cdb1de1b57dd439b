"""Tests of rmtweights.layers: conv reshapes (exact index maps) and their inverse, orientation, layer extraction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from rmtweights.layers import (
    RESHAPES,
    LayerMatrix,
    SkippedTensor,
    conv_kernel,
    conv_matrix,
    layer_matrices,
    tensor_layers,
    weight_tensors,
)

D, C, KH, KW = 5, 4, 3, 2  # distinct sizes, so a wrong axis order cannot pass by symmetry


def known_kernel() -> np.ndarray:
    """K[do, ci, i, j] = 1000*do + 100*ci + 10*i + j: every entry names its own index."""
    do, ci, i, j = np.meshgrid(np.arange(D), np.arange(C), np.arange(KH), np.arange(KW), indexing="ij")
    return (1000 * do + 100 * ci + 10 * i + j).astype(np.float64)


def conv_model(kernel: np.ndarray) -> nn.Sequential:
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(C, D, (KH, KW)))
    with torch.no_grad():
        model.conv1.weight.copy_(torch.from_numpy(kernel))
    return model


def test_spatial_reshape_index_map():
    k = known_kernel()
    m = conv_matrix(k, "spatial")
    assert m.shape == (C * KH, D * KW)  # (c*kh) x (d*kw)
    for do in range(D):
        for ci in range(C):
            for i in range(KH):
                for j in range(KW):
                    assert m[ci * KH + i, do * KW + j] == k[do, ci, i, j]  # M[(ci,i),(do,j)] = K[do,ci,i,j]
    (lm,) = layer_matrices(conv_model(k), "spatial")
    # 12 x 10: already n >= m, not transposed
    assert not lm.transposed and (lm.n, lm.m) == (12, 10) and lm.shape == (D, C, KH, KW)
    np.testing.assert_array_equal(lm.matrix, m)


def test_flatten_reshape_index_map_and_orientation():
    k = known_kernel()
    m = conv_matrix(k, "flatten")
    assert m.shape == (D, C * KH * KW)
    for do in range(D):
        for ci in range(C):
            for i in range(KH):
                for j in range(KW):
                    assert m[do, (ci * KH + i) * KW + j] == k[do, ci, i, j]
    (lm,) = layer_matrices(conv_model(k), "flatten")
    assert lm.transposed and (lm.n, lm.m) == (24, 5)  # 5 x 24 became 24 x 5
    np.testing.assert_array_equal(lm.matrix, m.T)


def test_slices_reshape():
    k = known_kernel()
    (lm,) = layer_matrices(conv_model(k), "slices")
    assert lm.matrix.shape == (KH * KW, D, C) and not lm.transposed  # each slice d x c = 5 x 4
    for i in range(KH):
        for j in range(KW):
            np.testing.assert_array_equal(lm.matrix[i * KW + j], k[:, :, i, j])
    assert len(lm.matrices) == KH * KW
    # d < c: every slice is transposed
    (lm2,) = layer_matrices({"c.weight": torch.from_numpy(np.transpose(k, (1, 0, 2, 3)).copy())}, "slices")
    assert lm2.transposed and lm2.matrix.shape == (KH * KW, D, C)


def test_linear_orientation_dtype_and_state_dict():
    torch.manual_seed(0)  # test-local weights only; the library never touches the global seed
    model = nn.Sequential()
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc1", nn.Linear(5, 20))   # weight 20 x 5: kept
    model.add_module("fc2", nn.Linear(20, 30))  # weight 30 x 20: kept
    model.add_module("fc3", nn.Linear(30, 7))   # weight 7 x 30: transposed
    lms = layer_matrices(model)
    assert [lm.name for lm in lms] == ["fc1", "fc2", "fc3"]
    assert [lm.transposed for lm in lms] == [False, False, True]
    assert all(lm.matrix.dtype == np.float64 and lm.n >= lm.m and lm.kind == "linear" for lm in lms)
    np.testing.assert_array_equal(lms[2].matrix, model.fc3.weight.detach().double().numpy().T)
    assert lms[2].q == 7 / 30
    # a state_dict (e.g. a checkpoint's model_state), also with torch.compile's key prefix
    for state in (model.state_dict(), {f"_orig_mod.{k}": v for k, v in model.state_dict().items()}):
        from_state = layer_matrices(state)
        assert [lm.name for lm in from_state] == ["fc1", "fc2", "fc3"]
        for a, b in zip(lms, from_state):
            np.testing.assert_array_equal(a.matrix, b.matrix)
    assert [lm.name for lm in layer_matrices(model, names=["fc3", "fc1"])] == ["fc1", "fc3"]  # forward order
    with pytest.raises(ValueError, match="available"):
        layer_matrices(model, names=["fc9"])
    with pytest.raises(ValueError, match="reshape"):
        layer_matrices(model, reshape="im2col")


def test_torchvision_alexnet_extraction():
    model = torchvision.models.alexnet(weights=None)
    names = [name for name, _, _ in weight_tensors(model)]
    assert names == ["features.0", "features.3", "features.6", "features.8", "features.10",
                     "classifier.1", "classifier.4", "classifier.6"]
    convs = layer_matrices(model, "spatial", names=names[:5])
    assert [lm.shape for lm in convs] == [(64, 3, 11, 11), (192, 64, 5, 5), (384, 192, 3, 3),
                                          (256, 384, 3, 3), (256, 256, 3, 3)]
    # Table 2 of paper 000 lists min(n, m) = 320, 576, 768, 768 for AlexNet's Conv2D_2-5: the
    # spatial reshape (c*kh) x (d*kw) of torchvision's channel widths gives exactly these.
    assert [lm.m for lm in convs[1:]] == [320, 576, 768, 768]
    assert [(lm.n, lm.m) for lm in convs[:2]] == [(704, 33), (960, 320)]
    assert [lm.shape for lm in layer_matrices(model.state_dict(), names=["classifier.6"])] == [(1000, 4096)]


def test_torchvision_vgg19_layer_list():
    # VGG19 (paper 001) has 143M parameters: build it on the meta device and check names/shapes only.
    with torch.device("meta"):
        model = torchvision.models.vgg19(weights=None)
    tensors = weight_tensors(model)
    kinds = [kind for _, kind, _ in tensors]
    assert kinds == ["conv"] * 16 + ["linear"] * 3
    assert tensors[0][0] == "features.0" and tuple(tensors[0][2].shape) == (64, 3, 3, 3)
    assert [(name, tuple(t.shape)) for name, _, t in tensors[-3:]] == [
        ("classifier.0", (4096, 25088)), ("classifier.3", (4096, 4096)), ("classifier.6", (1000, 4096))]


def test_reshape_modes_constant():
    assert RESHAPES == ("spatial", "flatten", "slices")


@pytest.mark.parametrize("reshape", RESHAPES)
@pytest.mark.parametrize("shape", [(D, C, KH, KW), (D, C, KH)])
def test_conv_kernel_inverts_conv_matrix(reshape, shape):
    k = torch.from_numpy(np.random.default_rng(3).standard_normal(shape))
    assert torch.equal(conv_kernel(conv_matrix(k, reshape), shape, reshape), k)
    # numpy in, numpy out, same layout
    np.testing.assert_array_equal(conv_matrix(k.numpy(), reshape), conv_matrix(k, reshape).numpy())


def test_conv1d_kernel_is_a_one_wide_conv2d_kernel():
    k = np.random.default_rng(4).standard_normal((D, C, KH))
    for reshape in RESHAPES:
        np.testing.assert_array_equal(conv_matrix(k, reshape), conv_matrix(k[..., None], reshape))


def test_tensor_layers_loads_only_layers_one_at_a_time():
    state = {"module.fc.weight": torch.ones(30, 20), "module.fc.bias": torch.ones(30),
             "steps": torch.tensor(3), "conv.weight": torch.ones(4, 2, 3, 3)}
    loaded = []

    def load(name):
        loaded.append(name)
        return state[name]

    out = list(tensor_layers([(k, tuple(v.shape), v.dtype) for k, v in state.items()], load, "spatial"))
    assert loaded == ["module.fc.weight", "conv.weight"]  # biases and buffers are never loaded
    assert [type(o) for o in out] == [LayerMatrix, SkippedTensor, SkippedTensor, LayerMatrix]
    assert out[0].name == "fc" and out[1].name == "fc.bias" and "1-d" in out[1].reason
    # spatial reshape of (d=4, c=2, 3, 3): (c kh) x (d kw) = 6 x 12, oriented to 12 x 6
    assert (out[3].n, out[3].m, out[3].kind, out[3].transposed) == (12, 6, "conv", True)
