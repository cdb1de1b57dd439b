"""Rule ``record_snapshot_settings``: what a run group's snapshot analyses depend on, besides the weights.

One small table per run group with snapshot epochs: the analysis settings the snapshots are analysed
with (estimators, their options, the heavy-tail test, the conv reshape, the analysis code) and what
determines the snapshots' weights apart from the epoch (data set, model, recipe without ``epochs``, the
training code). Rule ``analyze_snapshot`` reads its settings from it.

Why a table of its own: a snapshot must keep its analysis when the run's training is extended
(``final.pt`` is rewritten, the epochs' weights are the same), so ``analyze_snapshot`` takes its
snapshot as an ``ancient`` input. Snakemake does not evaluate the rerun triggers of a job below a job
that reruns in the same invocation, unless a non-ancient input of it changes; this record, which
depends on no training output, is that input: it changes, and every snapshot analysis of the group
reruns, exactly when a setting, the recipe, the model, the data or the code changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["record_snapshot_settings", "read_settings"]


def record_snapshot_settings(settings: Mapping[str, Any]) -> pd.DataFrame:
    """One row per setting: ``name`` and its ``value`` as canonical JSON (sorted keys)."""
    return pd.DataFrame({"name": list(settings), "value": [json.dumps(v, sort_keys=True) for v in settings.values()]})


def read_settings(table: pd.DataFrame) -> dict[str, Any]:
    """The settings of a table written by :func:`record_snapshot_settings`."""
    return {str(name): json.loads(value) for name, value in zip(table.name, table.value)}
