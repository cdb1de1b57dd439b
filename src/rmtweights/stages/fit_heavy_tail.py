"""Rule ``fit_heavy_tail``: the power-law test of every layer's singular values, for each weight state.

See :func:`rmtweights.rmt.heavytail.fit_heavy_tail` for the test (Clauset, Shalizi and Newman 2009)
and its verdict. The random controls of the pruned layer (:data:`rmtweights.controls.DERIVED_CONTROLS`,
states of the spectra table for the Ave_w correlation) are not tested: this is about the run's weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.controls import DERIVED_CONTROLS
from rmtweights.rmt import heavytail
from rmtweights.stages.common import add_run_keys, layer_groups, skipped_reason

__all__ = ["fit_heavy_tail", "heavy_tail_table"]


def heavy_tail_table(spectra: pd.DataFrame, *, n_bootstrap: int = 50, seed: int = 0) -> pd.DataFrame:
    """One row per state and layer (the controls of :data:`~rmtweights.controls.DERIVED_CONTROLS`
    left out): :func:`~rmtweights.rmt.heavytail.fit_heavy_tail` of its singular
    values (a layer without a spectrum: ``status`` "skipped", its reason, verdict "inconclusive").

    The bootstrap's seed is the column ``bootstrap_seed`` (``seed`` is a run key).
    """
    rows = []
    for state, layer, group in layer_groups(spectra[~spectra.state.isin(DERIVED_CONTROLS)]):
        reason = skipped_reason(group)
        if reason is not None:
            row = dict(status="skipped", reason=reason, verdict="inconclusive")
        else:
            row = heavytail.fit_heavy_tail(group.sv.to_numpy(), n_bootstrap=n_bootstrap, seed=seed)
            row["bootstrap_seed"] = row.pop("seed", seed)
        rows.append(dict(state=state, layer=layer, kind=group.kind.iloc[0], **row))
    return pd.DataFrame(rows)


def fit_heavy_tail(spectra: pd.DataFrame, run_keys: Mapping[str, Any] | Any, *, n_bootstrap: int,
                   seed: int) -> pd.DataFrame:
    """Rule ``fit_heavy_tail``: :func:`heavy_tail_table` of one run's spectra, prefixed with the run keys."""
    return add_run_keys(heavy_tail_table(spectra, n_bootstrap=n_bootstrap, seed=seed), run_keys)
