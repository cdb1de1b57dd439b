"""A weights source's tensors split into workflow jobs of a bounded number of layers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from rmtweights.tensors import TensorPart, plan_tensors
from rmtweights.weights.selection import select
from rmtweights.weights.source import list_entries

__all__ = ["plan_parts"]


def plan_parts(path: str | os.PathLike, *, include: Sequence[str] | str | None = None,
               exclude: Sequence[str] | str | None = None, layers_per_job: int = 32,
               experts: Sequence[str] | str | None = None, split_qkv: bool = False,
               split_gate_up: bool = False) -> list[list[str]]:
    """The tensor names of a weights source split into jobs of at most ``layers_per_job`` layers.

    Reads names, shapes and dtypes only (:func:`~rmtweights.weights.source.list_entries`), applies
    :func:`~rmtweights.weights.selection.select`, and cuts the list, in file order, once a job holds
    ``layers_per_job`` matrices (:func:`rmtweights.tensors.plan_tensors` with ``experts``, ``split_qkv``
    and ``split_gate_up``: an expert stack counts E matrices, and is never cut); tensors that are not
    layers go with the job of the layer before them (or the first job), so that every tensor
    considered is reported by exactly one job. Raises :class:`~rmtweights.weights.common.WeightsError`
    for bad input.
    """
    if isinstance(layers_per_job, bool) or int(layers_per_job) != layers_per_job or layers_per_job < 1:
        raise ValueError(f"layers_per_job must be an integer >= 1, got {layers_per_job!r}")
    chosen = select(list_entries(path), include, exclude)
    plan = plan_tensors([(e.name, e.shape, e.dtype) for e in chosen], experts=experts, split_qkv=split_qkv,
                        split_gate_up=split_gate_up)
    matrices: dict[str, int] = {}
    for item in plan:
        if isinstance(item, TensorPart):
            matrices[item.tensor] = matrices.get(item.tensor, 0) + 1
    parts: list[list[str]] = [[]]
    count = 0
    for entry in chosen:
        size = matrices.get(entry.name, 0)
        if size and count and count + size > layers_per_job:
            parts.append([])
            count = 0
        parts[-1].append(entry.name)
        count += size
    return parts
