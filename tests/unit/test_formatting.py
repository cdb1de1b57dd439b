"""Numbers and run keys as text: one helper for the figures and the summary, conventions as arguments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rmtweights.formatting import distinct, fmt, natural_key, number, run_label


@pytest.mark.parametrize("value", [None, pd.NA, np.nan, math.inf, -math.inf, "x", [1, 2]])
def test_number_missing_is_the_callers_choice(value):
    assert math.isnan(number(value))
    assert number(value, None) is None


def test_number_and_fmt():
    assert number(np.int64(3)) == 3.0 and number("0.5") == 0.5 and number(True) == 1.0
    assert fmt(0.12345) == "0.123" and fmt(1234.5, ".4g") == "1234" and fmt(pd.NA) == "n/a"
    assert fmt(np.nan, ".3f", missing="–") == "–"
    assert fmt(-0.0001, ".3f") == "-0.000"  # figures keep the sign
    assert fmt(-0.0001, ".3f", negative_zero=False) == "0.000"  # the summary drops it
    assert fmt(-0.25, ".1f", negative_zero=False) == "-0.2"  # a value that does not round to zero keeps it


def test_natural_order_and_distinct_values():
    assert sorted(["N200", "N40", "bs128", "bs64"], key=natural_key) == ["N40", "N200", "bs64", "bs128"]
    frame = pd.DataFrame({"seed": [1, 0, 1, None], "model": ["m"] * 4})
    assert distinct([frame, None, {"seed": 10}, pd.Series({"seed": np.nan})], "seed") == ["0.0", "1.0", "10"]
    assert distinct([frame], "layer") == []


def test_run_label_in_titles_and_as_a_path():
    runs = pd.DataFrame({"study": ["s", "s"], "dataset": ["d", "d"], "model": ["m", "m"], "variant": ["v", "v"],
                         "seed": [0, 1]})
    assert run_label(runs) == "study s · dataset d · model m · variant v · seeds 0, 1"
    assert run_label(runs.iloc[:1]) == "study s · dataset d · model m · variant v · seed 0"
    assert run_label(pd.DataFrame()) == "run keys not given"
    path = dict(keys=("study", "dataset", "model", "variant"), named=False, separator="/",
                omit={"variant": ("base",)}, empty="")
    assert run_label(runs.iloc[0], **path) == "s/d/m/v"
    assert run_label({"study": "s", "dataset": "d", "model": "m", "variant": "base"}, **path) == "s/d/m"
    assert run_label({}, **path) == ""
