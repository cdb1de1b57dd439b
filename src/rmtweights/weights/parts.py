"""A weights source's tensors split into workflow jobs of a bounded number of layers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from rmtweights.tensors import classify
from rmtweights.weights.selection import select
from rmtweights.weights.source import list_entries

__all__ = ["plan_parts"]


def plan_parts(path: str | os.PathLike, *, include: Sequence[str] | str | None = None,
               exclude: Sequence[str] | str | None = None, layers_per_job: int = 32) -> list[list[str]]:
    """The tensor names of a weights source split into jobs of at most ``layers_per_job`` layers.

    Reads names, shapes and dtypes only (:func:`~rmtweights.weights.source.list_entries`), applies
    :func:`~rmtweights.weights.selection.select`, and cuts the list, in file order, after every
    ``layers_per_job``-th layer (:func:`rmtweights.tensors.classify`); tensors that are not layers go
    with the job of the layer before them (or the first job), so that every tensor considered is
    reported by exactly one job. Raises :class:`~rmtweights.weights.common.WeightsError` for bad input.
    """
    if isinstance(layers_per_job, bool) or int(layers_per_job) != layers_per_job or layers_per_job < 1:
        raise ValueError(f"layers_per_job must be an integer >= 1, got {layers_per_job!r}")
    chosen = select(list_entries(path), include, exclude)
    parts: list[list[str]] = [[]]
    count = 0
    for entry in chosen:
        is_layer = classify(entry.name, entry.shape, entry.dtype)[0] is not None
        if is_layer and count == layers_per_job:
            parts.append([])
            count = 0
        parts[-1].append(entry.name)
        count += is_layer
    return parts
