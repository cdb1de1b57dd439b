"""Stage measure_universality: spacing test, histogram and number variance per layer, Porter–Thomas summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.layers import LayerMatrix
from rmtweights.rmt import universality as uni
from rmtweights.stages.spectra import spectra_tables
from rmtweights.stages.measure_universality import PT_LEVEL, TOP_VECTORS, universality_tables

A = 15
LS = (1.0, 2.0, 5.0)


@pytest.fixture(scope="module")
def spectra() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    trained = [LayerMatrix("fc1", "linear", rng.standard_normal((300, 150)), (150, 300), "spatial", True),
               # m = 75: 44 spacings after the unfolding at a = 15, fewer than MIN_SPACINGS = 50
               LayerMatrix("fc2", "linear", rng.standard_normal((200, 75)), (75, 200), "spatial", True),
               LayerMatrix("head", "linear", rng.standard_normal((40, 8)), (8, 40), "spatial", True)]  # no spectrum
    initial = [LayerMatrix("fc1", "linear", rng.standard_normal((300, 150)), (150, 300), "spatial", True)]
    control = [LayerMatrix("fc1", "linear", rng.standard_normal((300, 150)), (150, 300), "spatial", True)]
    return spectra_tables({"trained": trained, "initial": initial, "gaussian": control})[0]


def _pt_rows(state: str, layer: str, p_values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"state": state, "layer": layer, "rank": np.arange(1, len(p_values) + 1),
                         "p_value": p_values})


@pytest.fixture(scope="module")
def porter_thomas() -> pd.DataFrame:
    """A hand-made Porter–Thomas table: 20 vectors per state (top = ranks 1..10)."""
    below, above = PT_LEVEL / 2, 0.5
    trained = [below] * 3 + [above] * 7 + [below] * 1 + [above] * 9  # top 3/10 rejected, rest 1/10
    initial = [above] * 10 + [below] * 4 + [above] * 6  # top 0/10, rest 4/10
    assert TOP_VECTORS == 10  # the split the fractions below assume
    return pd.concat([_pt_rows("trained", "fc1", trained), _pt_rows("initial", "fc1", initial)], ignore_index=True)


def _gammas(spectra, state, layer):
    return spectra[(spectra.state == state) & (spectra.layer == layer)].sort_values("index").gamma.to_numpy()


def test_summary_equals_spacing_test_and_skips(spectra, porter_thomas):
    out = universality_tables(spectra, porter_thomas, a=A, ls=LS)
    summary = out["summary"]
    assert list(zip(summary.state, summary.layer)) == [("trained", "fc1"), ("trained", "fc2"), ("trained", "head"),
                                                       ("initial", "fc1")]
    assert list(summary.columns[:2]) == ["state", "layer"]
    for state in ("trained", "initial"):
        row = summary[(summary.state == state) & (summary.layer == "fc1")].iloc[0]
        ref = uni.spacing_test(_gammas(spectra, state, "fc1"), a=A)
        for key, value in ref.items():
            if isinstance(value, float):
                np.testing.assert_allclose(row[key], value, rtol=1e-12, err_msg=key)  # same call, same levels
            else:
                assert row[key] == value, key
        assert (row.n, row.m, row.kind) == (300, 150, "linear")
    fc2 = summary[summary.layer == "fc2"].iloc[0]
    assert fc2.status == "skipped" and np.isnan(fc2.p_value) and fc2.n_spacings == 75 - 2 * A - 1
    assert fc2.reason == ("44 spacings < 50: too few for the KS test to tell GOE from Poisson levels "
                          "(power below 0.9)")
    head = summary[summary.layer == "head"].iloc[0]
    assert head.status == "skipped" and head.reason.startswith("m=8 <= min_dim=10")
    # a smaller window leaves 54 spacings: fc2 is tested
    smaller = universality_tables(spectra, porter_thomas, a=10, ls=LS)["summary"]
    assert smaller[smaller.layer == "fc2"].status.iloc[0] == "ok"
    assert "gaussian" not in set(summary.state)  # the Ave_w controls are not the run's weights


def test_porter_thomas_fractions_by_hand(spectra, porter_thomas):
    summary = universality_tables(spectra, porter_thomas, a=A, ls=LS)["summary"].set_index(["state", "layer"])
    assert summary.loc[("trained", "fc1"), "pt_rejected_top"] == pytest.approx(3 / 10, abs=1e-15)
    assert summary.loc[("trained", "fc1"), "pt_rejected_rest"] == pytest.approx(1 / 10, abs=1e-15)
    assert summary.loc[("initial", "fc1"), "pt_rejected_top"] == pytest.approx(0.0, abs=1e-15)
    assert summary.loc[("initial", "fc1"), "pt_rejected_rest"] == pytest.approx(4 / 10, abs=1e-15)
    skipped = summary.loc[[("trained", "fc2"), ("trained", "head")], ["pt_rejected_top", "pt_rejected_rest"]]
    assert skipped.isna().all().all()
    # an empty Porter–Thomas table (no vectors tested): the columns exist, all NaN
    empty = universality_tables(spectra, pd.DataFrame(columns=["state", "layer", "rank", "p_value"]), a=A, ls=LS)
    assert empty["summary"][["pt_rejected_top", "pt_rejected_rest"]].isna().all().all()


def test_spacings_and_number_variance_frames(spectra, porter_thomas):
    out = universality_tables(spectra, porter_thomas, a=A, ls=LS)
    for name in ("spacings", "number_variance"):
        frame = out[name]
        assert list(frame.columns[:2]) == ["state", "layer"]
        assert set(zip(frame.state, frame.layer)) == {("trained", "fc1"), ("initial", "fc1")}  # ok layers only
    for state in ("trained", "initial"):
        levels = _gammas(spectra, state, "fc1")
        hist = out["spacings"][out["spacings"].state == state].drop(columns=["state", "layer"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(hist, uni.spacing_histogram(levels, a=A), check_exact=False, rtol=1e-12)
        nv = out["number_variance"][out["number_variance"].state == state].reset_index(drop=True)
        ref = uni.number_variance(uni.unfold(levels, a=A), np.asarray(LS))
        assert nv["l"].tolist() == list(LS)
        for column in ref.columns:
            np.testing.assert_allclose(nv[column], ref[column], rtol=1e-12, err_msg=column)
        np.testing.assert_allclose(nv.goe, uni.goe_number_variance(np.asarray(LS)), rtol=1e-12)
