"""Tests for rmtweights.prune: keep-top-s accuracy (naive vs fast) and whole-network low rank.

Reference values: the rank-s truncation is checked against numpy's SVD and the Eckart-Young error
sum_{i>s} sigma_i^2; the fast method against the naive one (which is itself checked against a
hand-built pruned copy); parameter counts against s(n+m) and nm worked out by hand.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rmtweights import layers, prune
from rmtweights.models import build_model
from rmtweights.prune import _weight_to_matrices

N_TEST = 300  # synthetic test images: enough for non-trivial curves, fast on 2 cores


# ------------------------------------------------------------------------------------------------
# Models: small widths of the project's mlp / lenet / alexnet, Glorot-initialised.
# ------------------------------------------------------------------------------------------------
def _build(name: str, input_shape: tuple[int, int, int]) -> nn.Sequential:
    kwargs = {
        "mlp": dict(hidden=(96, 64, 48)),
        "lenet": dict(filters=(6, 16), fc=(40, 24)),
        "alexnet": dict(filters=(8, 16, 24, 24, 16), fc=(64, 32)),
    }[name]
    # Glorot-uniform weights (build_model's init), seeded
    return build_model(name, input_shape, num_classes=10, generator=torch.Generator().manual_seed(0), **kwargs)


def _teacher_data(model: nn.Module, input_shape, n: int = N_TEST, seed: int = 0):
    """Gaussian images labelled by the unpruned model itself, so its accuracy is 1 and pruning lowers it."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((n, *input_shape), generator=gen)
    with torch.no_grad():
        y = model.eval()(x).argmax(dim=-1)
    return x, y


@pytest.fixture(scope="module")
def mlp():
    model = _build("mlp", (1, 12, 12))
    return model, *_teacher_data(model, (1, 12, 12))


@pytest.fixture(scope="module")
def lenet():
    model = _build("lenet", (1, 20, 20))  # conv1 -> 16x16, pool -> 8x8, conv2 -> 4x4, pool -> 2x2
    return model, *_teacher_data(model, (1, 20, 20), n=200)


@pytest.fixture(scope="module")
def alexnet():
    model = _build("alexnet", (3, 16, 16))
    return model, *_teacher_data(model, (3, 16, 16), n=100)


def _s_grid(r: int) -> list[int]:
    """A run of consecutive s (rank-one updates) plus jumps (block updates) up to full rank r."""
    return sorted({s for s in (0, 1, 2, 3, r // 4, r // 2, r - 1, r) if 0 <= s <= r})


def _layer_names(model: nn.Module, kind) -> list[str]:
    return [name for name, mod in model.named_children() if isinstance(mod, kind)]


def _assert_same_curve(fast, naive):
    """Fast and naive agree to within one test sample; losses to float32 rounding.

    The two methods sum the same float32 terms in a different order (rank-one updates vs a rebuilt
    weight), so logits differ by ~1e-6 relative: an arg-max can flip only for a near-tie (at most one
    sample here), and the mean loss agrees to ~1e-5 relative.
    """
    assert list(fast["s"]) == list(naive["s"])
    assert (fast["n_correct"] - naive["n_correct"]).abs().max() <= 1
    np.testing.assert_allclose(fast["loss"], naive["loss"], rtol=1e-4, atol=1e-6)


def _manual_eval(model: nn.Module, x, y) -> tuple[float, int]:
    with torch.no_grad():
        logits = model.eval()(x)
    return F.cross_entropy(logits, y).item(), int((logits.argmax(-1) == y).sum())


# ------------------------------------------------------------------------------------------------
# Rank-s weights
# ------------------------------------------------------------------------------------------------
def test_low_rank_weight_is_svd_truncation():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((20, 30))
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    for k in (0, 1, 7, 20):
        got = prune.low_rank_weight(torch.from_numpy(w), k).numpy()
        np.testing.assert_allclose(got, (u[:, :k] * s[:k]) @ vt[:k], atol=1e-12)  # float64 SVD
        # Eckart-Young: ||W - W_k||_F^2 = sum_{i>k} sigma_i^2
        np.testing.assert_allclose(np.sum((w - got) ** 2), np.sum(s[k:] ** 2), rtol=1e-10, atol=1e-12)
        assert np.linalg.matrix_rank(got) == k


def test_spatial_reshape_index_convention():
    # M[(ci, i), (do, j)] = K[do, ci, i, j]: rows ci*kh + i, columns do*kw + j (``docs/architecture.md``)
    d, c, kh, kw = 4, 3, 5, 2
    k = torch.arange(d * c * kh * kw, dtype=torch.float64).reshape(d, c, kh, kw)
    m = _weight_to_matrices(k, "spatial")[0]
    assert m.shape == (c * kh, d * kw)
    for do, ci, i, j in [(0, 0, 0, 0), (3, 2, 4, 1), (1, 2, 3, 0), (2, 0, 1, 1)]:
        assert m[ci * kh + i, do * kw + j] == k[do, ci, i, j]
    assert _weight_to_matrices(k, "flatten")[0].shape == (d, c * kh * kw)
    slices = _weight_to_matrices(k, "slices")
    assert slices.shape == (kh * kw, d, c)
    assert torch.equal(slices[1 * kw + 1], k[:, :, 1, 1])


@pytest.mark.parametrize("reshape", prune.RESHAPES)
def test_conv_low_rank_weight_rank_per_reshape(reshape):
    gen = torch.Generator().manual_seed(2)
    k = torch.randn(16, 6, 5, 5, generator=gen, dtype=torch.float64)
    for s in (1, 3):
        mats = _weight_to_matrices(prune.low_rank_weight(k, s, reshape), reshape)
        assert all(int(torch.linalg.matrix_rank(mat)) == s for mat in mats)
    full = prune.max_rank(nn.Conv2d(6, 16, 5), reshape)
    assert full == {"spatial": 30, "flatten": 16, "slices": 6}[reshape]
    torch.testing.assert_close(prune.low_rank_weight(k, full, reshape), k, rtol=0, atol=1e-12)


def test_reshapes_match_layers_module():
    # same matrices (up to transposition) as rmtweights.layers: compare the singular values
    conv = nn.Conv2d(6, 16, 5)
    model = nn.Sequential()
    model.add_module("conv1", conv)
    for reshape in prune.RESHAPES:
        (lm,) = layers.layer_matrices(model, reshape=reshape)
        theirs = np.sort(np.concatenate([np.linalg.svd(mat, compute_uv=False) for mat in lm.matrices]))
        mats = _weight_to_matrices(conv.weight.detach().double(), reshape)
        ours = np.sort(torch.linalg.svdvals(mats).ravel().numpy())
        np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-12)  # float64 SVDs of the same matrices


# ------------------------------------------------------------------------------------------------
# keep_top_s_accuracy: naive reference, then fast == naive
# ------------------------------------------------------------------------------------------------
def test_naive_matches_hand_built_pruned_copy(mlp):
    model, x, y = mlp
    s = 5
    pruned = copy.deepcopy(model)
    with torch.no_grad():
        pruned.fc2.weight.copy_(prune.low_rank_weight(pruned.fc2.weight, s))
    loss, correct = _manual_eval(pruned, x, y)
    got = prune.keep_top_s_accuracy(model, "fc2", x, y, [s], method="naive", batch_size=128)
    assert int(got["n_correct"].iloc[0]) == correct
    np.testing.assert_allclose(got["loss"].iloc[0], loss, rtol=1e-5)  # float32 batch sums
    assert got["accuracy"].iloc[0] == correct / len(x)


def test_fast_equals_naive_mlp_all_layers(mlp):
    model, x, y = mlp
    for name in _layer_names(model, nn.Linear):
        r = prune.max_rank(model.get_submodule(name))
        s_values = _s_grid(r)
        fast = prune.keep_top_s_accuracy(model, name, x, y, s_values, batch_size=128)
        naive = prune.keep_top_s_accuracy(model, name, x, y, s_values, method="naive", batch_size=128)
        _assert_same_curve(fast, naive)


@pytest.mark.parametrize("reshape", prune.RESHAPES)
def test_fast_equals_naive_lenet(lenet, reshape):
    model, x, y = lenet
    for name in ["conv1", "conv2"]:
        r = prune.max_rank(model.get_submodule(name), reshape)
        kwargs = dict(reshape=reshape, batch_size=128)
        fast = prune.keep_top_s_accuracy(model, name, x, y, _s_grid(r), **kwargs)
        naive = prune.keep_top_s_accuracy(model, name, x, y, _s_grid(r), method="naive", **kwargs)
        _assert_same_curve(fast, naive)
    # the curve is not trivial: pruning conv2 hard loses accuracy (teacher labels: unpruned = 1)
    assert fast["accuracy"].iloc[0] < 0.9 and fast["accuracy"].iloc[-1] > 0.99


def test_fast_equals_naive_lenet_linear(lenet):
    model, x, y = lenet
    s_values = [1, 2, 5, 10, 20]
    fast = prune.keep_top_s_accuracy(model, "fc1", x, y, s_values, batch_size=100)
    naive = prune.keep_top_s_accuracy(model, "fc1", x, y, s_values, method="naive", batch_size=100)
    _assert_same_curve(fast, naive)


def test_fast_equals_naive_alexnet(alexnet):
    model, x, y = alexnet
    conv3 = model.get_submodule("conv3")  # the layer of Fig. 2 of [1]; "same"-padded (padding 1)
    assert conv3.padding == (1, 1)
    s_values = _s_grid(prune.max_rank(conv3))
    fast = prune.keep_top_s_accuracy(model, "conv3", x, y, s_values, batch_size=100)
    naive = prune.keep_top_s_accuracy(model, "conv3", x, y, s_values, method="naive", batch_size=100)
    _assert_same_curve(fast, naive)
    fast = prune.keep_top_s_accuracy(model, "fc2", x, y, [1, 4, 16], batch_size=100)
    naive = prune.keep_top_s_accuracy(model, "fc2", x, y, [1, 4, 16], method="naive", batch_size=100)
    _assert_same_curve(fast, naive)


@pytest.mark.parametrize("reshape", prune.RESHAPES)
def test_strided_dilated_padded_conv(reshape):
    # stride, padding and dilation differ between the axes, so the vertical / horizontal split of
    # the spatial fast path is exercised on each axis separately; plus a reflect-padded conv
    # (generic path) and a kernel with kh != kw.
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"))
    model.add_module("relu1", nn.ReLU())
    model.add_module("conv2", nn.Conv2d(8, 12, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)))
    model.add_module("relu2", nn.ReLU())
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc1", nn.Linear(12 * 8 * 12, 10))
    torch.manual_seed(3)
    for p in model.parameters():
        nn.init.normal_(p, std=0.2)
    x, y = _teacher_data(model, (3, 16, 16), n=100)
    for name in ["conv1", "conv2"]:
        r = prune.max_rank(model.get_submodule(name), reshape)
        fast = prune.keep_top_s_accuracy(model, name, x, y, _s_grid(r), reshape=reshape, batch_size=64)
        naive = prune.keep_top_s_accuracy(model, name, x, y, _s_grid(r), reshape=reshape, method="naive", batch_size=64)
        _assert_same_curve(fast, naive)


@pytest.mark.parametrize("reshape", prune.RESHAPES)
def test_grouped_conv(reshape):
    # groups = 2: no separable factorisation; the generic per-component convolution path is used
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(4, 6, 3, padding=1, groups=2))
    model.add_module("relu1", nn.ReLU())
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc1", nn.Linear(6 * 6 * 6, 10))
    x, y = _teacher_data(model, (4, 6, 6), n=100)
    s_values = _s_grid(prune.max_rank(model.conv1, reshape))
    fast = prune.keep_top_s_accuracy(model, "conv1", x, y, s_values, reshape=reshape, batch_size=64)
    naive = prune.keep_top_s_accuracy(model, "conv1", x, y, s_values, reshape=reshape, method="naive", batch_size=64)
    _assert_same_curve(fast, naive)


@pytest.mark.parametrize("method", prune.METHODS)
def test_full_rank_reproduces_unpruned_and_zero_rank_is_bias_only(lenet, method):
    model, x, y = lenet
    loss, correct = _manual_eval(model, x, y)
    assert correct == len(x)  # teacher labels
    r = prune.max_rank(model.conv2)
    got = prune.keep_top_s_accuracy(model, "conv2", x, y, [0, r], method=method, batch_size=128)
    full = got[got["s"] == r].iloc[0]
    assert abs(int(full["n_correct"]) - correct) <= 1  # float32 summation order (see _assert_same_curve)
    np.testing.assert_allclose(full["loss"], loss, rtol=1e-4)
    zeroed = copy.deepcopy(model)
    with torch.no_grad():
        zeroed.conv2.weight.zero_()
    loss0, correct0 = _manual_eval(zeroed, x, y)
    zero = got[got["s"] == 0].iloc[0]
    assert int(zero["n_correct"]) == correct0  # bias only: exact, no summation involved
    np.testing.assert_allclose(zero["loss"], loss0, rtol=1e-6)


def test_model_is_not_modified(mlp):
    model, x, y = mlp
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for method in prune.METHODS:
        prune.keep_top_s_accuracy(model, "fc2", x[:50], y[:50], [1, 3], method=method)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    model.eval()


def test_output_frame_and_s_handling(mlp):
    model, x, y = mlp
    got = prune.keep_top_s_accuracy(model, "fc2", x, y, [4, 1, 4, 2])
    assert list(got.columns) == ["layer", "reshape", "s", "accuracy", "loss", "n_correct", "n_samples", "method"]
    assert list(got["s"]) == [1, 2, 4]  # distinct, ascending
    assert (got["layer"] == "fc2").all() and (got["reshape"] == "none").all() and (got["n_samples"] == len(x)).all()
    np.testing.assert_allclose(got["accuracy"], got["n_correct"] / len(x))


def test_argument_validation(mlp):
    model, x, y = mlp
    with pytest.raises(ValueError, match="method"):
        prune.keep_top_s_accuracy(model, "fc2", x, y, [1], method="slow")
    with pytest.raises(ValueError, match="reshape"):
        prune.keep_top_s_accuracy(model, "fc2", x, y, [1], reshape="tiles")
    with pytest.raises(ValueError, match="relu1"):
        prune.keep_top_s_accuracy(model, "relu1", x, y, [1])
    with pytest.raises(ValueError, match="fc9"):
        prune.keep_top_s_accuracy(model, "fc9", x, y, [1])
    r = prune.max_rank(model.fc2)
    with pytest.raises(ValueError, match=str(r + 1)):
        prune.keep_top_s_accuracy(model, "fc2", x, y, [1, r + 1])
    with pytest.raises(ValueError, match="integers"):
        prune.keep_top_s_accuracy(model, "fc2", x, y, [1.5])
    wrapped = nn.Sequential()
    wrapped.add_module("body", model)
    with pytest.raises(ValueError, match="fast"):
        prune.keep_top_s_accuracy(wrapped, "body.fc2", x, y, [1], method="fast")
    # naive accepts any module with the submodule
    got = prune.keep_top_s_accuracy(wrapped, "body.fc2", x[:20], y[:20], [2], method="naive")
    assert len(got) == 1


class _SkipNet(nn.Module):
    """A model of your own: not a sequence of layers (a skip connection), layers at dotted module paths."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.block = nn.Module()
        self.block.fc = nn.Linear(4 * 8 * 8, 24)
        self.norm = nn.LayerNorm(24)
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        h = torch.relu(self.block.fc(torch.relu(self.stem(x)).flatten(1)))
        return self.head(self.norm(h) + h)


def test_a_dotted_layer_of_any_model_is_truncated_and_evaluated():
    torch.manual_seed(0)
    model = _SkipNet().eval()
    x, y = torch.randn(60, 1, 8, 8), torch.randint(0, 10, (60,))
    curve = prune.keep_top_s_accuracy(model, "block.fc", x, y, [1, 3, 24])
    assert (curve.method == "naive").all()  # "auto": the forward is not a sequence of layers
    for row in curve.itertuples():  # the truncated layer, built by hand, in the model's own forward
        pruned = copy.deepcopy(model)
        with torch.no_grad():
            pruned.block.fc.weight.copy_(prune.low_rank_weight(model.block.fc.weight, row.s))
        _, correct = _manual_eval(pruned, x, y)
        assert row.n_correct == correct
    assert curve.accuracy.iloc[-1] == _manual_eval(model, x, y)[1] / 60  # full rank: the model itself
    conv = prune.keep_top_s_accuracy(model, "stem", x, y, [1, 3])
    assert (conv.reshape == "spatial").all() and len(conv) == 2
    low, info = prune.low_rank_network(model, {"block.fc": 2, "stem": 1})
    assert info.layer.tolist() == ["block.fc", "stem"] and torch.linalg.matrix_rank(low.block.fc.weight) == 2
    assert prune.prunable_layers(model) == ["stem", "block.fc", "head"]


@pytest.mark.parametrize("name,needle", [
    ("norm", "layer 'norm' is a LayerNorm"),
    ("block", "layer 'block' is a Module"),
    ("block.fc2", "layer 'block.fc2' is not a module of the model"),
])
def test_a_layer_that_cannot_be_truncated_names_those_that_can(name, needle):
    x, y = torch.randn(4, 1, 8, 8), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError) as err:
        prune.keep_top_s_accuracy(_SkipNet(), name, x, y, [1])
    assert needle in str(err.value) and "nn.Linear or nn.Conv2d" in str(err.value)
    assert "stem, block.fc, head" in str(err.value)
    with pytest.raises(ValueError, match=needle):
        prune.low_rank_network(_SkipNet(), {name: 1})


# ------------------------------------------------------------------------------------------------
# low_rank_network and compression
# ------------------------------------------------------------------------------------------------
def _toy_net() -> nn.Sequential:
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(6, 16, 5))  # spatial: (6*5) x (16*5) = 30 x 80
    model.add_module("relu1", nn.ReLU())
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc1", nn.Linear(16 * 4 * 4, 20))  # 20 x 256
    model.add_module("relu2", nn.ReLU())
    model.add_module("fc2", nn.Linear(20, 30))  # 30 x 20
    torch.manual_seed(4)
    return model


def test_low_rank_network_counts_by_hand():
    model = _toy_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    new, info = prune.low_rank_network(model, {"conv1": 6, "fc1": 3, "fc2": 15})
    rows = info.set_index("layer")
    # conv1: n=80, m=30, nm=2400; s=6: 6*(80+30)=660 < 2400 (6 < 2400/110 = 21.8) -> factorised
    assert rows.loc["conv1", ["n", "m", "s", "params_dense", "params_low_rank"]].tolist() == [80, 30, 6, 2400, 660]
    assert rows.loc["conv1", "factorised"]
    # fc1: 256 x 20 = 5120; s=3: 3*276 = 828
    assert rows.loc["fc1", ["n", "m", "params_dense", "params_low_rank"]].tolist() == [256, 20, 5120, 828]
    # fc2: 30 x 20 = 600; s=15: 15*50 = 750 > 600 (15 > 600/50 = 12) -> kept dense
    assert rows.loc["fc2", ["params_dense", "params_low_rank"]].tolist() == [600, 600]
    assert not rows.loc["fc2", "factorised"]
    assert rows.loc["fc1", "reshape"] == "none" and rows.loc["conv1", "reshape"] == "spatial"
    # the copy's matrices have the requested ranks; the original is untouched
    # (float32 weights: singular values beyond s are rounding noise, ~1e-7 relative)
    assert int(torch.linalg.matrix_rank(_weight_to_matrices(new.conv1.weight, "spatial")[0], rtol=1e-5)) == 6
    assert int(torch.linalg.matrix_rank(new.fc1.weight, rtol=1e-5)) == 3
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    torch.testing.assert_close(new.fc1.bias, model.fc1.bias)
    totals = prune.compression_totals(info, model)
    # layers: dense 2400+5120+600 = 8120, low rank 660+828+600 = 2088
    assert totals["params_dense"] == 8120 and totals["params_low_rank"] == 2088
    np.testing.assert_allclose(totals["compression"], 1 - 2088 / 8120)
    # network: + biases 16 + 20 + 30 = 66 -> 8186 dense, 2154 low rank
    assert totals["network_params_dense"] == 8186 and totals["network_params_low_rank"] == 2154
    np.testing.assert_allclose(totals["network_compression"], (8120 - 2088) / 8186)


def test_low_rank_network_slices_and_flatten_counts():
    model = _toy_net()
    _, slices = prune.low_rank_network(model, {"conv1": 2}, reshape="slices")
    # 25 slices 16 x 6: dense 25*96 = 2400; s=2: 25*2*(16+6) = 1100
    columns = ["n", "m", "n_matrices", "params_dense", "params_low_rank"]
    assert slices.iloc[0][columns].tolist() == [16, 6, 25, 2400, 1100]
    _, flat = prune.low_rank_network(model, {"conv1": 4}, reshape="flatten")
    # 16 x 150: dense 2400; s=4: 4*166 = 664
    assert flat.iloc[0][["n", "m", "params_low_rank"]].tolist() == [150, 16, 664]


def test_low_rank_network_accuracy_matches_keep_top_s(lenet):
    model, x, y = lenet
    new, _ = prune.low_rank_network(model, {"conv2": 3})
    loss, correct = _manual_eval(new, x, y)
    curve = prune.keep_top_s_accuracy(model, "conv2", x, y, [3], method="naive")
    assert int(curve["n_correct"].iloc[0]) == correct  # same float32 weight, same network
    with pytest.raises(ValueError, match="conv2"):
        prune.low_rank_network(model, {"conv2": 10_000})
    with pytest.raises(ValueError, match="pool1"):
        prune.low_rank_network(model, {"pool1": 1})


def test_fast_small_memory_budget_chunks(mlp, lenet, monkeypatch):
    # a tiny stacking budget forces one component per pass and the "advance the base without
    # scoring" branch for far-apart s; same answers as the naive method
    monkeypatch.setattr(prune, "_STACK_ELEMENTS", 1)
    for (model, x, y), name in [(mlp, "fc2"), (lenet, "conv2")]:
        s_values = [0, 4, 5, 11]
        fast = prune.keep_top_s_accuracy(model, name, x, y, s_values, batch_size=128)
        naive = prune.keep_top_s_accuracy(model, name, x, y, s_values, method="naive", batch_size=128)
        _assert_same_curve(fast, naive)
