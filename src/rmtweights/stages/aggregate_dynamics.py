"""Rule ``aggregate_dynamics``: the study table ``dynamics`` (mean, SD and seed counts over time).

Per run group, epoch (or step), layer and method: the mean, SD and number of seeds of s-hat, Ave_w,
sigma-hat, gamma_+, gamma_max, alpha_sv and the overlap with the previous snapshot (and its random
level), from the ok rows; the test accuracy and loss per run group and epoch; the per-seed status
summarised (:func:`rmtweights.stages.over_seeds.status_over_seeds`).
"""

from __future__ import annotations

import pandas as pd

from rmtweights.stages.common import RUN_COLUMNS
from rmtweights.stages.over_seeds import GROUP, mean_sd, status_over_seeds

__all__ = ["VALUES", "aggregate_dynamics"]

#: The per-layer values summarised over seeds.
VALUES: tuple[str, ...] = ("s_hat", "ave_w", "sigma", "gamma_plus", "gamma_max", "alpha_sv", "overlap",
                           "overlap_random", "new_directions")


def aggregate_dynamics(frame: pd.DataFrame) -> pd.DataFrame:
    """The study table from the concatenated ``dynamics.parquet`` of a study's runs."""
    axis = "epoch" if "epoch" in frame.columns else "step"
    by = [*GROUP, axis, "layer", "kind", "n", "m", "method"]
    ok = frame[frame.status == "ok"]
    values = list(VALUES)
    numeric = frame.assign(**{v: pd.to_numeric(ok[v], errors="coerce").astype(float) for v in values})
    stats = mean_sd(numeric, by, values)  # rows that are not ok count as seeds, not as values
    stats = stats.merge(status_over_seeds(frame, by), on=by, how="left")
    runs = frame.drop_duplicates([*RUN_COLUMNS, axis]).astype({"test_acc": float, "test_loss": float})
    accuracy = mean_sd(runs, [*GROUP, axis], ["test_acc", "test_loss"]).drop(columns=["n_seeds"])
    return stats.merge(accuracy, on=[*GROUP, axis], how="left")
