"""One call for a whole model or one matrix, outside the workflow: :func:`analyze_model`, :func:`analyze_matrix`.

The same stages the workflow runs, in memory: every layer of a model, a state_dict or a weights file
is decomposed once (:func:`rmtweights.stages.spectra.spectra_tables`), fitted by each estimator of
:math:`\\sigma` with its threshold, s-hat and Ave_w (:func:`rmtweights.stages.fit_mp.fit_tables`) and
tested for a power-law tail (:func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`). The numbers are
those of the workflow's ``mp_fit.parquet`` (the fit table) and ``heavy_tail.parquet`` for the same weights.
:func:`analyze_matrix` decomposes one matrix and analyses its spectrum
(:func:`rmtweights.analyze.analyze_spectrum`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rmtweights import layers
from rmtweights.analyze import MatrixAnalysis, analyze_spectrum, check_options, not_analysed
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA, DEFAULT_BETA, METHOD_NAMES, check_methods
from rmtweights.spectrum import check_matrix, layer_spectrum
from rmtweights.stages.fit_heavy_tail import heavy_tail_table
from rmtweights.stages.fit_mp import FIT_COLUMNS, fit_tables
from rmtweights.stages.spectra import spectra_tables
from rmtweights.weights.common import TensorEntry
from rmtweights.weights.selection import select
from rmtweights.weights.source import open_weights

__all__ = ["analyze_model", "analyze_matrix"]


def _module_layers(model, reshape: str, include, exclude) -> Iterator[layers.LayerMatrix]:
    """The module's layers; include/exclude match the weights' tensor names (``fc1.weight``), as for a state_dict."""
    tensors = layers.weight_tensors(model)
    entries = [TensorEntry(name=f"{name}.weight", shape=tuple(w.shape), dtype=str(w.dtype).replace("torch.", ""),
                           file="<module>") for name, _, w in tensors]
    keep = {e.name.removesuffix(".weight") for e in select(entries, include, exclude)}
    return layers.iter_layer_matrices([t for t in tensors if t[0] in keep], reshape)


def _mapping_layers(state_dict: Mapping[str, Any], reshape: str, include, exclude):
    entries = [TensorEntry(name=name, shape=tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""),
                           file="<state_dict>") for name, t in state_dict.items() if hasattr(t, "shape")]
    chosen = select(entries, include, exclude)
    return layers.tensor_layers([(e.name, e.shape, e.dtype) for e in chosen], state_dict.__getitem__, reshape)


def analyze_model(
    source: Any,
    *,
    methods: Sequence[str] = METHOD_NAMES,
    n_bootstrap: int = 50,
    reshape: str = "spatial",
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    alpha: float = DEFAULT_ALPHA,
    a: int = DEFAULT_A,
    beta: float = DEFAULT_BETA,
    seed: int = 0,
    min_dim: int = 10,
    device: str | None = "auto",
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The RMT analysis of every layer of a model: one row per layer and method.

    Parameters
    ----------
    source : torch.nn.Module, mapping of name -> tensor, or path
        A model (its ``Linear``, ``Conv1d``, ``Conv2d`` and ``Embedding`` weights), a state_dict
        (every tensor considered; those that are not layers get a row with the reason), or a weights
        file or folder (``.pt``/``.pth``/``.bin``, ``.safetensors``, a sharded checkpoint's
        ``*.index.json`` or a folder holding one; see :func:`rmtweights.weights.source.open_weights`),
        read one tensor at a time.
    methods : sequence of {"bema", "gb", "modified_mp"}
        Estimators of sigma (:data:`rmtweights.methods.METHOD_NAMES`; the workflow's
        ``analysis.methods``). A name that is not one of them raises ``ValueError`` before any work.
    n_bootstrap : int
        Bootstrap samples of the power-law goodness of fit (0: none; the verdict is then never
        ``heavy_tailed``).
    reshape : {"spatial", "flatten", "slices"}
        How conv kernels become matrices.
    include, exclude : str or sequence of str, optional
        Regular expressions on tensor names (``re.search``): keep only matching tensors, drop
        matching ones. An ``include`` that matches nothing raises ``WeightsError``.
    alpha, a, beta : float, int, float
        BEMA trimming, Gaussian-broadening half-width, Tracy–Widom tail probability (eq. (3) of
        Nishikawa et al. 2025); the workflow's defaults.
    seed : int
        Seed of the heavy-tail bootstrap.
    min_dim : int
        Layers whose shorter side is at most ``min_dim`` are skipped with a reason.
    device : {"auto", None, "cpu", "cuda", ...}
        Where large layers are decomposed: ``"auto"`` uses a GPU when there is one
        (:func:`rmtweights.stages.spectra.spectra_tables`).
    log : callable, optional
        Called with one progress line per layer (name, shape, seconds).

    Returns
    -------
    pandas.DataFrame
        The columns of the workflow's fit table (``layer, kind, reshape, method, n, m, q, min_nm,
        sigma, gamma_plus, s_hat, ave_w, gd_threshold, s_hat_gd, fraction_mp, gamma_max, status,
        reason``), then ``shape`` and the heavy-tail columns of the layer (``alpha_sv``,
        ``alpha_eig``, ``x_min``, ``gof_p``, ``lr_*``, ``hill_alpha_sv``, ``verdict``, ...), the
        heavy-tail test's own status and reason as ``heavy_tail_status`` and ``heavy_tail_reason``.
    """
    methods = check_methods(methods)
    with ExitStack() as stack:
        if hasattr(source, "named_modules"):
            layer_iter = _module_layers(source, reshape, include, exclude)
        elif isinstance(source, Mapping):
            layer_iter = _mapping_layers(source, reshape, include, exclude)
        elif isinstance(source, (str, Path)):
            weights = stack.enter_context(open_weights(source))
            chosen = select(weights.entries, include, exclude)
            layer_iter = layers.tensor_layers([(e.name, e.shape, e.dtype) for e in chosen], weights.load, reshape)
        else:
            raise TypeError(f"source must be an nn.Module, a state_dict mapping or a path, got {type(source).__name__}")
        spectra, _ = spectra_tables({"trained": layer_iter}, reshape=reshape, min_dim=min_dim, device=device,
                                    log=log)
    fits, _, _ = fit_tables(spectra, methods, alpha=alpha, a=a, beta=beta, curve=False)
    tails = heavy_tail_table(spectra, n_bootstrap=n_bootstrap, seed=seed)
    tails = tails.rename(columns={"status": "heavy_tail_status", "reason": "heavy_tail_reason"}).drop(columns=["kind"])
    shapes = spectra.drop_duplicates(["state", "layer"])[["state", "layer", "shape"]]
    out = fits.merge(shapes, on=["state", "layer"], how="left").merge(tails, on=["state", "layer"], how="left")
    columns = [c for c in FIT_COLUMNS if c != "state"] + ["shape"]
    return out[columns + [c for c in tails.columns if c not in ("state", "layer")]]


def analyze_matrix(W: ArrayLike, method: str = "bema", *, alpha: float = DEFAULT_ALPHA,
                   beta: float = DEFAULT_BETA, a: int = DEFAULT_A, threshold: str = "tw") -> MatrixAnalysis:
    """Analyse one weight matrix: its singular values (:func:`rmtweights.spectrum.layer_spectrum`),
    then :func:`rmtweights.analyze.analyze_spectrum`.

    Parameters
    ----------
    W : array_like
        Real 2-d matrix (numpy array or torch tensor), either orientation; transposed to n >= m.
    method, alpha, beta, a, threshold
        As in :func:`rmtweights.analyze.analyze_spectrum`.

    Returns
    -------
    rmtweights.analyze.MatrixAnalysis
        ``status`` "skipped" for an all-zero matrix, "failed" if no decomposition converges; see
        :func:`rmtweights.analyze.analyze_spectrum`.

    Raises
    ------
    ValueError
        Bad options, or W not a finite, non-empty, real 2-d matrix.
    """
    check_options(method, alpha, beta, a, threshold)
    if hasattr(W, "detach") and hasattr(W, "cpu"):  # torch.Tensor without importing torch
        W = W.detach().cpu()
    reason = check_matrix(W)
    if reason is not None:
        raise ValueError(f"W: {reason}")
    shape = tuple(W.shape)
    n, m = max(shape), min(shape)
    result = layer_spectrum(W if shape[0] >= shape[1] else W.T, min_dim=0)
    if result.status != "ok":
        params = {"alpha": float(alpha), "beta": float(beta), "a": int(a), "threshold": threshold}
        gammas = np.empty(0) if result.sv is None else result.sv  # an all-zero matrix: m zeros
        return not_analysed(n, m, gammas, method, params, result.status, result.reason)
    return analyze_spectrum(result.sv, n, m, method, alpha=alpha, beta=beta, a=a, threshold=threshold)
