"""Rules ``extract_spectra`` and ``extract_spectra_and_vectors``: the spectra of a run's two checkpoints,
and of the random controls of its pruned layer.

Both rules run this code; they differ only in ``porter_thomas_window`` (``extract_spectra_and_vectors``,
for studies that test universality, also tests the singular vectors against the Porter–Thomas law in
the same pass) and in the files they declare. The states are the trained weights (``final.pt``) and
those training started from (``init.pt``); each layer is decomposed once by
:func:`rmtweights.stages.spectra.spectra_tables`. For runs whose Ave_w curve is correlated with the
keep-top-s accuracy (``control_layer``: the study's prune layer), the states
:data:`rmtweights.controls.DERIVED_CONTROLS` of that one layer are decomposed too (a Gaussian matrix
and the entry-shuffled trained matrix, seeded by the run's seed; :mod:`rmtweights.controls`), so that
rule ``fit_mp`` fits them and rule ``correlate`` compares the trained weights' correlation with theirs.
Their singular vectors are not tested: the universality tests are about the run's own weights.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rmtweights import io, layers
from rmtweights.controls import derived_controls
from rmtweights.stages.common import add_run_keys, run_key
from rmtweights.stages.spectra import spectra_tables

__all__ = ["extract_spectra", "control_layers"]


def control_layers(state_dict: Mapping[str, Any], layer: str, seed: int,
                   reshape: str) -> dict[str, list[layers.LayerMatrix]]:
    """The controls of :data:`rmtweights.controls.DERIVED_CONTROLS` of the trained ``layer`` of
    ``state_dict``, by state name, each a one-layer list ready for
    :func:`~rmtweights.stages.spectra.spectra_tables` (:func:`rmtweights.controls.derived_controls`)."""
    try:
        (trained,) = layers.layer_matrices(state_dict, reshape, names=[layer])
    except ValueError as err:
        raise ValueError(f"control layer (the prune layer) {layer!r}: {err}") from None
    return {state: [dataclasses.replace(trained, matrix=matrix)]
            for state, matrix in derived_controls(trained.matrix, seed, layer).items()}


def extract_spectra(final: str | os.PathLike, init: str | os.PathLike, run_keys: Mapping[str, Any] | Any, *,
                    reshape: str, porter_thomas_window: int | None, device: str | None,
                    control_layer: str | None = None,
                    log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The spectra table (and, with ``porter_thomas_window``, the Porter–Thomas table) of the states
    ``trained`` (checkpoint ``final``) and ``initial`` (checkpoint ``init``), prefixed with the run keys;
    with ``control_layer``, the spectra of that layer's controls (:func:`control_layers`, seeded by the
    run key ``seed``) follow as states ``gaussian`` and ``shuffled``.

    ``reshape``, ``porter_thomas_window``, ``device`` and ``log`` as in
    :func:`~rmtweights.stages.spectra.spectra_tables`.
    """
    trained = io.load_checkpoint(final)["model_state"]
    states = {"trained": layers.iter_layer_matrices(layers.weight_tensors(trained), reshape),
              "initial": layers.iter_layer_matrices(layers.weight_tensors(io.load_checkpoint(init)["model_state"]),
                                                    reshape)}
    spectra, porter_thomas = spectra_tables(states, reshape=reshape, porter_thomas_window=porter_thomas_window,
                                            device=device, log=log)
    if control_layer is not None:
        controls = control_layers(trained, control_layer, run_key(run_keys, "seed"), reshape)
        control_spectra, _ = spectra_tables(controls, reshape=reshape, device=device, log=log)
        spectra = pd.concat([spectra, control_spectra], ignore_index=True)
    return add_run_keys(spectra, run_keys), None if porter_thomas is None else add_run_keys(porter_thomas, run_keys)
