"""Rule ``analyze_snapshot``: one epoch's weights of a trained run analysed like its final weights.

The snapshot (rule ``take_snapshot``: ``model/epoch<e>.pt``) goes through
:func:`rmtweights.stages.snapshot_tables.snapshot_tables`; each row gets the run keys, the ``epoch`` and
the test loss and accuracy of those weights.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from rmtweights import io, layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.snapshot_tables import snapshot_tables

__all__ = ["analyze_snapshot"]


def analyze_snapshot(snapshot: str | os.PathLike, run_keys: Mapping[str, Any] | Any, epoch: int,
                     methods: Sequence[str], *, alpha: float, a: int, beta: float, heavy_tail: Mapping[str, Any],
                     reshape: str, device: str | None = None,
                     log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and the spike directions of the snapshot file ``snapshot`` (epoch ``epoch``), both
    prefixed with the run keys and the epoch; the table also has ``test_loss`` and ``test_acc``."""
    state = io.load_checkpoint(snapshot)
    if int(state["epoch"]) != int(epoch):
        raise ValueError(f"{snapshot} holds epoch {state['epoch']}, not {epoch}")
    matrices = layers.iter_layer_matrices(layers.weight_tensors(state["model_state"]), reshape)
    table, directions = snapshot_tables(matrices, methods, alpha=alpha, a=a, beta=beta, heavy_tail=heavy_tail,
                                        reshape=reshape, device=device, log=log)
    table = table.assign(test_loss=float(state["test_loss"]), test_acc=float(state["test_acc"]))
    return tuple(add_run_keys(frame, run_keys).assign(epoch=int(epoch)) for frame in (table, directions))
