"""Stage evaluate_pruning: keep-top-s curve and low-rank table of a tiny MLP, against a NumPy truncation."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from rmtweights.data import load_dataset
from rmtweights.evaluate import evaluate
from rmtweights.rmt.bbp import curve_k
from rmtweights.stages.evaluate_pruning import LOWRANK_COLUMNS, prune_tables
from rmtweights.train_common import init_model

#: (n, m) of each layer's oriented matrix (n >= m) for hidden [64, 32, 32] on 8 x 8 inputs, 10 classes
SHAPES = {"fc1": (64, 64), "fc2": (64, 32), "fc3": (32, 32), "fc4": (32, 10)}
DENSE = sum(n * m for n, m in SHAPES.values())  # 7488 weights in the analysed layers
N_TEST = 100
# Accuracies from two float32 computations of the same truncated network (the stage's rank-one or
# factorised layers vs a dense matrix rebuilt here) agree up to summation order: about 1e-7 relative
# in the logits, which can flip at most a near-tie; we allow one test sample (1 / N_TEST) and 1e-5
# relative in the mean loss.
ACC_TOL = 1.0 / N_TEST


@pytest.fixture(scope="module")
def model_and_data(one_thread_module):
    model = init_model("mlp", {"hidden": [64, 32, 32]}, (1, 8, 8), 10, seed=0)
    data = load_dataset("synthetic", synthetic={"n_train": 200, "n_test": N_TEST, "size": 8})
    return model, data


@pytest.fixture(scope="module")
def one_thread_module():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _truncated(model, ranks: dict[str, int]):
    """A copy whose named layers hold the rank-s truncation of their weight (float64 NumPy SVD)."""
    new = copy.deepcopy(model)
    for name, s in ranks.items():
        weight = getattr(new, name).weight
        u, sv, vt = np.linalg.svd(weight.detach().double().numpy(), full_matrices=False)
        with torch.no_grad():
            weight.copy_(torch.from_numpy((u[:, :s] * sv[:s]) @ vt[:s]).to(weight.dtype))
    return new


def _fits(spec: dict[str, dict[str, tuple]], state: str = "trained") -> pd.DataFrame:
    """A fit table: spec[method][layer] = (s_hat or None, ave_w); fc4 (m = 10) is a skipped layer."""
    rows = []
    for method, layers in spec.items():
        for layer, (n, m) in SHAPES.items():
            s_hat, ave_w = layers.get(layer, (None, np.nan))
            skipped = layer == "fc4"
            rows.append(dict(state=state, layer=layer, method=method, n=n, m=m, min_nm=m,
                             s_hat=pd.NA if s_hat is None or skipped else s_hat, ave_w=ave_w,
                             status="skipped" if skipped else "ok",
                             reason="m=10 <= min_dim=10: too few singular values" if skipped else ""))
    frame = pd.DataFrame(rows)
    frame["s_hat"] = frame.s_hat.astype("Int64")
    return frame


def test_curve_dense_row_and_skipped_choices(model_and_data):
    model, data = model_and_data
    fits = _fits({"bema": {"fc1": (0, np.nan), "fc2": (2, 0.5), "fc3": (0, np.nan)},  # s-hat = 2 in fc2 only
                  "gb": {"fc1": (0, np.nan), "fc2": (0, np.nan), "fc3": (0, np.nan)},  # s-hat = 0 everywhere
                  "modified_mp": {}})  # fits, no threshold: s-hat <NA>
    curve, low = prune_tables(model, data, "fc2", fits)
    k = curve_k(32, 0.2)
    assert k == 6 and curve.s.tolist() == list(range(1, k + 1)) and (curve.layer == "fc2").all()
    for row in curve.itertuples():
        loss, acc = evaluate(_truncated(model, {"fc2": row.s}), data.test_x, data.test_y)
        assert abs(row.accuracy - acc) <= ACC_TOL and row.loss == pytest.approx(loss, rel=1e-5)
    assert tuple(low.columns) == LOWRANK_COLUMNS
    assert low.choice.tolist() == ["dense", "bema", "gb", "modified_mp", "best_avew"]
    low = low.set_index("choice")
    _, dense_acc = evaluate(model, data.test_x, data.test_y)
    assert low.loc["dense", "accuracy"] == dense_acc and low.loc["dense", "params"] == DENSE
    assert (low.params_dense == DENSE).all()
    # bema truncates fc2 (64 x 32) to rank 2: its 64*32 weights become 2 (64 + 32)
    assert low.loc["bema", "params"] == DENSE - 64 * 32 + 2 * (64 + 32)
    assert low.loc["bema", "params_fraction"] == pytest.approx((DENSE - 64 * 32 + 2 * 96) / DENSE, rel=1e-15)
    assert low.loc["bema", "layers_factorised"] == 1 and low.loc["bema", "status"] == "ok"
    _, ref = evaluate(_truncated(model, {"fc2": 2}), data.test_x, data.test_y)
    assert abs(low.loc["bema", "accuracy"] - ref) <= ACC_TOL
    for choice, words in (("gb", "s-hat = 0 in every layer"), ("modified_mp", "gives no threshold")):
        row = low.loc[choice]
        assert row.status == "skipped" and words in row.reason
        assert np.isnan(row.accuracy) and np.isnan(row.params) and np.isnan(row.params_fraction)  # never dense's
    # best_avew: the only finite Ave_w is bema's in fc2, so the same network as bema
    assert low.loc["best_avew", "params"] == low.loc["bema", "params"]
    # a shorter curve with a smaller k_fraction
    curve_short, _ = prune_tables(model, data, "fc2", fits, k_fraction=0.1)
    assert len(curve_short) == curve_k(32, 0.1) == 3


def test_best_avew_takes_each_layers_best_method(model_and_data):
    model, data = model_and_data
    trained = _fits({"bema": {"fc1": (5, 0.9), "fc2": (2, 0.6), "fc3": (0, np.nan)},
                     "gb": {"fc1": (1, 0.4), "fc2": (3, 0.8), "fc3": (4, 0.7)},
                     "modified_mp": {}})
    # initial rows with higher Ave_w must be ignored (only trained weights are pruned)
    initial = _fits({"gb": {"fc1": (9, 0.99), "fc2": (7, 0.99), "fc3": (8, 0.99)}}, state="initial")
    _, low = prune_tables(model, data, "fc3", pd.concat([trained, initial], ignore_index=True))
    low = low.set_index("choice")
    best = {"fc1": 5, "fc2": 3, "fc3": 4}  # bema in fc1 (0.9 > 0.4), gb in fc2 (0.8 > 0.6), gb in fc3 (only finite)
    expected = DENSE - sum(SHAPES[name][0] * SHAPES[name][1] - s * sum(SHAPES[name]) for name, s in best.items())
    assert low.loc["best_avew", "params"] == expected
    assert low.loc["best_avew", "layers_factorised"] == 3
    _, ref = evaluate(_truncated(model, best), data.test_x, data.test_y)
    assert abs(low.loc["best_avew", "accuracy"] - ref) <= ACC_TOL
    # gb truncates fc1 at 1, fc2 at 3, fc3 at 4
    gb = {"fc1": 1, "fc2": 3, "fc3": 4}
    saved = sum(SHAPES[k][0] * SHAPES[k][1] - s * sum(SHAPES[k]) for k, s in gb.items())
    assert low.loc["gb", "params"] == DENSE - saved


def test_unknown_prune_layer(model_and_data):
    model, data = model_and_data
    with pytest.raises(ValueError, match="'fc9'"):
        prune_tables(model, data, "fc9", _fits({"bema": {}}))


def test_layers_that_are_not_linear_or_conv2d_stay_dense_and_say_so(model_and_data):
    """A model of your own may hold analysed tensors (here a Conv1d kernel) that keep-top-s cannot truncate:
    the low-rank networks keep them dense and the rows say which."""
    from torch import nn

    class WithExtra(nn.Module):
        def __init__(self, body: nn.Sequential) -> None:
            super().__init__()
            for name, child in body.named_children():
                self.add_module(name, child)
            self.extra = nn.Conv1d(4, 16, 3)  # analysed (a 3-d kernel), not used by the forward pass

        def forward(self, x):
            for name, child in self.named_children():
                x = x if name == "extra" else child(x)
            return x

    mlp, data = model_and_data
    model = WithExtra(copy.deepcopy(mlp))
    fits = _fits({"bema": {"fc1": (2, 0.7), "fc2": (1, 0.6)}})
    extra = fits[fits.layer == "fc1"].assign(layer="extra", n=16, m=12, min_nm=12, s_hat=3, ave_w=0.9)
    _, low = prune_tables(model, data, "fc2", pd.concat([fits, extra], ignore_index=True))
    low = low.set_index("choice")
    assert low.loc["bema", "status"] == "ok" and low.loc["bema", "layers_factorised"] == 2
    assert low.loc["bema", "reason"] == "kept dense (not nn.Linear or nn.Conv2d): extra"
    with pytest.raises(ValueError, match="layer 'extra' is a Conv1d; keep-top-s and low rank need"):
        prune_tables(model, data, "extra", fits)
