"""Rule ``extract_weights_part``: the spectra of one slice of a weights file's layers, without an architecture.

A weights file (a state_dict, a safetensors or GGUF file, or a sharded checkpoint;
:mod:`rmtweights.weights.source`) is analysed tensor by tensor: each tensor named in the job's list is
loaded on its own (memory-mapped or read with ``pread`` where the format allows), classified and cut
into matrices (:func:`rmtweights.tensors.plan_tensors`: matrices, embeddings, fused attention, expert
stacks, conv kernels of any dimension; everything else a row with its reason), decomposed, then
released. Memory therefore follows the largest tensor, not the model's size, and a model's layers can
be spread over many jobs (``layers_per_job``).

Without an architecture there is no initialisation to compare with: the second state is a random
**baseline** of each layer (state ``baseline``, :mod:`rmtweights.baselines`): by default the layer's
entries shuffled (``external.<study>.<model>.baseline: shuffled``), which keeps their distribution,
or independent Gaussian entries of the layer's mean and variance (``gaussian``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from rmtweights.baselines import BASELINE_STATE, baseline_layers
from rmtweights.layers import part_layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.spectra import spectra_tables
from rmtweights.tensors import TensorPart, plan_tensors
from rmtweights.weights.source import open_weights

__all__ = ["extract_weights_part", "weights_part_tables"]


def weights_part_tables(path: str, names: Sequence[str], *, reshape: str = "spatial", seed: int = 0,
                        baseline: str = "shuffled", experts: Sequence[str] = (), split_qkv: bool = False,
                        split_gate_up: bool = False, porter_thomas_window: int | None = 15, min_dim: int = 10,
                        device: str | None = None,
                        log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`rmtweights.stages.spectra.spectra_tables` of the tensors ``names`` of a weights file.

    States: ``trained`` (the given weights) and ``baseline`` (:func:`rmtweights.baselines.baseline_matrix`
    of each layer, ``baseline`` one of :data:`rmtweights.baselines.BASELINES`, seeded by ``seed``).
    ``experts``, ``split_qkv``, ``split_gate_up`` as in :func:`rmtweights.tensors.plan_tensors`.
    Tensors that are not layers get a "skipped" row with the reason (e.g. a bias, an integer buffer)
    in the trained state only. ``device`` as in :func:`~rmtweights.stages.spectra.spectra_tables`.
    """
    with open_weights(path) as source:
        entries = {entry.name: entry for entry in source.entries}
        missing = [name for name in names if name not in entries]
        if missing:
            raise ValueError(f"{path}: no tensor(s) {missing[:5]} (the file changed since the workflow was read?)")
        plan = plan_tensors([(name, entries[name].shape, entries[name].dtype, entries[name].quantisation)
                             for name in names], experts=experts, split_qkv=split_qkv, split_gate_up=split_gate_up)
        parts = [item for item in plan if isinstance(item, TensorPart)]
        trained = part_layers(plan, source.load, reshape)
        random = baseline_layers(part_layers(parts, source.load, reshape), baseline, seed)
        return spectra_tables({"trained": trained, BASELINE_STATE: random}, reshape=reshape, min_dim=min_dim,
                              porter_thomas_window=porter_thomas_window, device=device, log=log,
                              totals={"trained": len(parts), BASELINE_STATE: len(parts)})


def extract_weights_part(spec: Mapping[str, Any], names: Sequence[str], run_keys: Mapping[str, Any] | Any, *,
                         reshape: str, porter_thomas_window: int, device: str | None,
                         log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rule ``extract_weights_part``: :func:`weights_part_tables` of one job's tensors of the external
    model ``spec`` (its ``weights``, ``seed``, ``baseline``, ``experts``, ``split_qkv``, ``split_gate_up``),
    both tables prefixed with the run keys."""
    spectra, porter_thomas = weights_part_tables(
        spec["weights"], names, reshape=reshape, seed=spec["seed"] or 0, baseline=spec["baseline"],
        experts=spec["experts"] or (), split_qkv=spec["split_qkv"], split_gate_up=spec["split_gate_up"],
        porter_thomas_window=porter_thomas_window, device=device, log=log)
    return add_run_keys(spectra, run_keys), add_run_keys(porter_thomas, run_keys)
