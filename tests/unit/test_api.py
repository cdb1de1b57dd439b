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
