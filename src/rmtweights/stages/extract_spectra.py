"""Rules ``extract_spectra`` and ``extract_spectra_and_vectors``: the spectra of a run's two checkpoints.

Both rules run this code; they differ only in ``porter_thomas_window`` (``extract_spectra_and_vectors``,
for studies that test universality, also tests the singular vectors against the Porter–Thomas law in
the same pass) and in the files they declare. The states are the trained weights (``final.pt``) and
those training started from (``init.pt``); each layer is decomposed once by
:func:`rmtweights.stages.spectra.spectra_tables`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rmtweights import io, layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.spectra import spectra_tables

__all__ = ["extract_spectra"]


def extract_spectra(final: str | os.PathLike, init: str | os.PathLike, run_keys: Mapping[str, Any] | Any, *,
                    reshape: str, porter_thomas_window: int | None, device: str | None,
                    log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The spectra table (and, with ``porter_thomas_window``, the Porter–Thomas table) of the states
    ``trained`` (checkpoint ``final``) and ``initial`` (checkpoint ``init``), prefixed with the run keys.

    ``reshape``, ``porter_thomas_window``, ``device`` and ``log`` as in
    :func:`~rmtweights.stages.spectra.spectra_tables`.
    """
    states = {state: layers.iter_layer_matrices(layers.weight_tensors(io.load_checkpoint(path)["model_state"]),
                                                reshape)
              for state, path in (("trained", final), ("initial", init))}
    spectra, porter_thomas = spectra_tables(states, reshape=reshape, porter_thomas_window=porter_thomas_window,
                                            device=device, log=log)
    return add_run_keys(spectra, run_keys), None if porter_thomas is None else add_run_keys(porter_thomas, run_keys)
