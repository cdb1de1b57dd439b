"""Rule ``evaluate_pruning``: keep-top-s accuracy of one layer, and the whole network truncated at s-hat.

Sec. 4 of [1]_ measures the test accuracy after keeping only the top ``s`` singular values of one
layer, s = 1..k (Fig. 2), and compresses the whole network by truncating every layer at its
:math:`\\hat s`. The keep-top-s curve uses the same s axis as the Ave_w curve of rule ``fit_mp``
(:func:`rmtweights.rmt.bbp.curve_k`), so rule ``correlate`` compares like with like.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Sec. 4, Fig. 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rmtweights import data, prune
from rmtweights.rmt.bbp import curve_k
from rmtweights.checkpoint import load_trained_model
from rmtweights.evaluate import evaluate
from rmtweights.stages.common import add_run_keys

__all__ = ["LOWRANK_COLUMNS", "evaluate_pruning", "prune_tables"]

#: Columns of the low-rank table, in order.
LOWRANK_COLUMNS: tuple[str, ...] = ("choice", "accuracy", "params_dense", "params", "params_fraction",
                                    "layers_factorised", "status", "reason")


def _choices(fits: pd.DataFrame) -> dict[str, dict[str, int] | str]:
    """Per choice, the rank of each layer to truncate, or the reason there is nothing to truncate.

    Choices: each method (every layer truncated at its s-hat), and ``best_avew`` (per layer, the
    rank of the method with the highest Ave_w, [1]_ Sec. 4).
    """
    ok = fits[(fits.status == "ok") & fits.s_hat.notna()]
    choices: dict[str, dict[str, int] | str] = {}
    for method, group in fits.groupby("method", sort=False):
        good = group[(group.status == "ok") & group.s_hat.notna()]
        if good.empty:
            has_fit = (group.status == "ok").any()
            choices[method] = (f"{method} gives no threshold (it fits the shape of the bulk), so no rank to keep"
                               if has_fit else f"{method}: no layer has a fit ({group.reason.iloc[0]})")
        else:
            choices[method] = dict(zip(good.layer, good.s_hat.astype(int)))
    with_avew = ok[np.isfinite(ok.ave_w.to_numpy(dtype=float))]
    best = with_avew.sort_values("ave_w", ascending=False, kind="stable").drop_duplicates("layer")
    choices["best_avew"] = (dict(zip(best.layer, best.s_hat.astype(int))) if len(best) else
                            "no layer has a finite Ave_w (s-hat = 0 for every method)")
    return choices


def prune_tables(model, splits, layer: str, fits: pd.DataFrame, *, reshape: str = "spatial",
                 k_fraction: float = 0.2, batch_size: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep-top-s accuracy of ``layer`` (s = 1..k, [1]_ Fig. 2) and the whole-network low-rank table.

    ``fits`` is the run's fit table (trained rows are used). The low-rank table (columns
    :data:`LOWRANK_COLUMNS`) has one row per choice: ``dense`` (no truncation), each method, and
    ``best_avew``; parameter counts are those of the analysed layers' weights, a rank-s layer
    costing s(n + m) where that saves (:func:`rmtweights.prune.low_rank_network`). A choice with
    nothing to truncate (no fit, or s-hat = 0 in every layer) gets ``status`` "skipped", its reason
    and no numbers: it is not a result.
    """
    trained = fits[fits.state == "trained"]
    prune.find_layer(model, layer)  # an nn.Linear or nn.Conv2d, else an error listing those that are
    target = trained[trained.layer == layer]
    if target.empty:
        raise ValueError(f"prune layer {layer!r} is not among the model's layers {sorted(trained.layer.unique())}")
    k = curve_k(int(target.min_nm.iloc[0]), k_fraction)
    curve = prune.keep_top_s_accuracy(model, layer, splits.test_x, splits.test_y, list(range(1, k + 1)),
                                      reshape=reshape, batch_size=batch_size)
    if "layer" not in curve:
        curve.insert(0, "layer", layer)

    _, dense_acc = evaluate(model, splits.test_x, splits.test_y, batch_size)
    dense_params = int(sum(int(r.n) * int(r.m) for r in trained.drop_duplicates("layer").itertuples()
                           if r.n > 0))
    rows = [dict(choice="dense", accuracy=float(dense_acc), params_dense=dense_params, params=dense_params,
                 params_fraction=1.0, layers_factorised=0, status="ok", reason="")]
    prunable = set(prune.prunable_layers(model))  # analysed tensors of other modules stay dense
    kept = sorted(set(trained.layer[trained.status == "ok"]) - prunable)
    note = f"kept dense (not nn.Linear or nn.Conv2d): {', '.join(kept)}" if kept else ""
    for choice, ranks in _choices(trained).items():
        if isinstance(ranks, dict):
            # s-hat = 0: no signal found, layer kept
            ranks = {name: s for name, s in ranks.items() if s > 0 and name in prunable}
            if not ranks:
                ranks = f"s-hat = 0 in every layer: nothing to truncate ({choice} is the dense network)"
        if isinstance(ranks, str):
            rows.append(dict(choice=choice, params_dense=dense_params, status="skipped", reason=ranks))
            continue
        low, info = prune.low_rank_network(model, ranks, reshape=reshape)
        _, acc = evaluate(low, splits.test_x, splits.test_y, batch_size)
        params = dense_params - int(info.params_dense.sum()) + int(info.params_low_rank.sum())
        rows.append(dict(choice=choice, accuracy=float(acc), params_dense=dense_params, params=params,
                         params_fraction=params / dense_params, layers_factorised=int(info.factorised.sum()),
                         status="ok", reason=note))
    return curve, pd.DataFrame(rows).reindex(columns=list(LOWRANK_COLUMNS))


def evaluate_pruning(checkpoint: str | os.PathLike, dataset: Mapping[str, Any], summary: Mapping[str, Any],
                     fits: pd.DataFrame, run_keys: Mapping[str, Any] | Any, *, layer: str, reshape: str,
                     k_fraction: float, batch_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rule ``evaluate_pruning``: :func:`prune_tables` of the trained model in ``checkpoint`` on the test
    split of the data set rule ``prepare_dataset`` described (``dataset``, ``summary``: as in
    :func:`rmtweights.stages.train_model.train_model`), both tables prefixed with the run keys."""
    splits = data.load_prepared(dataset, summary)
    curve, lowrank = prune_tables(load_trained_model(checkpoint), splits, layer, fits, reshape=reshape,
                                  k_fraction=k_fraction, batch_size=batch_size)
    return add_run_keys(curve, run_keys), add_run_keys(lowrank, run_keys)
