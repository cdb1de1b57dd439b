"""Rule ``gather_dynamics``: a run's snapshots (epochs) or checkpoints (steps) as one table over time.

The per-snapshot tables (rules ``analyze_snapshot`` and ``analyze_checkpoint``) are stacked in the
order of the ``epoch`` or ``step`` axis, and each row gets the overlap columns of the spikes of its
layer against those of the previous snapshot, by the same method
(:func:`rmtweights.rmt.subspace.compare_subspaces`: A = the previous snapshot, B = this one): the
spike subspace's drift (``overlap`` beside its random level) and the spikes born since
(``new_directions``, ``new_index``). The first snapshot has none (``previous`` missing). The
directions come from the snapshots' own decompositions (their ``*_directions.parquet``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rmtweights.rmt.subspace import NEW_BELOW, OVERLAP_COLUMNS, compare_subspaces
from rmtweights.stages.common import RUN_COLUMNS

__all__ = ["AXES", "gather_dynamics"]

#: The time axes: epochs of a trained run, steps of a checkpoint series.
AXES: tuple[str, ...] = ("epoch", "step")


def _columns(table: pd.DataFrame, axis: str) -> list[str]:
    """The run keys and the axis, the snapshot table's own columns, ``previous`` and the overlap
    columns, then ``status`` and ``reason``."""
    own = [c for c in table.columns if c not in (*RUN_COLUMNS, axis, "status", "reason")]
    return [*RUN_COLUMNS, axis, *own, "previous", *OVERLAP_COLUMNS, "status", "reason"]


def _directions(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per layer, the m x K matrix of its stored spike directions (columns in index order)."""
    out = {}
    for layer, rows in frame.groupby("layer", sort=False):
        rows = rows.sort_values("index")
        out[str(layer)] = np.stack([np.asarray(v, dtype=np.float64) for v in rows.vector], axis=1)
    return out


def _spikes(stored: dict[str, np.ndarray], layer: str, m: int, s_hat) -> np.ndarray | None:
    """The directions of a layer's ``s_hat`` spikes (as many as are stored), or None without a count."""
    if pd.isna(s_hat):
        return None
    vectors = stored.get(layer, np.empty((int(m), 0)))
    return vectors[:, :min(int(s_hat), vectors.shape[1])]


def gather_dynamics(tables: Sequence[pd.DataFrame], directions: Sequence[pd.DataFrame], axis: str, *,
                    new_below: float = NEW_BELOW) -> pd.DataFrame:
    """One run's table over ``axis`` from its snapshots' tables and directions (in the same order):
    the run keys and the axis, each snapshot's columns (layer, method, sigma-hat, gamma_+, s-hat, Ave_w,
    gamma_max, alpha_sv, test accuracy, ...), ``previous`` (the axis value of the snapshot compared
    with) and :data:`rmtweights.rmt.subspace.OVERLAP_COLUMNS`, then ``status`` and ``reason``."""
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, got {axis!r}")
    if len(tables) != len(directions):
        raise ValueError(f"{len(tables)} snapshot tables but {len(directions)} direction tables")
    snapshots = sorted(zip(tables, directions), key=lambda pair: int(pair[0][axis].iloc[0]))
    rows = []
    previous: tuple[int, pd.DataFrame, dict[str, np.ndarray]] | None = None
    for table, vectors in snapshots:
        point, stored = int(table[axis].iloc[0]), _directions(vectors)
        frame = table.copy()
        frame["previous"] = pd.NA if previous is None else previous[0]
        if previous is not None:
            _, before, before_stored = previous
            counts = before.set_index(["layer", "method"]).s_hat
            summaries = []
            for row in frame.itertuples():
                key = (row.layer, row.method)
                va = _spikes(before_stored, row.layer, row.m, counts.get(key, pd.NA))
                vb = _spikes(stored, row.layer, row.m, row.s_hat)
                ok = va is not None and vb is not None and va.shape[0] == vb.shape[0]
                summaries.append(compare_subspaces(va, vb, new_below=new_below).summary() if ok else {})
            frame = pd.concat([frame.reset_index(drop=True), pd.DataFrame(summaries, index=range(len(frame)))],
                              axis=1)
        rows.append(frame)
        previous = (point, table, stored)
    out = pd.concat(rows, ignore_index=True).reindex(columns=_columns(snapshots[0][0], axis))
    counts = ("previous", "k_a", "k_b", "new_directions")
    return out.astype({c: "Int64" for c in counts})
