"""Rule ``train_model``: train one run and return its per-epoch metrics.

The data set is the one rule ``prepare_dataset`` described (:func:`rmtweights.data.load_prepared`);
the loop, its checkpoints (``init.pt``, ``final.pt`` and the epoch checkpoint it resumes from) and the
metrics are :func:`rmtweights.train.train_model`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pandas as pd

from rmtweights import data, train
from rmtweights.train_common import TrainConfig
from rmtweights.stages.common import add_run_keys, run_key

__all__ = ["train_model"]


def train_model(dataset: Mapping[str, Any], summary: Mapping[str, Any], model: Mapping[str, Any],
                recipe: Mapping[str, Any], run_keys: Mapping[str, Any] | Any, model_dir: str | os.PathLike,
                log: Callable[[str], None] | None = None, snapshot_epochs: Collection[int] = ()) -> pd.DataFrame:
    """Train the run ``run_keys`` (its seed drives initialisation and data order) into ``model_dir``.

    ``dataset`` and ``summary``: the data set's params and the summary rule ``prepare_dataset`` wrote;
    ``model``: ``arch`` and ``kwargs``; ``recipe``: the fields of :class:`rmtweights.train_common.TrainConfig`;
    ``snapshot_epochs``: the epochs whose weights the training keeps for rule ``take_snapshot``.
    Returns the per-epoch metrics prefixed with the run keys.
    """
    splits = data.load_prepared(dataset, summary)
    metrics = train.train_model(model["arch"], model["kwargs"], splits, TrainConfig(**recipe),
                                run_key(run_keys, "seed"), model_dir, log=log, snapshot_epochs=snapshot_epochs)
    return add_run_keys(metrics, run_keys)
