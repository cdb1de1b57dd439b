"""One call for a whole model or one matrix, outside the workflow: :func:`analyze_model`, :func:`analyze_matrix`.

The same computations the workflow runs, in memory: every tensor of a model, a state_dict or a weights
file is classified and cut into matrices (:func:`rmtweights.tensors.plan_tensors`), each matrix is
decomposed once (:func:`rmtweights.stages.spectra.iter_spectra`), fitted by each estimator of
:math:`\\sigma` with its threshold, s-hat and Ave_w (:func:`rmtweights.analyze.analyze_spectrum`, as the
workflow's :func:`rmtweights.stages.fit_mp.fit_tables`) and tested for a power-law tail
(:func:`rmtweights.rmt.heavytail.fit_heavy_tail`, as :func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`).
The numbers are those of the workflow's ``mp_fit.parquet`` and ``heavy_tail.parquet`` for the same
weights. Rows are gathered as plain records, layer by layer, and one table is built at the end.
:func:`analyze_matrix` decomposes one matrix and analyses its spectrum
(:func:`rmtweights.analyze.analyze_spectrum`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rmtweights.analyze import MatrixAnalysis, analyze_spectrum, check_options, not_analysed
from rmtweights.baselines import BASELINE_STATE, baseline_layers, check_baseline
from rmtweights.layers import RESHAPES, LayerMatrix, part_layers
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA, DEFAULT_BETA, METHOD_NAMES, check_methods
from rmtweights.rmt.heavytail import fit_heavy_tail
from rmtweights.spectrum import check_matrix, layer_spectrum
from rmtweights.stages.fit_mp import FIT_COLUMNS
from rmtweights.stages.spectra import iter_spectra
from rmtweights.tensors import SkippedTensor, TensorPart, plan_tensors
from rmtweights.weights.common import TensorEntry
from rmtweights.weights.int8 import dequantise_int8, find_int8_scales
from rmtweights.weights.selection import select
from rmtweights.weights.source import open_weights

__all__ = ["analyze_model", "analyze_matrix"]

#: Columns of the table that come from the layer, after the fit columns.
LAYER_COLUMNS: tuple[str, ...] = ("shape", "quantisation", "state")


def _mapping_source(state_dict: Mapping[str, Any], include, exclude) -> tuple[list[TensorEntry], Callable]:
    """The chosen entries of an in-memory state_dict and their loader (int8 weights with scales dequantised)."""
    tensors = {name: t for name, t in state_dict.items() if hasattr(t, "shape") and hasattr(t, "dtype")}
    entries = [TensorEntry(name=name, shape=tuple(int(s) for s in t.shape), dtype=str(t.dtype).replace("torch.", ""),
                           file="<state_dict>") for name, t in tensors.items()]
    entries, scales = find_int8_scales(entries, "the state_dict")
    chosen = select(entries, include, exclude)

    def load(name: str):
        return dequantise_int8(name, scales[name], tensors.__getitem__) if name in scales else tensors[name]

    return chosen, load


def _tail_record(sv: np.ndarray | None, reason: str, n_bootstrap: int, seed: int) -> dict[str, Any]:
    """The heavy-tail columns of a layer (as :func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`);
    a layer without a spectrum has its status and reason and no verdict."""
    if sv is None:
        return {"heavy_tail_status": "skipped", "heavy_tail_reason": reason, "verdict": None}
    row = fit_heavy_tail(sv, n_bootstrap=n_bootstrap, seed=seed)
    row["bootstrap_seed"] = row.pop("seed", seed)
    row["heavy_tail_status"], row["heavy_tail_reason"] = row.pop("status"), row.pop("reason")
    return row


def analyze_model(
    source: Any,
    *,
    methods: Sequence[str] = METHOD_NAMES,
    n_bootstrap: int = 50,
    reshape: str = "spatial",
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    experts: str | Sequence[str] | None = None,
    split_qkv: bool = False,
    split_gate_up: bool = False,
    baseline: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    a: int = DEFAULT_A,
    beta: float = DEFAULT_BETA,
    seed: int = 0,
    min_dim: int = 10,
    device: str | None = "auto",
    spectra: bool = False,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The RMT analysis of every layer of a model: one row per tensor (or matrix cut from it) and method.

    Parameters
    ----------
    source : torch.nn.Module, mapping of name -> tensor, or path
        A model (analysed through exactly the tensors of its ``state_dict()``), a state_dict (every
        tensor considered; those that are not layers get a row with the reason), or a weights file or
        folder (``.pt``/``.pth``/``.bin``, ``.safetensors``, ``.gguf``, a sharded checkpoint's
        ``*.index.json`` or a folder holding one; see :func:`rmtweights.weights.source.open_weights`),
        read one tensor at a time. Which tensors are layers: :mod:`rmtweights.tensors`.
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
    experts : str or sequence of str, optional
        Regular expressions naming further 3-d tensors that are expert stacks (names with ``experts``,
        ``moe``, ``_exps`` are found without them); each expert is a row ``name[e]``.
    split_qkv, split_gate_up : bool
        Also cut fused attention projections into q, k, v and fused ``gate_up`` projections into
        gate and up (:func:`rmtweights.tensors.plan_tensors`).
    baseline : {None, "shuffled", "gaussian"}
        Also analyse a random baseline of every layer (rows with ``state`` "baseline",
        :mod:`rmtweights.baselines`): its entries shuffled (what heavy-tailed noise alone shows) or
        Gaussian entries of its mean and variance. None: the trained weights only.
    alpha, a, beta : float, int, float
        BEMA trimming, Gaussian-broadening half-width, Tracy–Widom tail probability (eq. (3) of
        Nishikawa et al. 2025); the workflow's defaults.
    seed : int
        Seed of the heavy-tail bootstrap and of the baseline.
    min_dim : int
        Layers whose shorter side is at most ``min_dim`` are skipped with a reason.
    device : {"auto", None, "cpu", "cuda", ...}
        Where large layers are decomposed: ``"auto"`` uses a GPU when there is one
        (:func:`rmtweights.stages.spectra.spectra_tables`).
    spectra : bool
        Add the column ``sv``: each analysed layer's singular values (descending, float64; the same
        array on every method row of a layer), which :func:`rmtweights.plots.spectrum.layer_figure`
        draws.
    log : callable, optional
        Called with one progress line per layer: ``k/N``, name, shape, seconds, time left.

    Returns
    -------
    pandas.DataFrame
        In the source's order (:attr:`rmtweights.weights.source.WeightsFile.entries`), the columns of
        the workflow's fit table (``layer, kind, reshape, method, n, m, q, min_nm, sigma, gamma_plus,
        s_hat, ave_w, gd_threshold, s_hat_gd, fraction_mp, nu_max, gamma_max, status, reason``), then
        ``shape`` (the tensor's), ``quantisation`` (how it was stored, e.g. ``Q8_0`` for GGUF, "" for
        plain floats), ``state`` ("trained" or "baseline") and the heavy-tail columns of the layer
        (``alpha_sv``, ``alpha_eig``, ``x_min``, ``gof_p``, ``lr_*``, ``hill_alpha_sv``, ``verdict``,
        ...), the heavy-tail test's own status and reason as ``heavy_tail_status`` and
        ``heavy_tail_reason``; a tensor that is not analysed has no verdict.
    """
    methods = check_methods(methods)
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")
    if baseline is not None:
        check_baseline(baseline)
    options = dict(experts=experts, split_qkv=split_qkv, split_gate_up=split_gate_up)
    fits: list[dict[str, Any]] = []
    with ExitStack() as stack:
        if hasattr(source, "named_modules") and hasattr(source, "state_dict"):
            source = source.state_dict()
        if isinstance(source, Mapping):
            chosen, load = _mapping_source(source, include, exclude)
        elif isinstance(source, (str, Path)):
            weights = stack.enter_context(open_weights(source))
            chosen, load = select(weights.entries, include, exclude), weights.load
        else:
            raise TypeError(f"source must be an nn.Module, a state_dict mapping or a path, got {type(source).__name__}")
        plan = plan_tensors([(e.name, e.shape, e.dtype, e.quantisation) for e in chosen], **options)
        parts = [item for item in plan if isinstance(item, TensorPart)]
        states = {"trained": part_layers(plan, load, reshape)}
        if baseline is not None:
            states[BASELINE_STATE] = baseline_layers(part_layers(parts, load, reshape), baseline, seed)
        total = len(parts) * len(states)
        done = 0
        for state, layers in states.items():
            for layer, result in iter_spectra(layers, min_dim=min_dim, device=device, state=state, total=total,
                                              done=done, log=log):
                fits += _layer_records(state, layer, result, reshape, methods, alpha=alpha, beta=beta, a=a,
                                       n_bootstrap=n_bootstrap, seed=seed, spectra=spectra)
            done += len(parts)
    return _table(fits, spectra)


def _layer_records(state: str, layer: LayerMatrix | SkippedTensor, result, reshape: str, methods: Sequence[str], *,
                   alpha: float, beta: float, a: int, n_bootstrap: int, seed: int,
                   spectra: bool) -> list[dict[str, Any]]:
    """One layer's rows (one per method) as plain records, the heavy-tail columns on each."""
    shape = "x".join(str(s) for s in layer.shape)
    base = dict(layer=layer.name, kind=layer.kind, reshape=reshape, shape=shape, quantisation=layer.quantisation,
                state=state)
    if result is None or result.status != "ok":
        n, m = (0, 0) if result is None else (layer.n, layer.m)
        reason = layer.reason if result is None else result.reason
        tail = _tail_record(None, reason, n_bootstrap, seed)
        q = m / n if n else float("nan")
        return [dict(base, method=method, n=n, m=m, q=q, min_nm=m, status="skipped", reason=reason, **tail)
                for method in methods]
    tail = _tail_record(result.sv, "", n_bootstrap, seed)
    extra = {"sv": result.sv} if spectra else {}
    rows = []
    for method in methods:
        analysis = analyze_spectrum(result.sv, layer.n, layer.m, method, alpha=alpha, beta=beta, a=a)
        rows.append(dict(base, min_nm=analysis.m, **analysis.summary(), **tail, **extra))
    return rows


def _table(records: list[dict[str, Any]], spectra: bool) -> pd.DataFrame:
    """The one DataFrame of every record, columns in the documented order."""
    fit_columns = [c for c in FIT_COLUMNS if c != "state"]
    frame = pd.DataFrame.from_records(records)
    tails = [c for c in frame.columns if c not in fit_columns and c not in LAYER_COLUMNS and c != "sv"
             and c not in ("alpha", "beta", "a", "threshold")]
    columns = fit_columns + list(LAYER_COLUMNS) + tails + (["sv"] if spectra else [])
    frame = frame.reindex(columns=columns)
    for column in ("n", "m", "min_nm"):
        frame[column] = frame[column].astype("int64")
    for column in ("s_hat", "s_hat_gd"):  # no count (not ok, or no threshold): <NA>, never a number
        frame[column] = frame[column].where(frame[column] >= 0).astype("Int64")
    return frame


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
