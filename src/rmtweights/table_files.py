"""A study table's three files: Parquet (the data), CSV (the same, for spreadsheets) and a Markdown view to read.

The Parquet and CSV files hold every column at full precision. The Markdown view (:func:`markdown_view`)
is for reading, so it is narrower and rounder:

* ``<value>_mean``, ``<value>_sd`` and ``<value>_n`` become one column ``<value>`` reading ``mean ± SD``
  (the SD with the mean's decimals), followed by ``(k of n seeds)`` where only k of the row's n seeds
  have a value; a lone ``<value>_mean`` becomes ``<value>``;
* numbers are written in fixed notation with three significant digits, an SD with the decimals of its mean
  (``0.0260 ± 0.0001``, never ``2.6e-02 ± 7.4e-05``); columns of whole numbers stay whole;
* a missing value is a dash, ``–``, whatever its type (NaN, ``<NA>``, None);
* run-key columns (``study``, ``dataset``, ``model``, ``variant``) that hold one value in every row are
  left out and named in a line above the table;
* ``status`` and ``reason`` come last.

Writing is atomic (:func:`rmtweights.io.atomic_path`). This module is imported only by the rules that
write tables, so editing the view reruns those and nothing else.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.io import atomic_path, write_parquet

__all__ = ["MISSING", "markdown_view", "write_table"]

#: How the Markdown view writes a missing value.
MISSING = "–"
#: Run keys left out of the Markdown view (and named above it) when one value fills the column.
CONSTANT_KEYS: tuple[str, ...] = ("study", "dataset", "model", "variant")
#: Columns the Markdown view puts last.
LAST: tuple[str, ...] = ("status", "reason")


def write_table(frame: pd.DataFrame, parquet: str | os.PathLike, csv: str | os.PathLike | None = None,
                markdown: str | os.PathLike | None = None) -> None:
    """Write a study table as Parquet and, optionally, CSV (every column) and Markdown (:func:`markdown_view`)."""
    write_parquet(frame, parquet)
    if csv is not None:
        with atomic_path(csv) as tmp:
            frame.to_csv(tmp, index=False)
    if markdown is not None:
        with atomic_path(markdown) as tmp:
            tmp.write_text(markdown_view(frame) + "\n")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def _whole(*columns: pd.Series) -> bool:
    """True when every finite value of the columns is a whole number (counts stay whole)."""
    for column in columns:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        numbers = numbers[np.isfinite(numbers)]
        if not np.all(numbers == np.round(numbers)):
            return False
    return True


def _decimals(value: Any, whole: bool) -> int:
    """Decimals for three significant digits of ``value`` in fixed notation (0 to 6); none for whole columns."""
    if whole or _missing(value) or not math.isfinite(float(value)) or float(value) == 0:
        return 0 if whole else 2
    return int(np.clip(2 - math.floor(math.log10(abs(float(value)))), 0, 6))


def _number(value: Any, decimals: int) -> str:
    if _missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.{decimals}f}" if math.isfinite(float(value)) else str(float(value))
    return _text(value)


def _text(value: Any) -> str:
    return MISSING if _missing(value) else str(value).replace("|", "\\|").replace("\n", " ")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def markdown_view(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown view of a table (module docstring: which columns, how numbers read)."""
    columns = list(frame.columns)
    keys = [key for key in CONSTANT_KEYS if key in columns and len(frame) and frame[key].nunique(dropna=False) == 1]
    header = (" · ".join(f"{key} `{frame[key].iloc[0]}`" for key in keys) + " (every row)\n\n") if keys else ""
    cells: dict[str, list[str]] = {}
    done: set[str] = set()
    for column in columns:
        if column in done or column in keys:
            continue
        base = column[: -len("_mean")] if column.endswith("_mean") else None
        if base is not None:
            sd, count = f"{base}_sd", f"{base}_n"
            spreads = frame[sd] if sd in columns else pd.Series([None] * len(frame), index=frame.index)
            whole = _whole(frame[column], spreads)
            counts = frame[count].tolist() if count in columns else [None] * len(frame)
            seeds = frame["n_seeds"].tolist() if "n_seeds" in columns else [None] * len(frame)
            texts = []
            for value, sd_value, n, total in zip(frame[column], spreads, counts, seeds):
                decimals = _decimals(value, whole)  # the SD with the mean's decimals
                mean, spread = _number(value, decimals), _number(sd_value, decimals)
                text = mean if mean == MISSING or spread == MISSING else f"{mean} ± {spread}"
                if mean != MISSING and not _missing(n) and not _missing(total) and int(n) < int(total):
                    text += f" ({int(n)} of {int(total)} seeds)"
                texts.append(text)
            cells[base] = texts
            done |= {column, sd, count}
        elif _is_numeric(frame[column]):
            whole = _whole(frame[column])
            cells[column] = [_number(v, _decimals(v, whole)) for v in frame[column]]
        else:
            cells[column] = [_number(v, 0) if isinstance(v, bool | np.bool_) else _text(v) for v in frame[column]]
    order = [c for c in cells if c not in LAST] + [c for c in LAST if c in cells]
    lines = ["| " + " | ".join(order) + " |", "|" + "|".join("---" for _ in order) + "|"]
    lines += ["| " + " | ".join(cells[c][i] for c in order) + " |" for i in range(len(frame))]
    return header + "\n".join(lines)
