"""Rule ``plot_dynamics``: s-hat, Ave_w and accuracy of one run group over its snapshots or checkpoints,
drawn by :mod:`rmtweights.plots.dynamics` from the study table ``dynamics``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from rmtweights.plots.dynamics import dynamics_figure
from rmtweights.stages.over_seeds import GROUP

__all__ = ["plot_dynamics"]


def plot_dynamics(table: pd.DataFrame, group_keys: Mapping[str, Any] | Any) -> Figure:
    """The figure of the run group ``group_keys`` (study, dataset, model, variant) of a ``dynamics`` table."""
    keys = {key: str(group_keys[key] if isinstance(group_keys, Mapping) else getattr(group_keys, key))
            for key in GROUP}
    rows = table[(table[GROUP].astype(str) == pd.Series(keys)).all(axis=1)]
    if rows.empty:
        raise ValueError(f"the dynamics table has no rows of {'/'.join(keys.values())}")
    return dynamics_figure(rows)
