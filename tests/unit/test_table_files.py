"""A study table's files (rmtweights.table_files): every column in Parquet and CSV, a narrow and readable
Markdown view."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rmtweights.table_files import MISSING, markdown_view, write_table


def table() -> pd.DataFrame:
    """Like a table2: two layers of one run group, one with a value for only one of its two seeds."""
    return pd.DataFrame({
        "study": ["demo", "demo"], "dataset": ["syn", "syn"], "model": ["mlp", "mlp"], "variant": ["base", "base"],
        "layer": ["fc1", "fc2"], "min_nm": [512, 64],
        "s_hat_mean": pd.array([7.5, pd.NA], dtype="Float64"), "s_hat_sd": pd.array([0.7071, pd.NA], dtype="Float64"),
        "s_hat_n": [2, 0],
        "sigma_mean": [0.026, 0.0518], "sigma_sd": [7.4e-05, np.nan], "sigma_n": [2, 1],
        "n_seeds": [2, 2], "status": ["ok", "partial"], "reason": ["", "seed 1: a | b"],
        "s_hat_fraction_mean": [0.0146, np.nan],
    })


def rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_the_view_merges_mean_sd_and_counts_and_puts_status_last():
    text = markdown_view(table())
    assert text.splitlines()[0] == "study `demo` · dataset `syn` · model `mlp` · variant `base` (every row)"
    header, rule, first, second = rows(text)
    assert header == ["layer", "min_nm", "s_hat", "sigma", "n_seeds", "s_hat_fraction", "status", "reason"]
    assert first == ["fc1", "512", "7.50 ± 0.71", "0.0260 ± 0.0001", "2", "0.0146", "ok", ""]
    # a value from one seed of two says so; missing values of any type are one dash
    assert second == ["fc2", "64", MISSING, f"0.0518 (1 of 2 seeds)", "2", MISSING, "partial", "seed 1: a \\| b"]
    assert "nan" not in text and "<NA>" not in text and "e-0" not in text


def test_keys_that_vary_are_kept_and_nothing_is_dropped_from_parquet_or_csv(tmp_path):
    frame = pd.concat([table(), table().assign(model="lenet")], ignore_index=True)
    assert rows(markdown_view(frame))[0][:2] == ["model", "layer"]
    write_table(frame, tmp_path / "t.parquet", csv=tmp_path / "t.csv", markdown=tmp_path / "t.md")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)
    assert list(pd.read_csv(tmp_path / "t.csv").columns) == list(frame.columns)  # the full table, every column
    assert (tmp_path / "t.md").read_text() == markdown_view(frame) + "\n"


def test_whole_numbers_stay_whole_and_booleans_read_yes_or_no():
    frame = pd.DataFrame({"choice": ["dense", "bema"], "params_mean": [83270.0, 22540.0], "params_sd": [0.0, 452.5],
                          "params_n": [2, 2], "n_seeds": [2, 2], "compare_layer": [True, False]})
    assert rows(markdown_view(frame))[2:] == [["dense", "83270 ± 0", "2", "yes"], ["bema", "22540 ± 452", "2", "no"]]


def test_a_whole_mean_with_a_fractional_sd_keeps_decimals():
    frame = pd.DataFrame({"s_hat_mean": [2.0, 4.0], "s_hat_sd": [0.7071, 0.0], "s_hat_n": [2, 2], "n_seeds": [2, 2]})
    assert [row[0] for row in rows(markdown_view(frame))[2:]] == ["2.00 ± 0.71", "4.00 ± 0.00"]


def test_each_value_keeps_three_significant_digits_whatever_the_columns_range():
    frame = pd.DataFrame({"params_fraction_mean": [1.0, 0.02143], "params_fraction_sd": [0.0, 0.00046],
                          "params_fraction_n": [2, 2], "n_seeds": [2, 2]})
    assert [row[0] for row in rows(markdown_view(frame))[2:]] == ["1.00 ± 0.00", "0.0214 ± 0.0005"]
