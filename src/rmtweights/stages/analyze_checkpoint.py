"""Rule ``analyze_checkpoint``: one checkpoint of an external series analysed like a model's weights.

The checkpoint (a weights file or a sharded folder; :func:`rmtweights.weights.source.open_weights`)
is read one tensor at a time and goes through
:func:`rmtweights.stages.snapshot_tables.snapshot_tables`; each row gets the run keys and the ``step``.
Tensors that are not layers get their rows with the reason. Without data there is no accuracy:
``test_loss`` and ``test_acc`` are missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from rmtweights.layers import tensor_layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.snapshot_tables import snapshot_tables
from rmtweights.weights.selection import select
from rmtweights.weights.source import open_weights

__all__ = ["analyze_checkpoint"]


def analyze_checkpoint(path: str, run_keys: Mapping[str, Any] | Any, step: int, methods: Sequence[str], *,
                       include: str | Sequence[str] | None, exclude: str | Sequence[str] | None, alpha: float, a: int,
                       beta: float, heavy_tail: Mapping[str, Any], reshape: str, device: str | None = None,
                       log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and the spike directions of the checkpoint ``path`` (step ``step``), both prefixed
    with the run keys and the step."""
    with open_weights(path) as source:
        chosen = select(source.entries, include, exclude)
        matrices = tensor_layers([(e.name, e.shape, e.dtype) for e in chosen], source.load, reshape)
        table, directions = snapshot_tables(matrices, methods, alpha=alpha, a=a, beta=beta, heavy_tail=heavy_tail,
                                            reshape=reshape, device=device, log=log)
    table = table.assign(test_loss=math.nan, test_acc=math.nan)
    return tuple(add_run_keys(frame, run_keys).assign(step=int(step)) for frame in (table, directions))
