"""One snapshot of a model's weights analysed like its final weights: the piece shared by rules
``analyze_snapshot`` (an epoch of a trained run) and ``analyze_checkpoint`` (a checkpoint of an external
series).

Every layer goes through :func:`rmtweights.stages.layer_states.analyze_layer_states` (its spectrum, the
fit of each estimator with its threshold, s-hat and Ave_w, the power-law test): one row per layer and
method (:data:`SNAPSHOT_COLUMNS`). The right singular vectors of each layer's spikes, from the same
decomposition, are kept beside it (:data:`VECTOR_COLUMNS`), so that rule ``gather_dynamics`` can compare
the spike subspaces of consecutive snapshots without decomposing anything again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.layers import LayerMatrix, SkippedTensor
from rmtweights.stages.layer_states import K_MAX, analyze_layer_states

__all__ = ["SNAPSHOT_COLUMNS", "VECTOR_COLUMNS", "snapshot_tables"]

#: Columns of a snapshot's table (before the run keys and the epoch or step), in order.
SNAPSHOT_COLUMNS: tuple[str, ...] = ("layer", "kind", "reshape", "n", "m", "method", "sigma", "gamma_plus", "s_hat",
                                     "ave_w", "gamma_max", "alpha_sv", "verdict", "status", "reason")
#: Columns of a snapshot's spike directions: per layer the right singular vector (float32, length m) of
#: its ``index``-th largest singular value, for index = 1 .. the largest s-hat of its methods (at most k_max).
VECTOR_COLUMNS: tuple[str, ...] = ("layer", "index", "vector")


def snapshot_tables(layers: Iterable[LayerMatrix | SkippedTensor], methods: Sequence[str], *, alpha: float,
                    a: int, beta: float, heavy_tail: Mapping[str, Any], reshape: str, k_max: int = K_MAX,
                    min_dim: int = 10, device: str | None = None,
                    log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table (:data:`SNAPSHOT_COLUMNS`) and the spike directions (:data:`VECTOR_COLUMNS`) of one
    snapshot's layers, taken one at a time.

    ``methods``, ``alpha``, ``a``, ``beta``: the fits (:func:`rmtweights.stages.fit_mp.fit_tables`);
    ``heavy_tail``: ``n_bootstrap`` and ``seed`` of the power-law test; the rest as in
    :func:`rmtweights.stages.layer_states.analyze_layer_states`.
    """
    rows, vectors = [], []
    for layer in layers:
        states = analyze_layer_states({"snapshot": layer}, methods, alpha=alpha, a=a, beta=beta, reshape=reshape,
                                      heavy_tail=heavy_tail, tail_states=("snapshot",),
                                      direction_states=("snapshot",), k_max=k_max, min_dim=min_dim, device=device,
                                      log=log)
        fits = states.fits.drop(columns=["state"])
        tail = states.tails.iloc[0] if len(states.tails) else {}
        rows.append(fits.assign(alpha_sv=tail.get("alpha_sv", np.nan), verdict=tail.get("verdict")))
        directions = states.directions.get("snapshot")
        if directions is not None and directions.shape[1]:
            vectors.append(pd.DataFrame({"layer": layer.name, "index": np.arange(1, directions.shape[1] + 1),
                                         "vector": list(directions.T.astype(np.float32))}))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    table = table.reindex(columns=list(SNAPSHOT_COLUMNS)).astype({"n": "int64", "m": "int64", "s_hat": "Int64"})
    directions = pd.concat(vectors, ignore_index=True) if vectors else pd.DataFrame(columns=list(VECTOR_COLUMNS))
    return table, directions.astype({"index": "int64"})
