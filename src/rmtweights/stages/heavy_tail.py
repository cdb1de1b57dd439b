"""Rule ``fit_heavy_tail``: the power-law test of every layer's singular values, for each weight state.

See :func:`rmtweights.rmt.heavytail.fit_heavy_tail` for the test (Clauset, Shalizi and Newman 2009)
and its verdict.
"""

from __future__ import annotations

import pandas as pd

from rmtweights.rmt.heavytail import fit_heavy_tail
from rmtweights.stages.common import layer_groups, skipped_reason

__all__ = ["heavy_tail_table"]


def heavy_tail_table(spectra: pd.DataFrame, *, n_bootstrap: int = 50, seed: int = 0) -> pd.DataFrame:
    """One row per state and layer: :func:`~rmtweights.rmt.heavytail.fit_heavy_tail` of its singular
    values (a layer without a spectrum: ``status`` "skipped", its reason, verdict "inconclusive").

    The bootstrap's seed is the column ``bootstrap_seed`` (``seed`` is a run key).
    """
    rows = []
    for state, layer, group in layer_groups(spectra):
        reason = skipped_reason(group)
        if reason is not None:
            row = dict(status="skipped", reason=reason, verdict="inconclusive")
        else:
            row = fit_heavy_tail(group.sv.to_numpy(), n_bootstrap=n_bootstrap, seed=seed)
            row["bootstrap_seed"] = row.pop("seed", seed)
        rows.append(dict(state=state, layer=layer, kind=group.kind.iloc[0], **row))
    return pd.DataFrame(rows)
