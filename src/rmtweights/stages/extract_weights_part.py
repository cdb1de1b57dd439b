"""Rule ``extract_weights_part``: the spectra of one slice of a weights file's layers, without an architecture.

A weights file (a state_dict, a safetensors file or a sharded checkpoint; :mod:`rmtweights.weights.source`)
is analysed tensor by tensor: each tensor named in the job's list is loaded on its own
(memory-mapped where the format allows), classified (:func:`rmtweights.tensors.classify`: matrices,
embeddings, conv kernels; everything else a row with its reason), made into a matrix and decomposed,
then released. Memory therefore follows the largest layer, not the model's size, and a model's
layers can be spread over many jobs (``layers_per_job``).

Without an architecture there is no initialisation to compare with. The ``initial`` state is
instead a **Gaussian baseline**: for each layer, a seeded matrix of independent normal entries with
the layer's shape, mean and variance, i.e. what the layer would look like if it held no learned
structure at all (its singular values follow the MP law of eq. (2) of [1]_ with
:math:`\\sigma` = the layer's entry standard deviation).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eq. (2).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from rmtweights.layers import tensor_layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.spectra import spectra_tables
from rmtweights.tensors import classify
from rmtweights.weights.source import open_weights

__all__ = ["extract_weights_part", "gaussian_baseline", "weights_part_tables"]


def gaussian_baseline(name: str, weight: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A float64 tensor of ``weight``'s shape with i.i.d. normal entries of its mean and standard deviation.

    Seeded by ``seed`` and the layer name (``numpy.random.default_rng([seed, crc32(name)])``), so a
    layer's baseline does not depend on which job analyses it or in which order.
    """
    w = weight.detach().to(torch.float64)
    mean, std = float(w.mean()), float(w.std(unbiased=False))
    rng = np.random.default_rng([int(seed), zlib.crc32(name.encode())])
    return torch.from_numpy(rng.normal(mean, std, size=tuple(w.shape)))


def weights_part_tables(path: str, names: Sequence[str], *, reshape: str = "spatial", seed: int = 0,
                        porter_thomas_window: int | None = 15, min_dim: int = 10, device: str | None = None,
                        log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`rmtweights.stages.spectra.spectra_tables` of the tensors ``names`` of a weights file.

    States: ``trained`` (the given weights) and ``initial`` (:func:`gaussian_baseline` of each layer).
    Tensors that are not layers get a "skipped" row with the reason (e.g. a bias, an integer buffer)
    in the trained state only. ``device`` as in :func:`~rmtweights.stages.spectra.spectra_tables`.
    """
    with open_weights(path) as source:
        entries = {entry.name: entry for entry in source.entries}
        missing = [name for name in names if name not in entries]
        if missing:
            raise ValueError(f"{path}: no tensor(s) {missing[:5]} (the file changed since the workflow was read?)")
        listed = [(name, entries[name].shape, entries[name].dtype) for name in names]
        layers_only = [entry for entry in listed if classify(*entry)[0] is not None]
        trained = tensor_layers(listed, source.load, reshape)
        initial = tensor_layers(layers_only, lambda name: gaussian_baseline(name, source.load(name), seed), reshape)
        return spectra_tables({"trained": trained, "initial": initial}, reshape=reshape, min_dim=min_dim,
                              porter_thomas_window=porter_thomas_window, device=device, log=log)


def extract_weights_part(path: str, names: Sequence[str], run_keys: Mapping[str, Any] | Any, *, reshape: str,
                         seed: int, porter_thomas_window: int, device: str | None,
                         log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rule ``extract_weights_part``: :func:`weights_part_tables` of one job's tensors, both tables
    prefixed with the run keys."""
    spectra, porter_thomas = weights_part_tables(path, names, reshape=reshape, seed=seed,
                                                 porter_thomas_window=porter_thomas_window, device=device, log=log)
    return add_run_keys(spectra, run_keys), add_run_keys(porter_thomas, run_keys)
