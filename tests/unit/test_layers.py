"""Tests of rmtweights.layers: conv reshapes (exact index maps) and their inverse, orientation, layer extraction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from rmtweights.layers import (
    RESHAPES,
    layer_matrix,
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
@pytest.mark.parametrize("shape", [(D, C, KH, KW), (D, C, KH), (D, C, KH, KW, 3), (D, C, 2, KH, KW, 2)])
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


KT = 3  # a conv3d kernel's third spatial size, distinct from the others


def test_conv3d_index_maps():
    """(d, c, kt, kh, kw): spatial M[(ci, t), (do, i, j)], flatten M[do, (ci, t, i, j)], slices M[(t, i, j)] = K[:, :, t, i, j]."""
    shape = (D, C, KT, KH, KW)
    k = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)  # every entry distinct
    spatial, flatten, slices = (conv_matrix(k, r) for r in RESHAPES)
    assert spatial.shape == (C * KT, D * KH * KW) and flatten.shape == (D, C * KT * KH * KW)
    assert slices.shape == (KT * KH * KW, D, C)
    for do, ci, t, i, j in np.ndindex(*shape):
        assert spatial[ci * KT + t, (do * KH + i) * KW + j] == k[do, ci, t, i, j]
        assert flatten[do, ((ci * KT + t) * KH + i) * KW + j] == k[do, ci, t, i, j]
        assert slices[(t * KH + i) * KW + j, do, ci] == k[do, ci, t, i, j]


@pytest.mark.parametrize("reshape", RESHAPES)
def test_spatial_size_one_is_the_plain_matrix(reshape):
    """A 1x1x1 conv3d kernel (d, c, 1, 1, 1) is the d x c matrix under every reshape (up to orientation)."""
    w = torch.from_numpy(np.random.default_rng(5).standard_normal((12, 7)))
    kernel = layer_matrix("k", "conv3d", w[:, :, None, None, None], reshape)
    plain = layer_matrix("w", "linear", w, reshape)
    np.testing.assert_array_equal(kernel.matrix.reshape(plain.matrix.shape), plain.matrix)


def test_real_sized_conv3d_kernel_stack():
    """A 3-D CNN checkpoint's kernels (bfloat16, as saved): a 1x1x1 2048 x 1024 projection and a 3x3x3 stem are
    analysed as matrices; the projection's singular values are those of the plain matrix."""
    g = torch.Generator().manual_seed(0)
    state = {"blocks.0.proj.weight": (torch.randn(2048, 1024, 1, 1, 1, generator=g) * 0.02).to(torch.bfloat16),
             "stem.weight": (torch.randn(64, 3, 3, 7, 7, generator=g) * 0.1).to(torch.bfloat16),
             "blocks.0.conv.weight": (torch.randn(256, 128, 3, 3, 3, generator=g) * 0.02).to(torch.bfloat16)}
    out = {m.name: m for m in tensor_layers([(k, tuple(v.shape), v.dtype) for k, v in state.items()],
                                            state.__getitem__)}
    assert {name: (m.kind, m.n, m.m) for name, m in out.items()} == {
        "blocks.0.proj": ("conv3d", 2048, 1024), "stem": ("conv3d", 64 * 7 * 7, 3 * 3),  # (c kt) x (d kh kw), oriented
        "blocks.0.conv": ("conv3d", 256 * 9, 128 * 3)}
    plain = state["blocks.0.proj.weight"].double()[:, :, 0, 0, 0].numpy()
    np.testing.assert_array_equal(out["blocks.0.proj"].matrix, plain)


def test_expert_stack_and_split_parts_are_views_of_the_tensor():
    g = torch.Generator().manual_seed(1)
    stack = torch.randn(4, 16, 40, generator=g)
    qkv = torch.randn(30, 90, generator=g)
    state = {"experts.gate_up_proj": stack, "attn.c_attn.weight": qkv}
    out = list(tensor_layers([(k, tuple(v.shape), v.dtype) for k, v in state.items()], state.__getitem__,
                             split_qkv=True, split_gate_up=True))
    names = [m.name for m in out]
    assert names[:2] == ["experts.gate_up_proj[0][gate]", "experts.gate_up_proj[0][up]"] and len(names) == 8 + 3
    np.testing.assert_array_equal(out[3].matrix, stack[1, :, 20:].double().numpy().T)  # expert 1, up: 20 x 16
    np.testing.assert_array_equal(out[-2].matrix, qkv[:, 30:60].double().numpy())  # [k]: columns 30-59
    assert out[3].shape == (4, 16, 40) and out[3].kind == "expert"
    # state_dict path of layer_matrices: one matrix per expert
    assert [m.name for m in layer_matrices({"experts.down_proj": stack})] == [f"experts.down_proj[{e}]"
                                                                             for e in range(4)]
