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

from rmtweights.run_keys import RUN_COLUMNS
from rmtweights.stages.over_seeds import GROUP, final_epochs, mean_sd, status_over_seeds

__all__ = ["aggregate"]


def _with_status(frame: pd.DataFrame, by: list[str], values: list[str]) -> pd.DataFrame:
    """:func:`mean_sd` of the ok rows' ``values`` beside the status of all rows, one row per group."""
    ok = frame[frame.status == "ok"]
    stats = mean_sd(frame.assign(**{v: ok[v] for v in values}), by, values)  # not-ok rows count as seeds, not values
    return stats.merge(status_over_seeds(frame, by), on=by, how="left")


def _paired_gap(fits: pd.DataFrame, value: str, reference: str) -> pd.Series:
    """Per row, |value − the reference method's value| of the same run, state and layer (paired by seed);
    NaN where either is missing or not ok, and on the reference method's own rows."""
    keys = [*RUN_COLUMNS, "state", "layer"]
    ok = fits[fits.status == "ok"]
    ref = ok[ok.method == reference].drop_duplicates(keys).set_index(keys)[value]
    paired = ref.reindex(pd.MultiIndex.from_frame(fits[keys])).to_numpy(dtype=float)
    own = fits[value].where(fits.status == "ok").to_numpy(dtype=float)
    return pd.Series(np.where(fits.method == reference, np.nan, np.abs(own - paired)), index=fits.index)


def _table2(fits: pd.DataFrame) -> pd.DataFrame:
    """[1]_ Table 2: per layer and method, min(n, m), s-hat and Ave_w (trained weights); and
    ``ave_w_gap_bema``, |Ave_w − BEMA's Ave_w| paired by seed (mean, SD, number of pairs, largest)."""
    fits = fits[fits.state == "trained"]
    fits = fits.assign(ave_w_gap_bema=_paired_gap(fits, "ave_w", "bema"))
    by = GROUP + ["layer", "kind", "method", "min_nm"]
    out = _with_status(fits, by, ["s_hat", "ave_w", "sigma", "gamma_plus", "s_hat_gd", "ave_w_gap_bema"])
    largest = fits.groupby(by, sort=True, dropna=False).ave_w_gap_bema.max().rename("ave_w_gap_bema_max")
    out = out.merge(largest.reset_index(), on=by, how="left")
    out["s_hat_fraction_mean"] = out.s_hat_mean / out.min_nm  # s-hat / min(n, m), as [1] discusses
    return out


def _heavy_tail(ht: pd.DataFrame) -> pd.DataFrame:
    by = GROUP + ["state", "layer"]
    counts = ht.pivot_table(index=by, columns="verdict", values="seed", aggfunc="count", fill_value=0)
    counts = counts.reindex(columns=["heavy_tailed", "not_heavy_tailed", "inconclusive"], fill_value=0)
    counts.columns = [f"n_{c}" for c in counts.columns]
    values = [c for c in ("alpha_sv", "alpha_eig", "gof_p", "gof_p_se", "hill_alpha_sv") if c in ht]
    return counts.reset_index().merge(_with_status(ht, by, values), on=by)


def _universality(un: pd.DataFrame) -> pd.DataFrame:
    """The spacing test's p-value and pass share over the seeds where it ran (status ok), and the
    Porter–Thomas rejection rates over every seed that has them (the vectors of a layer with too few
    spacings for the spacing test were still tested)."""
    by = GROUP + ["state", "layer"]
    un = un.assign(passes_5pct=np.where(un.status == "ok", (un.p_value >= 0.05).astype(float), np.nan))
    out = _with_status(un, by, ["p_value", "passes_5pct"])
    vectors = [c for c in ("pt_rejected_top", "pt_rejected_rest") if c in un]
    if vectors:
        out = out.merge(mean_sd(un, by, vectors).drop(columns="n_seeds"), on=by, how="left")
    return out


def _with_reason_rows(frame: pd.DataFrame, reason_rows: Sequence[Mapping[str, Any]], by: list[str],
                      values: list[str]) -> pd.DataFrame:
    """``frame`` plus one "skipped" row per run that has no per-run table (its keys and reason)."""
    extra = pd.DataFrame(list(reason_rows)).assign(status="skipped")
    frame = pd.concat([frame, extra], ignore_index=True) if len(frame.columns) else extra
    return frame.reindex(columns=list(dict.fromkeys([*by, "seed", *values, "status", "reason", *frame.columns])))


def _status_last(frame: pd.DataFrame) -> pd.DataFrame:
    """``status`` and ``reason`` as the last columns (after every value)."""
    last = [c for c in ("status", "reason") if c in frame.columns]
    return frame[[c for c in frame.columns if c not in last] + last]


def aggregate(table: str, frames: Mapping[str, pd.DataFrame],
              reason_rows: Sequence[Mapping[str, Any]] = (), layer: str | None = None) -> pd.DataFrame:
    """One study table from the concatenated per-run tables it is built from, keyed by their names
    (``mp_fit``, ``training``, ...: the inputs of the table in :data:`rmtweights.plan.TABLES`).

    ``table2``: per layer and method, min(n, m), s-hat and Ave_w ([1]_ Table 2) and the gap to
    BEMA's Ave_w paired by seed; ``training``: final-epoch accuracies and losses; ``heavy_tail``:
    verdict counts, exponents and the bootstrap p-value with its Monte-Carlo SE; ``universality``:
    spacing KS p-values, the share of seeds passing at 5 %, and the Porter–Thomas rejection rates;
    ``correlation``: Pearson r per state (the trained weights and their controls), method and
    reading, and the trained weights' paired advantage over each control; ``lowrank``: accuracy and
    compression per choice; ``compare_<key>``: the variants of a study side by side (s-hat, Ave_w,
    largest gamma and test accuracy; [1]_ Fig. 3 for key batch_size); ``diff``: the per-run differences
    from a base model (:func:`rmtweights.diff.diff_models`), one run per model, side by side.

    ``reason_rows`` (run keys and a ``reason``) stand for runs without a per-run table, e.g. a model
    given without an architecture in the ``correlation`` and ``lowrank`` tables: each becomes a
    "skipped" row with its reason, so the table says why it has no numbers for that model.
    ``layer``: in ``compare_<key>`` tables, the layer the comparison figure shows
    (``studies.<study>.compare_layer``), flagged by the boolean column ``compare_layer``.

    Every table ends with the columns ``status`` and ``reason``.
    """
    return _status_last(_aggregate(table, frames, reason_rows, layer))


def _aggregate(table: str, frames: Mapping[str, pd.DataFrame], reason_rows: Sequence[Mapping[str, Any]],
               layer: str | None) -> pd.DataFrame:
    if table == "table2":
        return _table2(frames["mp_fit"])
    if table == "training":
        return mean_sd(final_epochs(frames["training"]), GROUP, ["test_acc", "train_acc", "test_loss", "seconds"])
    if table == "heavy_tail":
        return _heavy_tail(frames["heavy_tail"])
    if table == "universality":
        return _universality(frames["universality"])
    if table == "correlation":
        by, values = GROUP + ["layer", "state", "method", "reading"], ["pearson_r", "trained_advantage"]
        return _with_status(_with_reason_rows(frames["correlation"], reason_rows, by, values), by, values)
    if table == "lowrank":
        by, values = GROUP + ["choice"], ["accuracy", "params_fraction", "params"]
        return _with_status(_with_reason_rows(frames["lowrank"], reason_rows, by, values), by, values)
    if table.startswith("compare_"):
        fits = frames["mp_fit"]
        fits = fits[fits.state == "trained"]
        per_layer = _with_status(fits, GROUP + ["layer", "method"], ["s_hat", "ave_w", "gamma_max"])
        acc = mean_sd(final_epochs(frames["training"]), GROUP, ["test_acc"])
        out = per_layer.merge(acc[GROUP + ["test_acc_mean", "test_acc_sd", "test_acc_n"]], on=GROUP, how="left")
        return out.assign(compare_layer=out.layer == layer)  # the layer of the comparison figure ([1] Fig. 3)
    if table == "diff":  # one run per model: the differences of the study's models side by side
        return frames["diff"]
    raise ValueError(f"unknown table {table!r}")
