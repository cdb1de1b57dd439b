"""Statistics over the seeds of a run group, shared by the study-table stages."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rmtweights.stages.common import RUN_COLUMNS

__all__ = ["GROUP", "final_epochs", "mean_sd", "status_over_seeds"]

#: The keys of a run group: a run without its seed.
GROUP: list[str] = ["study", "dataset", "model", "variant"]


def mean_sd(frame: pd.DataFrame, by: Sequence[str], values: Sequence[str]) -> pd.DataFrame:
    """Mean, SD (ddof = 1) and number of seeds with a finite value of each of ``values`` within ``by``.

    Columns ``<value>_mean``, ``<value>_sd``, ``<value>_n`` per value and ``n_seeds`` (seeds in the
    group, whatever their values): a mean over one seed says ``_n`` = 1 and has no SD.
    """
    grouped = frame.groupby(list(by), sort=True, dropna=False)
    out = grouped[list(values)].agg(["mean", "std", "count"])
    out.columns = [f"{v}_{ {'mean': 'mean', 'std': 'sd', 'count': 'n'}[stat] }" for v, stat in out.columns]
    out["n_seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def status_over_seeds(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """``status`` and ``reason`` of each group of per-seed rows.

    ``status`` is "ok" when every seed's row is ok, "partial" when some are, else the rows' own status
    ("skipped" or "failed"); ``reason`` joins the distinct reasons of the rows that are not ok.
    """
    def summarise(rows: pd.DataFrame) -> pd.Series:
        ok = rows.status == "ok"
        reasons = sorted({str(r) for r in rows.reason[~ok] if str(r)})
        status = "ok" if ok.all() else "partial" if ok.any() else str(rows.status[~ok].iloc[0])
        return pd.Series({"status": status, "reason": "; ".join(reasons)})

    grouped = frame.groupby(list(by), sort=True, dropna=False)[["status", "reason"]]
    return grouped.apply(summarise).reset_index()


def final_epochs(training: pd.DataFrame) -> pd.DataFrame:
    """The last epoch's metrics row of every run."""
    return training.sort_values("epoch").groupby(list(RUN_COLUMNS), sort=False).tail(1)
