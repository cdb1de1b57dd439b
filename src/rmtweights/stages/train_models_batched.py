"""Rule ``train_models_batched``: train every seed of a run group in one process, as one stacked model.

Same numbers as rule ``train_model`` seed by seed (:func:`rmtweights.train_batched.train_seeds_batched`);
each seed's checkpoints go to its own run folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from rmtweights import data
from rmtweights.train_batched import train_seeds_batched
from rmtweights.train_common import TrainConfig
from rmtweights.stages.common import RUN_COLUMNS, add_run_keys, run_key

__all__ = ["train_models_batched"]


def train_models_batched(dataset: Mapping[str, Any], summary: Mapping[str, Any], model: Mapping[str, Any],
                         recipe: Mapping[str, Any], group_keys: Mapping[str, Any] | Any, seeds: Sequence[int],
                         model_dirs: Sequence[str | os.PathLike],
                         log: Callable[[str], None] | None = None,
                         snapshot_epochs: Collection[int] = ()) -> list[pd.DataFrame]:
    """Train the seeds ``seeds`` of the run group ``group_keys`` (study, dataset, model, variant), seed
    ``seeds[i]`` into ``model_dirs[i]``.

    Arguments as in :func:`rmtweights.stages.train_model.train_model`. Returns each seed's per-epoch
    metrics prefixed with its run keys, in seed order.
    """
    splits = data.load_prepared(dataset, summary)
    metrics = train_seeds_batched(model["arch"], model["kwargs"], splits, TrainConfig(**recipe),
                                  list(seeds), list(model_dirs), log=log, snapshot_epochs=snapshot_epochs)
    group = {key: run_key(group_keys, key) for key in RUN_COLUMNS if key != "seed"}
    return [add_run_keys(frame, {**group, "seed": seed}) for seed, frame in zip(seeds, metrics)]
