"""One layer analysed in several states at once, with its top singular directions.

The piece shared by the analyses of weights *over time and between models*: a training snapshot
(rules ``analyze_snapshot`` and ``analyze_checkpoint``, state ``snapshot``) and two models with their
difference (:func:`rmtweights.diff.diff_models` and rule ``diff_weights``, states ``base``, ``model``
and ``delta``). Each state of the layer is decomposed once by the stages the final weights go through
(:func:`rmtweights.stages.spectra.spectra_tables`, :func:`rmtweights.stages.fit_mp.fit_tables`,
:func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`), and the same decomposition gives the right
singular vectors (length m, the shorter side, as for phi in paper 000) of the largest singular
values: the spikes whose subspaces :mod:`rmtweights.rmt.subspace` compares. One layer at a time, so
memory follows the largest layer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.layers import LayerMatrix, SkippedTensor
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA, DEFAULT_BETA
from rmtweights.stages.fit_heavy_tail import heavy_tail_table
from rmtweights.stages.fit_mp import fit_tables
from rmtweights.stages.spectra import spectra_tables

__all__ = ["K_MAX", "LayerStates", "analyze_layer_states", "top_directions"]

#: Most top directions kept per layer and state for the overlaps (and stored per snapshot).
K_MAX = 64


@dataclass(frozen=True, eq=False)
class LayerStates:
    """:func:`analyze_layer_states` of one layer.

    Attributes
    ----------
    spectra : pandas.DataFrame
        The spectra table of the layer's states (:data:`rmtweights.stages.spectra.SPECTRA_COLUMNS`).
    fits : pandas.DataFrame
        One fit row per state and method (:data:`rmtweights.stages.fit_mp.FIT_COLUMNS`).
    tails : pandas.DataFrame
        The heavy-tail row of each state in ``tail_states`` (empty when none).
    directions : dict of str -> numpy.ndarray
        Per state in ``direction_states`` that was decomposed, the ``m x K`` right singular vectors of
        its K largest singular values, K = the largest s-hat of its fits, at most ``k_max``.
    """

    spectra: pd.DataFrame
    fits: pd.DataFrame
    tails: pd.DataFrame
    directions: dict[str, np.ndarray]

    def s_hat(self, state: str, method: str) -> int | None:
        """s-hat of ``state`` by ``method``; None when the fit gives no count."""
        rows = self.fits[(self.fits.state == state) & (self.fits.method == method)]
        value = rows.s_hat.iloc[0] if len(rows) else pd.NA
        return None if pd.isna(value) else int(value)


def analyze_layer_states(
    states: Mapping[str, LayerMatrix | SkippedTensor],
    methods: Sequence[str],
    *,
    alpha: float = DEFAULT_ALPHA,
    a: int = DEFAULT_A,
    beta: float = DEFAULT_BETA,
    reshape: str = "spatial",
    heavy_tail: Mapping[str, Any] | None = None,
    tail_states: Collection[str] = (),
    direction_states: Collection[str] = (),
    k_max: int = K_MAX,
    min_dim: int = 10,
    device: str | None = None,
    log: Callable[[str], None] | None = None,
) -> LayerStates:
    """Spectra, fits, heavy-tail rows and top directions of one layer in each of its ``states``.

    Parameters
    ----------
    states : mapping of state name -> LayerMatrix or SkippedTensor
        The layer in each state (e.g. ``{"base": W_A, "model": W_B, "delta": W_B - W_A}``).
    methods, alpha, a, beta
        As in :func:`rmtweights.stages.fit_mp.fit_tables`.
    heavy_tail : mapping, optional
        ``n_bootstrap`` and ``seed`` of :func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`,
        run for the states in ``tail_states``.
    direction_states : collection of str
        States whose top right singular vectors are kept (decomposed with vectors).
    k_max : int
        Most directions kept per state.
    min_dim, device, log
        As in :func:`rmtweights.stages.spectra.spectra_tables`.
    """
    if int(k_max) != k_max or k_max < 0:
        raise ValueError(f"k_max must be a non-negative integer, got k_max={k_max!r}")
    vectors: dict[str, np.ndarray] = {}

    def keep(state: str, layer: str, right_vectors: np.ndarray) -> None:
        vectors[state] = right_vectors[:, :k_max]  # descending singular values: the top ones first

    spectra, _ = spectra_tables({state: [layer] for state, layer in states.items()}, reshape=reshape,
                                min_dim=min_dim, device=device, log=log,
                                on_vectors=keep if direction_states else None, vector_states=direction_states)
    fits, _, _ = fit_tables(spectra, methods, alpha=alpha, a=a, beta=beta, curve=False)
    tails = pd.DataFrame()
    if heavy_tail is not None and tail_states:
        tails = heavy_tail_table(spectra[spectra.state.isin(list(tail_states))], n_bootstrap=heavy_tail["n_bootstrap"],
                                 seed=heavy_tail["seed"])
    directions = {}
    for state, right in vectors.items():
        counts = fits[fits.state == state].s_hat.dropna()
        k = min(int(counts.max()) if len(counts) else 0, right.shape[1])
        directions[state] = np.ascontiguousarray(right[:, :k])
    return LayerStates(spectra=spectra, fits=fits, tails=tails, directions=directions)


def top_directions(directions: np.ndarray | None, s_hat: int | None, k_max: int = K_MAX) -> np.ndarray | None:
    """The first ``min(s_hat, k_max)`` columns of a state's directions (its spikes), or None when the
    state has no directions or no count."""
    if directions is None or s_hat is None:
        return None
    return directions[:, :min(int(s_hat), int(k_max), directions.shape[1])]
