"""Numbers and run keys as text, for the figures (:mod:`rmtweights.plots`) and the summary
(:mod:`rmtweights.summary`).

One definition of each, with what differs between its readers made an argument: a figure's label
reads "n/a" where a value is missing and a Markdown table a dash; a figure's title names each key
("study demo · dataset mnist · seeds 0, 1") and the summary writes a run as a path
("demo/mnist/mlp"). No value is ever written as "nan" or "<NA>".
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from rmtweights.run_keys import RUN_COLUMNS

__all__ = ["number", "fmt", "natural_key", "distinct", "run_label"]


def number(value: Any, missing: float | None = math.nan) -> float | None:
    """A table cell as a finite float; ``missing`` (NaN, or None where a caller tests ``is None``)
    for NaN, infinity, ``<NA>``, None and values that are not numbers."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return missing
    return x if math.isfinite(x) else missing


def fmt(value: Any, spec: str = ".3g", *, missing: str = "n/a", negative_zero: bool = True) -> str:
    """``value`` formatted by ``spec`` (a :func:`format` spec such as ``".3g"`` or ``".2f"``);
    ``missing`` when it is not a finite number. ``negative_zero=False`` drops the sign of a value
    that rounds to zero ("0.000", not "-0.000")."""
    x = number(value)
    if not math.isfinite(x):
        return missing
    text = format(x, spec)
    if not negative_zero and re.fullmatch(r"-0\.?0*", text):
        return text[1:]
    return text


def natural_key(value: Any) -> tuple:
    """Sort key that orders "bs64" before "bs128" and "N40" before "N200"."""
    parts = re.split(r"(\d+(?:\.\d+)?)", str(value))
    return tuple((0, float(p)) if i % 2 else (1, p) for i, p in enumerate(parts))


def _column(source: pd.DataFrame | Mapping[str, Any] | pd.Series | None, key: str) -> list[Any]:
    """The non-missing values of ``key`` in a table (a column) or a row (one value)."""
    if source is None:
        return []
    if isinstance(source, pd.DataFrame):
        return list(source[key].dropna().unique()) if key in source.columns else []
    if key not in source:
        return []
    value = source[key]
    return [] if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else [value]


def distinct(sources: Sequence[pd.DataFrame | Mapping[str, Any] | pd.Series | None], key: str) -> list[str]:
    """Distinct non-missing values of ``key`` over tables and rows, naturally sorted, as strings."""
    values = {str(v) for source in sources for v in _column(source, key)}
    return sorted(values, key=natural_key)


def run_label(*sources: pd.DataFrame | Mapping[str, Any] | pd.Series, keys: Sequence[str] = RUN_COLUMNS,
              named: bool = True, separator: str = " · ", omit: Mapping[str, Collection[str]] | None = None,
              empty: str = "run keys not given") -> str:
    """The run keys of tables or rows as one label.

    Parameters
    ----------
    *sources : pandas.DataFrame, mapping or pandas.Series
        Tables (every value of a key column counts) or rows.
    keys : sequence of str
        The keys shown, in order; a key that no source has is left out.
    named : bool
        ``True``: "study S · dataset D · seeds 0, 1" (each key's name before its values, "seeds"
        for several seeds); ``False``: the values only ("S/D").
    separator : str
        Between keys (" · " in titles, "/" for a run written as a path).
    omit : mapping of str to collection of str, optional
        Values that say nothing and are left out, per key (e.g. the variant "base").
    empty : str
        The label when no key has a value.
    """
    omit = omit or {}
    parts = []
    for key in keys:
        values = [v for v in distinct(sources, key) if v not in omit.get(key, ())]
        if not values:
            continue
        if named:
            name = key if len(values) == 1 or key != "seed" else "seeds"
            parts.append(f"{name} {', '.join(values)}")
        else:
            parts.append(", ".join(values))
    return separator.join(parts) if parts else empty
