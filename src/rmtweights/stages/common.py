"""Pieces shared by the per-run stages: the run-key columns and the walk over a spectra table's layers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from rmtweights.run_keys import RUN_COLUMNS

__all__ = ["RUN_COLUMNS", "STATES", "add_run_keys", "layer_groups", "run_key", "skipped_reason"]

#: Weight states of a run: the trained weights and those it started from (or, for a model given
#: without its initialisation, a random baseline of the same shapes).
STATES: tuple[str, ...] = ("trained", "initial")


def add_run_keys(frame: pd.DataFrame, keys: Mapping[str, Any] | Any) -> pd.DataFrame:
    """Prefix ``frame`` with the run-key columns (seed as int, the rest as str).

    ``keys`` is a mapping or an object with the keys as attributes (Snakemake's wildcards).
    """
    out = frame.copy()
    for position, key in enumerate(RUN_COLUMNS):
        out.insert(position, key, run_key(keys, key))
    return out


def run_key(keys: Mapping[str, Any] | Any, name: str) -> int | str:
    """The run key ``name`` of ``keys`` (a mapping, or an object with the keys as attributes, such as
    Snakemake's wildcards): ``seed`` as int, the others as str."""
    value = keys[name] if isinstance(keys, Mapping) else getattr(keys, name)
    return int(value) if name == "seed" else str(value)


def layer_groups(spectra: pd.DataFrame, state: str | None = None) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """Yield ``(state, layer, rows)`` in the table's order, rows sorted by ``index`` (0 = largest)."""
    frame = spectra if state is None else spectra[spectra.state == state]
    for (st, layer), rows in frame.groupby(["state", "layer"], sort=False):
        yield st, layer, rows.sort_values("index")


def skipped_reason(rows: pd.DataFrame) -> str | None:
    """Why a layer of the spectra table has no spectrum (``None`` when it has one)."""
    status = rows.status.iloc[0]
    if status != "ok":
        return str(rows.reason.iloc[0]) or str(status)
    return None
