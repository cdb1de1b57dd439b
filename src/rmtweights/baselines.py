"""Random baselines of a layer given without its initialisation: what the layer would look like with no
learned structure.

A model given as a weights file has no initial weights to compare with, so each layer is compared
with a seeded random matrix of its own shape, the state ``baseline`` of the tables (trained studies
keep ``initial`` for their real initial weights). Two baselines (:data:`BASELINES`):

``shuffled`` (default)
    the layer's own entries in a random order (a seeded permutation of all of them). It keeps the
    entry distribution exactly, heavy tails included, and destroys every structure that depends on
    where an entry sits. Heavy-tailed entries alone already put singular values above the
    Marchenko–Pastur edge and make singular vectors fail the Porter–Thomas test, so only what the
    trained layer shows *beyond* its shuffled copy is evidence of learned structure.
``gaussian``
    independent normal entries with the layer's mean and standard deviation, whose singular values
    follow the MP law of eq. (2) of [1]_ with :math:`\\sigma` = the entry standard deviation. It
    mistakes heavy-tailed noise for signal: on a matrix of i.i.d. Student-t(2.5) entries the matrix
    itself shows tens of spikes above :math:`\\gamma_+`, its shuffled copy about as many, the
    Gaussian baseline none.

Each layer's baseline is seeded by the run's seed and the layer's name
(``numpy.random.default_rng([seed, crc32(name)])``), so it does not depend on which job analyses the
layer or in which order. The matrices are made as the prune layer's random controls are
(:func:`rmtweights.controls.shuffled_control`, :func:`rmtweights.controls.gaussian_control`), with the
layer's mean for the Gaussian: the baseline stands in for the whole layer, a control only for its
structure.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eq. (2).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from rmtweights.controls import gaussian_control, shuffled_control
from rmtweights.layers import LayerMatrix, SkippedTensor

__all__ = ["BASELINES", "BASELINE_STATE", "check_baseline", "baseline_matrix", "baseline_layers"]

#: The baselines, the default first.
BASELINES: tuple[str, ...] = ("shuffled", "gaussian")
#: The ``state`` of a baseline's rows in every table.
BASELINE_STATE = "baseline"


def check_baseline(baseline: str) -> str:
    """``baseline`` if it is one of :data:`BASELINES`, else ``ValueError`` naming the choices."""
    if baseline not in BASELINES:
        raise ValueError(f"baseline={baseline!r}; choose one of {', '.join(BASELINES)}")
    return baseline


def _rng(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def baseline_matrix(layer: LayerMatrix, baseline: str = "shuffled", seed: int = 0) -> LayerMatrix:
    """``layer`` with its matrix replaced by the baseline of the same shape (a ``slices`` stack alike).

    ``shuffled``: a seeded permutation of all its entries; ``gaussian``: i.i.d. normal entries of its
    mean and (population) standard deviation. Name, kind, shape and orientation are kept.
    """
    check_baseline(baseline)
    rng = _rng(layer.name, seed)
    w = layer.matrix
    if baseline == "shuffled":
        values = shuffled_control(w, rng)
    else:
        values = gaussian_control(w, rng, mean=float(w.mean()))
    return replace(layer, matrix=np.ascontiguousarray(values, dtype=np.float64))


def baseline_layers(layers: Iterable[LayerMatrix | SkippedTensor], baseline: str = "shuffled",
                    seed: int = 0) -> Iterator[LayerMatrix]:
    """:func:`baseline_matrix` of each layer, one at a time; skipped tensors have no baseline."""
    check_baseline(baseline)
    for layer in layers:
        if isinstance(layer, LayerMatrix):
            yield baseline_matrix(layer, baseline, seed)
