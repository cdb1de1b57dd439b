"""Rule ``diff_weights``: what changed from an external model's ``base`` to its ``weights``.

:func:`rmtweights.diff.diff_models` of the two weights files (or of a base and a LoRA adapter), its rows
prefixed with the run keys: per layer and method the spectrum of the difference with its fit,
threshold and spikes, the relative norms and the overlap of the two models' spike subspaces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from rmtweights.diff import diff_models
from rmtweights.stages.common import add_run_keys

__all__ = ["diff_weights"]


def diff_weights(base: str, weights: str, run_keys: Mapping[str, Any] | Any, methods: Sequence[str], *,
                 include: str | Sequence[str] | None, exclude: str | Sequence[str] | None, alpha: float, a: int,
                 beta: float, heavy_tail: Mapping[str, Any], reshape: str, device: str | None = None,
                 log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The difference table of ``weights`` against ``base`` (:data:`rmtweights.diff.DIFF_COLUMNS`) with the run keys."""
    table = diff_models(base, weights, methods=methods, n_bootstrap=heavy_tail["n_bootstrap"], seed=heavy_tail["seed"],
                        reshape=reshape, include=include, exclude=exclude, alpha=alpha, gb_a=a, beta=beta,
                        device=device, log=log)
    return add_run_keys(table, run_keys)
