"""The singular values of every layer, for each weight state, in one pass (rules ``extract_spectra``,
``extract_spectra_and_vectors`` and ``extract_weights_part``, and :func:`rmtweights.api.analyze_model`).

Each layer is decomposed once (:func:`rmtweights.spectrum.layer_spectrum`): its singular values
go to the spectra table, and, when the study runs the universality tests, its right singular
vectors are tested against the Porter–Thomas law in the same pass (Sec. 4 of [2]_), so no later
rule decomposes the layer again. Layers are taken one at a time from an iterator, so memory
follows the largest layer, not the model.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, eq. (2).
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661), Sec. 4.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from rmtweights.layers import LayerMatrix, SkippedTensor
from rmtweights.spectrum import LayerSpectrum, layer_spectrum
from rmtweights.tensors import shape_text

__all__ = ["SPECTRA_COLUMNS", "PORTER_THOMAS_COLUMNS", "GPU_MIN_ELEMENTS", "iter_spectra", "progress_line",
           "spectra_tables"]

#: Layers with at least this many entries go to the GPU when one is asked for (a 1024 x 1024 matrix).
GPU_MIN_ELEMENTS = 1 << 20

#: Columns of the spectra table, in order.
SPECTRA_COLUMNS: tuple[str, ...] = ("state", "layer", "kind", "reshape", "shape", "n", "m", "q", "index", "sv",
                                    "gamma", "status", "reason")
#: Columns of the Porter–Thomas table (:func:`rmtweights.rmt.porter_thomas.porter_thomas` per layer).
PORTER_THOMAS_COLUMNS: tuple[str, ...] = ("state", "layer", "rank", "position", "ks_stat", "p_value",
                                          "p_value_moving_avg", "null")


def _shape_label(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


def _rows(state: str, layer: LayerMatrix | SkippedTensor, reshape: str, sv: np.ndarray | None,
          status: str, reason: str) -> dict[str, np.ndarray]:
    """One layer's rows as column arrays (one DataFrame is built at the end: cheaper than one per layer)."""
    n, m = (0, 0) if isinstance(layer, SkippedTensor) else (layer.n, layer.m)
    values = np.full(1, np.nan) if sv is None else np.asarray(sv, dtype=float)
    rows = values.size

    def repeat(value, dtype=object):
        return np.full(rows, value, dtype=dtype)

    return {
        "state": repeat(state), "layer": repeat(layer.name), "kind": repeat(layer.kind), "reshape": repeat(reshape),
        "shape": repeat(_shape_label(layer.shape)), "n": repeat(n, np.int64), "m": repeat(m, np.int64),
        "q": repeat(m / n if n else np.nan, float),
        "index": np.full(1, -1, dtype=np.int64) if sv is None else np.arange(rows, dtype=np.int64),
        "sv": values,
        "gamma": values / np.sqrt(n) if n else values,  # gamma_k = s_k / sqrt(n), eq. (2) of [1]
        "status": repeat(status), "reason": repeat(reason),
    }


def _duration(seconds: float) -> str:
    """``"40 s"``, ``"3.5 min"``, ``"1.2 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def progress_line(k: int, total: int | None, state: str, layer: LayerMatrix, status: str, seconds: float,
                  elapsed: float, timed: int | None = None, method: str = "") -> str:
    """``"3/40 trained fc2 80×40 matrix: ok (gram) 0.02 s, ~1 s left"``: one analysed layer (k of total, when
    known), the decomposition's path, and the time left at the mean pace of the ``timed`` layers (default k)
    of ``elapsed`` seconds."""
    count = f"{k}/{total}" if total else str(k)
    pace = elapsed / (timed or k)
    left = f", ~{_duration(pace * (total - k))} left" if total and k < total else ""
    return (f"{count} {state} {layer.name} {shape_text(layer.shape, layer.n, layer.m, layer.kind, layer.reshape)}: "
            f"{status}{f' ({method})' if method else ''} {seconds:.2f} s{left}")


def iter_spectra(layers: Iterable[LayerMatrix | SkippedTensor], *, min_dim: int = 10, vectors: bool | str = False,
                 device: str | None = None, state: str = "trained", total: int | None = None, done: int = 0,
                 log: Callable[[str], None] | None = None) -> Iterator[tuple[LayerMatrix | SkippedTensor,
                                                                        LayerSpectrum | None]]:
    """Each layer with its :func:`rmtweights.spectrum.layer_spectrum` (``None`` for a skipped tensor),
    one at a time: the one loop over layers of :func:`spectra_tables` and :func:`rmtweights.api.analyze_model`.

    Layers of at least :data:`GPU_MIN_ELEMENTS` entries are decomposed on ``device`` (see
    :func:`spectra_tables`). ``log`` gets :func:`progress_line` per decomposed layer (``total``: the
    number of layers to decompose, for "k/N" and the time left; ``done``: how many of them came before).
    """
    start, k = time.perf_counter(), 0
    for layer in layers:
        if isinstance(layer, SkippedTensor):
            yield layer, None
            continue
        began = time.perf_counter()
        big = layer.matrix.size >= GPU_MIN_ELEMENTS and device not in (None, "cpu")
        wanted = bool(vectors) and (vectors != "matrices" or layer.matrix.ndim == 2)
        result = layer_spectrum(layer.matrix, min_dim=min_dim, vectors=wanted, device=device if big else None)
        k += 1
        if log is not None:
            now = time.perf_counter()
            log(progress_line(done + k, total, state, layer, result.status, now - began, now - start, k,
                              result.method or ""))
        yield layer, result


def _frame(columns: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    if not columns:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SPECTRA_COLUMNS})
    frame = pd.DataFrame({c: np.concatenate([part[c] for part in columns]) for c in SPECTRA_COLUMNS})
    index = frame["index"].to_numpy()
    frame["index"] = pd.array(np.where(index < 0, 0, index), dtype="Int64")
    frame.loc[index < 0, "index"] = pd.NA  # a layer without a spectrum: one row, index <NA>
    return frame


def spectra_tables(
    states: Mapping[str, Iterable[LayerMatrix | SkippedTensor]],
    *,
    reshape: str = "spatial",
    min_dim: int = 10,
    porter_thomas_window: int | None = None,
    device: str | None = None,
    log: Callable[[str], None] | None = None,
    totals: Mapping[str, int] | None = None,
    on_vectors: Callable[[str, str, np.ndarray], None] | None = None,
    vector_states: Collection[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Singular values of every layer of every state, and optionally the Porter–Thomas tests.

    Parameters
    ----------
    states : mapping of state name -> iterable of LayerMatrix or SkippedTensor
        E.g. ``{"trained": ..., "initial": ...}``; each iterable is consumed once, layer by layer.
    reshape : str
        The conv reshape the matrices were made with (recorded in every row).
    min_dim : int
        Layers whose shorter side ``m <= min_dim`` are skipped (a 10-way classification head has
        too few singular values for a spectral fit).
    porter_thomas_window : int, optional
        When given, the right singular vectors of each analysable layer are tested against the
        Porter–Thomas law with this moving-average window (Sec. 4 of [2]_); ``None`` skips them.
    device : {None, "cpu", "auto", "cuda", ...}, optional
        Where large layers (at least :data:`GPU_MIN_ELEMENTS` entries) are decomposed: ``None`` or
        ``"cpu"``, the CPU path; ``"auto"``, the GPU when the job has one (torch on CUDA, same algorithm
        and precision: :func:`rmtweights.spectrum.singular_values`), else the CPU; a torch device name.
        Smaller layers always stay on the CPU, where the transfer would cost more than it saves.
    log : callable, optional
        Called with one line per layer (:func:`progress_line`): progress on long jobs.
    totals : mapping of state name -> int, optional
        The number of layers each state will decompose, for "k/N" and the time left in ``log``.
    on_vectors : callable, optional
        Called as ``on_vectors(state, layer, right_vectors)`` with the ``m x m`` right singular vectors
        (columns, descending singular values) of each analysable 2-d layer, from the same
        decomposition (a stack of ``slices`` has none): for overlaps of singular subspaces.
    vector_states : collection of str, optional
        The states whose vectors ``on_vectors`` gets (default: every state); the other states are
        decomposed without vectors, which costs less.

    Returns
    -------
    spectra : DataFrame
        Columns :data:`SPECTRA_COLUMNS`: one row per singular value (``index`` 0 = largest), and
        one row with ``index`` NA, ``status`` ``skipped``/``failed`` and a ``reason`` for a layer
        without a spectrum.
    porter_thomas : DataFrame or None
        Columns :data:`PORTER_THOMAS_COLUMNS`, one row per singular vector of each analysable
        2-d layer (``None`` unless ``porter_thomas_window``).
    """
    frames, tests = [], []
    if porter_thomas_window is not None:
        from rmtweights.rmt.porter_thomas import porter_thomas  # scipy.stats: 0.6 s of start-up, only when needed
    for state, layers in states.items():
        total = None if totals is None else totals.get(state)
        handed = on_vectors is not None and (vector_states is None or state in vector_states)
        # a stack of slices has no vectors: ValueError with the Porter-Thomas test, none for on_vectors
        vectors = True if porter_thomas_window is not None else "matrices" if handed else False
        for layer, result in iter_spectra(layers, min_dim=min_dim, vectors=vectors, device=device, state=state,
                                          total=total, log=log):
            if result is None:
                frames.append(_rows(state, layer, reshape, None, "skipped", layer.reason))
                continue
            frames.append(_rows(state, layer, reshape, result.sv if result.status == "ok" else None, result.status,
                                result.reason))
            if handed and result.right_vectors is not None and result.status == "ok":
                on_vectors(state, layer.name, result.right_vectors)
            if porter_thomas_window is not None and result.status == "ok":
                test = porter_thomas(result.right_vectors, window=int(porter_thomas_window))
                test.insert(0, "layer", layer.name)
                test.insert(0, "state", state)
                tests.append(test)
    spectra = _frame(frames)
    if porter_thomas_window is None:
        return spectra, None
    pt = pd.concat(tests, ignore_index=True) if tests else pd.DataFrame(columns=list(PORTER_THOMAS_COLUMNS))
    return spectra, pt[list(PORTER_THOMAS_COLUMNS)]
