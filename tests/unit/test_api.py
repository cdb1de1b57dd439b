"""analyze_model: a module, its state_dict and a weights file give the same rows, equal to the workflow's stages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from rmtweights.api import analyze_model
from rmtweights.methods import METHOD_NAMES
from rmtweights.layers import layer_matrices
from rmtweights.stages.fit_heavy_tail import heavy_tail_table
from rmtweights.stages.fit_mp import FIT_COLUMNS, fit_tables
from rmtweights.stages.spectra import spectra_tables
from rmtweights.weights.common import WeightsError

N_BOOTSTRAP = 5
LAYERS = ["fc1", "conv", "embed", "head"]
FLOATS = ["q", "sigma", "gamma_plus", "ave_w", "gd_threshold", "fraction_mp", "nu_max", "gamma_max",
          "alpha_sv", "alpha_eig", "x_min", "gof_p", "hill_alpha_sv"]


class Net(nn.Module):
    """Every kind of layer: a linear 80 x 40, a conv kernel (spatial reshape 48 x 36), an embedding 80 x 40 (all
    with m >= 2a + 1 = 31, so every estimator applies) and a 5-way head (m = 5 <= min_dim: skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(40, 80)
        self.conv = nn.Conv2d(12, 16, 3)
        self.embed = nn.Embedding(80, 40)
        self.head = nn.Linear(40, 5)


@pytest.fixture(scope="module")
def net() -> Net:
    torch.manual_seed(0)
    return Net()


@pytest.fixture(scope="module")
def safetensors_path(net, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("api") / "net.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return str(path)


def _assert_rows_equal(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    got, ref = got.reset_index(drop=True), ref.reset_index(drop=True)
    assert got.layer.tolist() == ref.layer.tolist() and got.method.tolist() == ref.method.tolist()
    for column in ref.columns:
        if column in FLOATS:  # the same weights, made float64, through the same code: 1e-10 relative is ample
            np.testing.assert_allclose(got[column].to_numpy(float), ref[column].to_numpy(float), rtol=1e-10,
                                       equal_nan=True, err_msg=column)
        else:
            assert got[column].astype(object).where(got[column].notna(), None).tolist() == \
                ref[column].astype(object).where(ref[column].notna(), None).tolist(), column


def test_module_state_dict_and_file_agree(net, safetensors_path):
    """A module is analysed through exactly its state_dict's tensors (parity); a safetensors file gives the
    same rows in natural name order (the library writes tensors sorted by dtype and name)."""
    by_module = analyze_model(net, n_bootstrap=N_BOOTSTRAP)
    by_dict = analyze_model(net.state_dict(), n_bootstrap=N_BOOTSTRAP)
    by_file = analyze_model(safetensors_path, n_bootstrap=N_BOOTSTRAP)
    assert list(dict.fromkeys(by_dict.layer)) == ["fc1", "fc1.bias", "conv", "conv.bias", "embed", "head",
                                                  "head.bias"]
    pd.testing.assert_frame_equal(by_module, by_dict)
    assert len(by_dict) == 7 * len(METHOD_NAMES)
    biases = by_dict[by_dict.layer.str.endswith(".bias")]
    assert (biases.status == "skipped").all() and biases.reason.str.contains("bias").all()
    assert biases.verdict.isna().all()  # no verdict where nothing was analysed
    assert list(dict.fromkeys(by_file.layer)) == ["conv", "conv.bias", "embed", "fc1", "fc1.bias", "head",
                                                  "head.bias"]
    order = {name: i for i, name in enumerate(dict.fromkeys(by_dict.layer))}
    by_file = by_file.sort_values("layer", key=lambda c: c.map(order), kind="stable")
    _assert_rows_equal(by_file, by_dict)
    kinds = by_dict[by_dict.status == "ok"].drop_duplicates("layer").set_index("layer").kind.to_dict()
    assert kinds == {"fc1": "linear", "conv": "conv", "embed": "embedding"}
    assert (by_dict[by_dict.layer == "head"].status == "skipped").all()  # m = 5 <= min_dim
    assert (by_dict.state == "trained").all() and (by_dict.quantisation == "").all()


def test_fit_and_heavy_tail_columns_equal_the_stages(net):
    table = analyze_model(net, n_bootstrap=N_BOOTSTRAP, seed=2)
    table = table[table.layer.isin(LAYERS)]
    spectra, _ = spectra_tables({"trained": layer_matrices(net)})
    fits, _, _ = fit_tables(spectra, METHOD_NAMES, curve=False)
    columns = [c for c in FIT_COLUMNS if c != "state"]
    assert list(table.columns[:len(columns)]) == columns and "shape" in table
    _assert_rows_equal(table[columns], fits[columns])
    tails = heavy_tail_table(spectra, n_bootstrap=N_BOOTSTRAP, seed=2).set_index("layer")
    for layer, rows in table.groupby("layer", sort=False):
        ref = tails.loc[layer]
        assert (rows.heavy_tail_status == ref.status).all() and (rows.heavy_tail_reason == ref.reason).all()
        if ref.status != "skipped":
            assert (rows.verdict == ref.verdict).all()
        np.testing.assert_allclose(rows.alpha_sv.to_numpy(float), ref.alpha_sv, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(rows.gof_p.to_numpy(float), ref.gof_p, rtol=1e-12, equal_nan=True)
    assert table.drop_duplicates("layer").set_index("layer")["shape"].to_dict() == {
        "fc1": "80x40", "conv": "16x12x3x3", "embed": "80x40", "head": "5x40"}


def test_include_and_exclude(net, safetensors_path):
    assert set(analyze_model(net, include="fc", n_bootstrap=0).layer) == {"fc1", "fc1.bias"}
    assert set(analyze_model(net, exclude=["conv", "embed", "bias"], n_bootstrap=0).layer) == {"fc1", "head"}
    from_file = analyze_model(safetensors_path, include=r"\.weight$", exclude="head", n_bootstrap=0)
    assert set(from_file.layer) == {"fc1", "conv", "embed"}  # weights only, the head dropped
    for source in (net, net.state_dict(), safetensors_path):
        with pytest.raises(WeightsError, match="nomatch"):
            analyze_model(source, include="nomatch", n_bootstrap=0)


def test_include_matches_tensor_names_for_a_module_too(net):
    pattern = r"^fc1\.weight$"
    by_dict = analyze_model(net.state_dict(), include=pattern, n_bootstrap=0)
    assert set(by_dict.layer) == {"fc1"}
    assert set(analyze_model(net, include=pattern, n_bootstrap=0).layer) == {"fc1"}


@pytest.mark.parametrize("dtype, unit_roundoff", [(torch.float16, 2.0 ** -11), (torch.bfloat16, 2.0 ** -8)])
def test_half_precision_copies(net, dtype, unit_roundoff, tmp_path):
    """Rounding each entry to 16 bits changes it by at most u |w| (u the unit roundoff; the weights are
    far above float16's subnormal range), so E = W16 - W has ||E||_2 <= ||E||_F <= u ||W||_F and, by Weyl,
    every gamma moves by at most u ||W||_F / sqrt(n) = u sigma sqrt(m) (i.i.d. entries of SD sigma). Every
    estimator fits the scale of the bulk, whose smallest gamma is about sigma (1 - sqrt q), so sigma-hat
    moves by at most u sqrt(m) / (1 - sqrt q) relative: the tolerance used."""
    ref = analyze_model(net.state_dict(), n_bootstrap=0)
    half = {k: v.to(dtype) for k, v in net.state_dict().items()}
    path = tmp_path / "half.safetensors"
    save_file(half, str(path))
    for table in (analyze_model(half, n_bootstrap=0), analyze_model(str(path), n_bootstrap=0)):
        both = ref.merge(table, on=["layer", "method"], suffixes=("", "_half"), validate="one_to_one")
        assert len(both) == len(ref) == len(table)
        assert both.status.tolist() == both.status_half.tolist()  # the same layers analysed, the same skipped
        assert (both.s_hat.fillna(-1) == both.s_hat_half.fillna(-1)).all()
        ok = both[both.status == "ok"]
        assert len(ok) == 9  # fc1, conv, embed x 3 methods; the head (m = 5) is skipped
        tol = unit_roundoff * np.sqrt(ok.m) / (1 - np.sqrt(ok.q))
        assert ((ok.sigma_half / ok.sigma - 1).abs() <= tol).all(), ok[["layer", "method", "sigma", "sigma_half"]]


# ------------------------------------------------------------------ the models researchers have
def _planted(n: int, m: int, g: torch.Generator, strength: float = 0.0) -> torch.Tensor:
    """Gaussian noise of entry SD 1/sqrt(m), plus a rank-1 signal `strength` times the MP edge (none at 0)."""
    w = torch.randn(n, m, generator=g) / np.sqrt(m)
    if strength:
        u, v = torch.randn(n, generator=g), torch.randn(m, generator=g)
        edge = (1 + np.sqrt(min(n, m) / max(n, m))) * np.sqrt(max(n, m) / m)  # sigma sqrt(n)(1 + sqrt q), sigma^2 = 1/m
        w += strength * edge * torch.outer(u / u.norm(), v / v.norm())
    return w


def test_expert_stacks_give_one_matrix_per_expert_and_find_a_planted_signal():
    """(8, 256, 1024) gate_up plus (8, 512, 256) down: 16 matrices; a rank-1 signal at 3 times the noise
    edge planted in expert 5 of gate_up is found there (BBP: above the edge it separates) and nowhere else."""
    g = torch.Generator().manual_seed(0)
    gate_up = torch.stack([_planted(256, 1024, g, 3.0 if e == 5 else 0.0) for e in range(8)])
    down = torch.stack([_planted(512, 256, g) for _ in range(8)])
    state = {"model.layers.0.mlp.experts.gate_up_proj": gate_up, "model.layers.0.mlp.experts.down_proj": down}
    table = analyze_model(state, methods=["bema"], n_bootstrap=0)
    assert (table.status == "ok").sum() == 16 and set(table.kind) == {"expert"}
    found = table.set_index("layer").s_hat
    assert found["model.layers.0.mlp.experts.gate_up_proj[5]"] >= 1
    others = found.drop("model.layers.0.mlp.experts.gate_up_proj[5]")
    assert others.sum() <= 2  # pure noise: one value above gamma_+ in about one matrix in ten (beta = 0.1)
    split = analyze_model(state, methods=["bema"], n_bootstrap=0, split_gate_up=True)
    assert (split.status == "ok").sum() == 24  # 8 x (gate, up) + 8 down


def test_multihead_attention_module_equals_its_state_dict():
    """nn.MultiheadAttention analysed as a module: exactly the rows of its state_dict, in_proj included (fused,
    and split into q, k, v on request)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.MultiheadAttention(96, 4), nn.Conv3d(4, 32, 1), nn.Linear(96, 64))
    model.register_parameter("scale", nn.Parameter(torch.ones(96, 48)))  # a custom Parameter
    by_module = analyze_model(model, n_bootstrap=0)
    by_dict = analyze_model(model.state_dict(), n_bootstrap=0)
    pd.testing.assert_frame_equal(by_module, by_dict)
    assert set(by_module.layer) == {k.removesuffix(".weight") for k in model.state_dict()}
    ok = by_module[by_module.status == "ok"].drop_duplicates("layer").set_index("layer").kind.to_dict()
    assert ok == {"0.in_proj_weight": "attention", "0.out_proj": "linear", "2": "linear"}  # conv3d: m = 4 (too small)
    split = analyze_model(model, n_bootstrap=0, split_qkv=True, methods=["bema"])
    assert [f"0.in_proj_weight[{p}]" for p in "qkv"] == [name for name in split.layer if "in_proj_weight[" in name]
    w = model.state_dict()["0.in_proj_weight"].double().numpy()
    k_sv = np.linalg.svd(w[96:192], compute_uv=False)  # the key third: rows 96-191
    row = split.set_index("layer").loc["0.in_proj_weight[k]"]
    assert row.gamma_max == pytest.approx(k_sv[0] / np.sqrt(96), rel=1e-10)


def test_q8_0_gguf_matches_its_float_original(tmp_path):
    """A Q8_0 GGUF tensor gives sigma-hat within 1 % and the same s-hat as its float32 original: Q8_0 rounds each
    entry to 1/127 of its 32-block's absmax (~3.5 SD for Gaussian blocks), an error of SD ~0.008 of the entries'
    (uniform rounding), which moves the bulk's scale by ~3e-5 relative."""
    from gguf_files import write_gguf

    g = torch.Generator().manual_seed(1)
    weights = {"blk.0.ffn_up.weight": _planted(512, 256, g, 4.0), "blk.0.attn_q.weight": _planted(256, 256, g, 2.5)}
    path = write_gguf(tmp_path / "m.gguf", {k: (v.numpy(), "Q8_0") for k, v in weights.items()})
    quantised = analyze_model(str(path), n_bootstrap=0, methods=["bema", "gb"])
    original = analyze_model({k: v.float() for k, v in weights.items()}, n_bootstrap=0, methods=["bema", "gb"])
    assert (quantised.quantisation == "Q8_0").all() and (original.quantisation == "").all()
    both = original.merge(quantised, on=["layer", "method"], suffixes=("", "_q8"))
    assert len(both) == 4 and (both.status == "ok").all() and (both.status_q8 == "ok").all()
    assert ((both.sigma_q8 / both.sigma - 1).abs() < 0.01).all()
    assert both.s_hat.tolist() == both.s_hat_q8.tolist() and both.s_hat.min() >= 1


def test_baseline_rows_and_spectra_column():
    g = torch.Generator().manual_seed(2)
    state = {"fc.weight": _planted(120, 60, g, 3.0)}
    table = analyze_model(state, methods=["bema"], n_bootstrap=0, baseline="shuffled", spectra=True)
    assert table.state.tolist() == ["trained", "baseline"]
    trained, base = table.sv.iloc[0], table.sv.iloc[1]
    np.testing.assert_allclose(np.sort(trained)[::-1], trained)
    assert trained.size == base.size == 60 and table.s_hat.iloc[0] >= 1 and table.s_hat.iloc[1] == 0
    # the same sum of squares: a permutation keeps the Frobenius norm
    assert np.sum(trained ** 2) == pytest.approx(np.sum(base ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="shuffled, gaussian"):
        analyze_model(state, baseline="uniform")
    assert "sv" not in analyze_model(state, methods=["bema"], n_bootstrap=0)


def test_progress_lines_count_layers_and_time_left():
    g = torch.Generator().manual_seed(3)
    state = {"a.weight": _planted(40, 20, g), "a.bias": torch.zeros(40), "b.weight": _planted(30, 20, g)}
    lines = []
    analyze_model(state, methods=["bema"], n_bootstrap=0, baseline="gaussian", log=lines.append)
    assert [line.split(" ", 2)[:2] for line in lines] == [["1/4", "trained"], ["2/4", "trained"], ["3/4", "baseline"],
                                                         ["4/4", "baseline"]]
    assert lines[0].startswith("1/4 trained a 40×20 matrix: ok ") and lines[0].endswith(" left")
