"""Rule ``analyze_snapshot``: one epoch's weights of a trained run analysed like its final weights.

The snapshot (rule ``take_snapshot``: ``model/epoch<e>.pt``), with the settings its run group's
record holds (rule ``record_snapshot_settings``), goes through
:func:`rmtweights.stages.snapshot_tables.snapshot_tables`; each row gets the run keys, the ``epoch`` and
the test loss and accuracy of those weights.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rmtweights import io, layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.record_snapshot_settings import read_settings
from rmtweights.stages.snapshot_tables import snapshot_tables

__all__ = ["analyze_snapshot"]


def analyze_snapshot(snapshot: str | os.PathLike, settings: pd.DataFrame, run_keys: Mapping[str, Any] | Any,
                     epoch: int, *, device: str | None = None,
                     log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and the spike directions of the snapshot file ``snapshot`` (epoch ``epoch``), both
    prefixed with the run keys and the epoch; the table also has ``test_loss`` and ``test_acc``.

    ``settings``: the run group's record (:mod:`rmtweights.stages.record_snapshot_settings`), whose
    ``analysis`` holds ``methods``, ``alpha``, ``a``, ``beta``, ``heavy_tail`` and ``reshape``.
    """
    state = io.load_checkpoint(snapshot)
    if int(state["epoch"]) != int(epoch):
        raise ValueError(f"{snapshot} holds epoch {state['epoch']}, not {epoch}")
    options = read_settings(settings)["analysis"]
    matrices = layers.iter_layer_matrices(layers.weight_tensors(state["model_state"]), options["reshape"])
    table, directions = snapshot_tables(matrices, options["methods"], alpha=options["alpha"], a=options["a"],
                                        beta=options["beta"], heavy_tail=options["heavy_tail"],
                                        reshape=options["reshape"], device=device, log=log)
    table = table.assign(test_loss=float(state["test_loss"]), test_acc=float(state["test_acc"]))
    return tuple(add_run_keys(frame, run_keys).assign(epoch=int(epoch)) for frame in (table, directions))
