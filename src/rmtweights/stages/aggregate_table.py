"""Rule ``aggregate_table``: the study tables of ``results/tables/<study>/`` (mean, SD and seed counts).

Each table is built from the concatenated per-run tables of one study; rows keep the per-run
``status`` and ``reason`` (summarised over seeds by
:func:`rmtweights.stages.over_seeds.status_over_seeds`), and every mean says how many seeds it
comes from (``<value>_n``).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Table 2, Figs. 2–3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.stages.over_seeds import GROUP, final_epochs, mean_sd, status_over_seeds

__all__ = ["aggregate"]


def _with_status(frame: pd.DataFrame, by: list[str], values: list[str]) -> pd.DataFrame:
    """:func:`mean_sd` of the ok rows' ``values`` beside the status of all rows, one row per group."""
    ok = frame[frame.status == "ok"]
    stats = mean_sd(frame.assign(**{v: ok[v] for v in values}), by, values)  # not-ok rows count as seeds, not values
    return stats.merge(status_over_seeds(frame, by), on=by, how="left")


def _table2(fits: pd.DataFrame) -> pd.DataFrame:
    """[1]_ Table 2: per layer and method, min(n, m), s-hat and Ave_w (trained weights)."""
    fits = fits[fits.state == "trained"]
    by = GROUP + ["layer", "kind", "method", "min_nm"]
    out = _with_status(fits, by, ["s_hat", "ave_w", "sigma", "gamma_plus", "s_hat_gd"])
    out["s_hat_fraction_mean"] = out.s_hat_mean / out.min_nm  # s-hat / min(n, m), as [1] discusses
    return out


def _heavy_tail(ht: pd.DataFrame) -> pd.DataFrame:
    by = GROUP + ["state", "layer"]
    counts = ht.pivot_table(index=by, columns="verdict", values="seed", aggfunc="count", fill_value=0)
    counts = counts.reindex(columns=["heavy_tailed", "not_heavy_tailed", "inconclusive"], fill_value=0)
    counts.columns = [f"n_{c}" for c in counts.columns]
    values = [c for c in ("alpha_sv", "alpha_eig", "gof_p", "hill_alpha_sv") if c in ht]
    return counts.reset_index().merge(_with_status(ht, by, values), on=by)


def _universality(un: pd.DataFrame) -> pd.DataFrame:
    by = GROUP + ["state", "layer"]
    un = un.assign(passes_5pct=np.where(un.status == "ok", (un.p_value >= 0.05).astype(float), np.nan))
    values = ["p_value", "passes_5pct"] + [c for c in ("pt_rejected_top", "pt_rejected_rest") if c in un]
    return _with_status(un, by, values)


def _with_reason_rows(frame: pd.DataFrame, reason_rows: Sequence[Mapping[str, Any]], by: list[str],
                      values: list[str]) -> pd.DataFrame:
    """``frame`` plus one "skipped" row per run that has no per-run table (its keys and reason)."""
    extra = pd.DataFrame(list(reason_rows)).assign(status="skipped")
    frame = pd.concat([frame, extra], ignore_index=True) if len(frame.columns) else extra
    return frame.reindex(columns=list(dict.fromkeys([*by, "seed", *values, "status", "reason", *frame.columns])))


def aggregate(table: str, frames: Mapping[str, pd.DataFrame],
              reason_rows: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """One study table from the concatenated per-run tables it is built from, keyed by their names
    (``mp_fit``, ``training``, ...: the inputs of the table in :data:`rmtweights.plan.TABLES`).

    ``table2``: per layer and method, min(n, m), s-hat and Ave_w ([1]_ Table 2); ``training``:
    final-epoch accuracies and losses; ``heavy_tail``: verdict counts and exponents;
    ``universality``: spacing KS p-values, the share of seeds passing at 5 %, and the Porter–Thomas
    rejection rates; ``correlation``: Pearson r per method and reading; ``lowrank``: accuracy and
    compression per choice; ``compare_<key>``: the variants of a study side by side (s-hat, Ave_w,
    largest gamma and test accuracy; [1]_ Fig. 3 for key batch_size); ``diff``: the per-run differences
    from a base model (:func:`rmtweights.diff.diff_models`), one run per model, side by side.

    ``reason_rows`` (run keys and a ``reason``) stand for runs without a per-run table, e.g. a model
    given without an architecture in the ``correlation`` and ``lowrank`` tables: each becomes a
    "skipped" row with its reason, so the table says why it has no numbers for that model.
    """
    if table == "table2":
        return _table2(frames["mp_fit"])
    if table == "training":
        return mean_sd(final_epochs(frames["training"]), GROUP, ["test_acc", "train_acc", "test_loss", "seconds"])
    if table == "heavy_tail":
        return _heavy_tail(frames["heavy_tail"])
    if table == "universality":
        return _universality(frames["universality"])
    if table == "correlation":
        by, values = GROUP + ["layer", "method", "reading"], ["pearson_r"]
        return _with_status(_with_reason_rows(frames["correlation"], reason_rows, by, values), by, values)
    if table == "lowrank":
        by, values = GROUP + ["choice"], ["accuracy", "params_fraction", "params"]
        return _with_status(_with_reason_rows(frames["lowrank"], reason_rows, by, values), by, values)
    if table.startswith("compare_"):
        fits = frames["mp_fit"]
        fits = fits[fits.state == "trained"]
        per_layer = _with_status(fits, GROUP + ["layer", "method"], ["s_hat", "ave_w", "gamma_max"])
        acc = mean_sd(final_epochs(frames["training"]), GROUP, ["test_acc"])
        return per_layer.merge(acc[GROUP + ["test_acc_mean", "test_acc_sd", "test_acc_n"]], on=GROUP, how="left")
    if table == "diff":  # one run per model: the differences of the study's models side by side
        return frames["diff"]
    raise ValueError(f"unknown table {table!r}")
