"""Shared stage pieces: run keys, the walk over a spectra table's layers, the reason a layer has no spectrum."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rmtweights.stages.common import RUN_COLUMNS, STATES, add_run_keys, layer_groups, run_key, skipped_reason


def test_add_run_keys_from_mapping_and_attributes():
    frame = pd.DataFrame({"layer": ["fc1", "fc2"], "x": [1.0, 2.0]})
    keys = dict(study="demo", dataset="syn", model="mlp", variant="base", seed="3")  # wildcards are strings
    for given in (keys, SimpleNamespace(**keys)):
        out = add_run_keys(frame, given)
        assert list(out.columns) == [*RUN_COLUMNS, "layer", "x"]
        assert out.seed.tolist() == [3, 3] and out.seed.dtype.kind == "i"
        assert out.study.tolist() == ["demo", "demo"] and out.variant.tolist() == ["base", "base"]
        pd.testing.assert_frame_equal(out[["layer", "x"]], frame)
    assert list(frame.columns) == ["layer", "x"]  # the input is not modified
    with pytest.raises(KeyError):
        add_run_keys(frame, {"study": "demo"})
    assert STATES == ("trained", "initial")


def test_run_key_types_and_sources():
    keys = dict(study="demo", dataset="syn", model="mlp", variant="base", seed="3")
    for given in (keys, SimpleNamespace(**keys)):
        assert run_key(given, "seed") == 3 and run_key(given, "model") == "mlp"
    assert run_key({"seed": 7}, "seed") == 7
    with pytest.raises(AttributeError):
        run_key(SimpleNamespace(study="demo"), "seed")


def test_layer_groups_order_sorting_and_state_filter():
    spectra = pd.DataFrame({
        "state": ["trained"] * 5 + ["initial"] * 2,
        "layer": ["fc2", "fc2", "fc1", "fc1", "fc1", "fc2", "fc2"],
        "index": pd.array([1, 0, 2, 0, 1, 1, 0], dtype="Int64"),
        "sv": [1.0, 2.0, 0.5, 3.0, 1.5, 0.7, 0.9],
    })
    groups = list(layer_groups(spectra))
    assert [(s, layer) for s, layer, _ in groups] == [("trained", "fc2"), ("trained", "fc1"), ("initial", "fc2")]
    for _, _, rows in groups:  # sorted by index: 0 = largest singular value
        assert rows["index"].tolist() == sorted(rows["index"].tolist())
        assert np.all(np.diff(rows.sv.to_numpy()) <= 0)
    assert [(s, layer) for s, layer, _ in layer_groups(spectra, "initial")] == [("initial", "fc2")]


def test_skipped_reason():
    ok = pd.DataFrame({"status": ["ok", "ok"], "reason": ["", ""]})
    assert skipped_reason(ok) is None
    assert skipped_reason(pd.DataFrame({"status": ["skipped"], "reason": ["m=5 <= min_dim=10"]})) == "m=5 <= min_dim=10"
    assert skipped_reason(pd.DataFrame({"status": ["failed"], "reason": [""]})) == "failed"  # never an empty reason
