"""Stage correlate: Pearson r of Ave_w(s) and accuracy(s) on constructed curves, for the trained weights and
their controls, the paired advantage of the trained weights, and every reason for no r."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmtweights.stages.correlate import CORRELATION_COLUMNS, STATES, correlation_table

S = np.arange(1, 7)
ACCURACY = pd.DataFrame({"s": S, "accuracy": [0.31, 0.52, 0.60, 0.71, 0.69, 0.80]})


def _curve(layer: str, method: str, reading: str, ave_w, state: str = "trained") -> pd.DataFrame:
    return pd.DataFrame({"state": state, "layer": layer, "method": method, "s": S, "reading": reading,
                         "ave_w": ave_w})


def _fit(layer, method, status="ok", reason="", s_hat=2, state="trained"):
    return dict(state=state, layer=layer, method=method, status=status, reason=reason, s_hat=s_hat)


FITS = pd.DataFrame([
    _fit("fc2", "bema"),
    _fit("fc2", "gb", status="failed", reason="gb estimator failed: boom"),
    _fit("fc2", "modified_mp", s_hat=pd.NA),
    _fit("fc3", "bema"),
    _fit("fc2", "bema", status="skipped", reason="m=5 <= min_dim=10", state="initial"),
])
FIXED = np.array([0.50, 0.61, 0.66, 0.74, 0.73, 0.84])
IMPLIED = np.array([np.nan, 0.40, 0.62, 0.55, 0.78, 0.80])
CURVES = pd.concat([
    _curve("fc2", "bema", "fixed", FIXED),
    _curve("fc2", "bema", "implied", IMPLIED),
    _curve("fc2", "gb", "fixed", FIXED[::-1]),
    _curve("fc2", "gb", "implied", FIXED[::-1]),
    _curve("fc3", "bema", "fixed", [0.9, np.nan, np.nan, 0.7, np.nan, np.nan]),  # 2 defined points
    _curve("fc3", "bema", "implied", np.full(6, 0.5)),  # constant
    _curve("fc9", "bema", "fixed", FIXED),  # another layer: ignored
], ignore_index=True)


def _trained(table: pd.DataFrame) -> pd.DataFrame:
    return table[table.state == "trained"]


def test_pearson_r_equals_corrcoef():
    table = correlation_table(CURVES, ACCURACY, FITS, "fc2")
    assert tuple(table.columns) == CORRELATION_COLUMNS and "p_value" not in table
    bema = _trained(table)[_trained(table).method == "bema"].set_index("reading")
    acc = ACCURACY.accuracy.to_numpy()
    # np.corrcoef on the same points: equal to rounding (1e-12)
    assert bema.loc["fixed", "pearson_r"] == pytest.approx(np.corrcoef(FIXED, acc)[0, 1], abs=1e-12)
    defined = ~np.isnan(IMPLIED)  # s = 1 undefined: r over the 5 defined points
    assert bema.loc["implied", "pearson_r"] == pytest.approx(np.corrcoef(IMPLIED[defined], acc[defined])[0, 1],
                                                             abs=1e-12)
    assert bema.k.tolist() == [6, 5] and (bema.status == "ok").all() and (bema.reason == "").all()
    assert -1 <= bema.pearson_r.min() and bema.pearson_r.max() <= 1
    assert bema.trained_advantage.isna().all()  # the trained rows are the reference


def test_reasons_for_no_r():
    table = _trained(correlation_table(CURVES, ACCURACY, FITS, "fc2")).set_index(["method", "reading"])
    assert len(table) == 6  # 3 trained methods x 2 readings
    for reading in ("fixed", "implied"):
        gb = table.loc[("gb", reading)]
        assert gb.status == "skipped" and gb.reason == "no gb fit for fc2: gb estimator failed: boom"
        assert np.isnan(gb.pearson_r)
        mp = table.loc[("modified_mp", reading)]
        assert mp.status == "skipped" and "modified_mp gives no threshold" in mp.reason and np.isnan(mp.pearson_r)
    fc3 = _trained(correlation_table(CURVES, ACCURACY, FITS, "fc3")).set_index("reading")
    assert fc3.loc["fixed", "status"] == "skipped" and np.isnan(fc3.loc["fixed", "pearson_r"])
    assert fc3.loc["fixed", "reason"] == "Ave_w(s) is defined at 2 of 6 ranks s; at least 3 are needed"
    assert fc3.loc["fixed", "k"] == 2
    assert fc3.loc["implied", "status"] == "skipped" and np.isnan(fc3.loc["implied", "pearson_r"])
    assert fc3.loc["implied", "reason"] == "Ave_w(s) is constant over s = 1..6"
    flat = correlation_table(CURVES, ACCURACY.assign(accuracy=0.1), FITS, "fc2")
    flat = _trained(flat).set_index(["method", "reading"])
    assert flat.loc[("bema", "fixed"), "reason"] == "accuracy(s) is constant over s = 1..6"
    assert np.isnan(flat.loc[("bema", "fixed"), "pearson_r"])


GAUSSIAN = np.array([0.20, 0.45, 0.70, 0.75, 0.80, 0.82])  # rises like any implied curve
SHUFFLED = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])


def test_controls_use_the_same_accuracy_and_report_the_trained_advantage():
    curves = pd.concat([CURVES, _curve("fc2", "bema", "implied", GAUSSIAN, "gaussian"),
                        _curve("fc2", "bema", "fixed", GAUSSIAN, "gaussian"),
                        _curve("fc2", "bema", "implied", SHUFFLED, "shuffled"),
                        _curve("fc2", "bema", "fixed", SHUFFLED, "shuffled")], ignore_index=True)
    fits = pd.concat([FITS, pd.DataFrame([_fit("fc2", "bema", state="gaussian"), _fit("fc2", "bema", state="shuffled")])],
                     ignore_index=True)
    table = correlation_table(curves, ACCURACY, fits, "fc2")
    assert list(dict.fromkeys(table.state)) == list(STATES) == ["trained", "initial", "gaussian", "shuffled"]
    assert len(table) == len(STATES) * 3 * 2  # every state x trained method x reading has a row
    rows = table.set_index(["state", "method", "reading"])
    acc = ACCURACY.accuracy.to_numpy()
    r_gauss = np.corrcoef(GAUSSIAN, acc)[0, 1]
    assert rows.loc[("gaussian", "bema", "implied"), "pearson_r"] == pytest.approx(r_gauss, abs=1e-12)
    assert rows.loc[("shuffled", "bema", "implied"), "pearson_r"] == pytest.approx(np.corrcoef(SHUFFLED, acc)[0, 1],
                                                                                   abs=1e-12)
    trained = rows.loc[("trained", "bema", "implied"), "pearson_r"]
    # paired in the run: trained r minus the control's r, the same accuracy curve for both
    assert rows.loc[("gaussian", "bema", "implied"), "trained_advantage"] == pytest.approx(trained - r_gauss, abs=1e-12)
    assert rows.loc[("shuffled", "bema", "implied"), "trained_advantage"] > 1  # a falling curve: r < 0
    initial = rows.loc[("initial", "bema", "implied")]
    assert initial.status == "skipped" and initial.reason == "no bema fit for the initial control of fc2: m=5 <= min_dim=10"
    assert np.isnan(initial.trained_advantage)
    missing = rows.loc[("gaussian", "gb", "implied")]  # no gb fit of the control: a reason, no number
    assert missing.status == "skipped" and "no gaussian spectrum of fc2" in missing.reason
