r"""What changed between two models: :func:`diff_models`, layer by layer.

For every tensor that two models (a base :math:`A` and a model :math:`B`: a fine-tune, a later
checkpoint) hold under the same name with the same shape, and that is a layer
(:func:`rmtweights.tensors.classify`), the difference :math:`\Delta W = W_B - W_A` is analysed like
any weight matrix (the stages of :mod:`rmtweights.stages.layer_states`): its spectrum, the
Marchenko–Pastur fit of each estimator, the Tracy–Widom threshold :math:`\gamma_+` and the spike
count :math:`\hat s`, i.e. **the effective rank of the update** (a low-rank fine-tune shows its rank
above the noise the rest of the update adds), and its power-law test. Beside it:

* :math:`\|\Delta W\|_F / \|W_A\|_F` (``rel_norm``) and :math:`s_1(\Delta W)/s_1(W_A)`
  (``rel_norm_spectral``), from the same singular values;
* the overlap of the top singular subspaces of :math:`W_A` and :math:`W_B` (their spikes: the right
  singular vectors of the :math:`\hat s_A` and :math:`\hat s_B` largest singular values, on the shorter
  side), with the level two independent random subspaces reach, and the top directions of :math:`W_B`
  without counterpart in :math:`W_A` (:func:`rmtweights.rmt.subspace.compare_subspaces`).

An update that is exactly low rank (a LoRA product, computed in float64) has no noise bulk to fit: its
MP fit is replaced by its numerical rank (``s_hat`` = ``numerical_rank``, with the reason). Updates of
trained models carry noise of their own; a low-rank update with none, merged into weights stored in
float32, leaves only the rounding of the stored models as its noise, which is not i.i.d. (it follows the
magnitude of the entries) and can show spurious spikes: compare such merges in float64.

**LoRA adapters.** When :math:`B` is a LoRA adapter (tensors ``<path>.lora_A[.<name>].weight``, r x in,
and ``<path>.lora_B[.<name>].weight``, out x r, as PEFT writes them), the update of ``<path>.weight``
is the product :math:`\Delta W = s\, B A` with :math:`s = \alpha / r` (``lora_alpha`` and ``r`` of the
``adapter_config.json`` beside the file; :math:`\alpha/\sqrt r` with ``use_rslora``; 1 without one),
and :math:`W_B = W_A + \Delta W`.

Tensors that cannot be compared get one row per method with ``status`` "skipped" and the reason
(only in one model, different shapes, not a layer), as :func:`rmtweights.api.analyze_model` does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from rmtweights.analyze import _rank_tolerance  # the numerical-rank rule of the fits, in one place
from rmtweights.layers import LayerMatrix, SkippedTensor, tensor_layers
from rmtweights.methods import DEFAULT_A, DEFAULT_ALPHA, DEFAULT_BETA, METHOD_NAMES, THRESHOLD_METHODS, check_methods
from rmtweights.rmt.subspace import NEW_BELOW, OVERLAP_COLUMNS, compare_subspaces
from rmtweights.stages.layer_states import K_MAX, LayerStates, analyze_layer_states, top_directions
from rmtweights.tensors import strip_wrapper_prefixes
from rmtweights.weights.common import TensorEntry
from rmtweights.weights.selection import select
from rmtweights.weights.source import open_weights

__all__ = ["DIFF_COLUMNS", "diff_models", "overlap_row", "lora_scale_of"]
#: Columns of :func:`diff_models`' table, in order.
DIFF_COLUMNS: tuple[str, ...] = ("layer", "kind", "shape", "n", "m", "method", "rel_norm", "rel_norm_spectral",
                                 "numerical_rank", "sigma", "gamma_plus", "s_hat", "gamma_max", "ave_w", "alpha_sv",
                                 "verdict", "s_hat_a", "s_hat_b", *OVERLAP_COLUMNS, "lora_scale", "status", "reason")

_LORA = re.compile(r"^(?:base_model\.model\.)?(?P<path>.+)\.lora_(?P<factor>[AB])(?:\.[^.]+)?\.weight$")


@dataclass
class _Tensors:
    """The tensors of one side: name -> (shape, dtype name), and a loader of one tensor."""

    entries: dict[str, tuple[tuple[int, ...], str]]
    load: Callable[[str], torch.Tensor]
    folder: Path | None


def _dtype_name(tensor: Any) -> str:
    return str(tensor.dtype).replace("torch.", "")


def _open(source: Any, stack: ExitStack, role: str) -> _Tensors:
    """The tensors of an nn.Module, a state_dict or a weights file/folder (loaded one at a time)."""
    if hasattr(source, "state_dict") and hasattr(source, "named_modules"):
        source = source.state_dict()
    if isinstance(source, Mapping):
        tensors = {strip_wrapper_prefixes(str(k)): torch.as_tensor(v) for k, v in source.items() if hasattr(v, "shape")}
        return _Tensors({k: (tuple(v.shape), _dtype_name(v)) for k, v in tensors.items()}, tensors.__getitem__, None)
    if isinstance(source, (str, Path)):
        weights = stack.enter_context(open_weights(source))
        folder = Path(source) if Path(source).is_dir() else Path(source).parent
        return _Tensors({e.name: (tuple(e.shape), e.dtype) for e in weights.entries}, weights.load, folder)
    raise TypeError(f"{role} must be an nn.Module, a state_dict mapping or a path, got {type(source).__name__}")


def _selected(tensors: _Tensors, include, exclude, where: str) -> list[str]:
    entries = [TensorEntry(name=name, shape=shape, dtype=dtype, file=where)
               for name, (shape, dtype) in tensors.entries.items()]
    return [e.name for e in select(entries, include, exclude)]


def lora_scale_of(folder: Path | None, rank: int) -> float:
    """The LoRA scale :math:`\\alpha/r` (``use_rslora``: :math:`\\alpha/\\sqrt r`) from the
    ``adapter_config.json`` in ``folder``; 1 when there is none."""
    config = None if folder is None else folder / "adapter_config.json"
    if config is None or not config.is_file():
        return 1.0
    values = json.loads(config.read_text())
    alpha, r = float(values.get("lora_alpha", rank)), float(values.get("r", rank))
    return alpha / math.sqrt(r) if values.get("use_rslora") else alpha / r


def _lora_pairs(names: Sequence[str]) -> dict[str, dict[str, str]]:
    """``{base tensor name: {"A": name, "B": name}}`` of the LoRA factors among ``names``."""
    pairs: dict[str, dict[str, str]] = {}
    for name in names:
        match = _LORA.match(name)
        if match:
            pairs.setdefault(f"{match['path']}.weight", {})[match["factor"]] = name
    return pairs


def _skipped(name: str, shape: tuple[int, ...], methods: Sequence[str], reason: str) -> list[dict[str, Any]]:
    layer = name[: -len(".weight")] if name.endswith(".weight") else name
    return [dict(layer=layer, kind="other", shape="x".join(map(str, shape)), method=method, status="skipped",
                 reason=reason) for method in methods]


def overlap_row(states: LayerStates, a: str, b: str, method: str, k_max: int = K_MAX,
                new_below: float = NEW_BELOW) -> dict[str, Any]:
    """The overlap columns (:data:`OVERLAP_COLUMNS`) of the spikes of state ``b`` against those of
    state ``a`` by ``method``; empty when either has no count (a fit that is not ok, or a method
    without a threshold)."""
    va = top_directions(states.directions.get(a), states.s_hat(a, method), k_max)
    vb = top_directions(states.directions.get(b), states.s_hat(b, method), k_max)
    if va is None or vb is None:
        return {}
    return compare_subspaces(va, vb, new_below=new_below).summary()


def _norms(spectra: pd.DataFrame, state: str) -> tuple[float, float]:
    """Frobenius and spectral norm of a state's matrix from its singular values (NaN without them)."""
    sv = spectra.loc[(spectra.state == state) & (spectra.status == "ok"), "sv"].to_numpy(float)
    return (float(np.sqrt(np.sum(sv**2))), float(sv.max())) if sv.size else (math.nan, math.nan)


def _rows(states: LayerStates, methods: Sequence[str], k_max: int, new_below: float,
          lora_scale: float) -> list[dict[str, Any]]:
    """One row per method for a compared layer: the fit of its difference, norms, overlaps."""
    spectra, fits = states.spectra, states.fits
    delta = spectra[spectra.state == "delta"]
    sv = delta.sv.to_numpy(float) if (delta.status == "ok").all() else np.empty(0)
    rank = int(np.count_nonzero(sv > _rank_tolerance(np.sort(sv)[::-1], int(delta.n.iloc[0])))) if sv.size else None
    fro_a, top_a = _norms(spectra, "base")
    fro_d, top_d = _norms(spectra, "delta")
    tail = states.tails.iloc[0] if len(states.tails) else pd.Series(dtype=object)
    rows = []
    for method in methods:
        fit = fits[(fits.state == "delta") & (fits.method == method)].iloc[0].to_dict()
        row = dict(fit, rel_norm=fro_d / fro_a if fro_a > 0 else math.nan,
                   rel_norm_spectral=top_d / top_a if top_a > 0 else math.nan, numerical_rank=rank,
                   alpha_sv=tail.get("alpha_sv", math.nan), verdict=tail.get("verdict"),
                   s_hat_a=states.s_hat("base", method), s_hat_b=states.s_hat("model", method),
                   lora_scale=lora_scale, shape=str(delta["shape"].iloc[0]))
        low_rank = rank is not None and 0 < rank < sv.size and row["status"] == "skipped"
        if low_rank and method in THRESHOLD_METHODS:
            row.update(s_hat=rank, sigma=0.0, status="ok",
                       reason=f"the update is exactly low rank (numerical rank {rank} of {sv.size}): s_hat is its "
                              "rank; there is no noise bulk to fit")
        row.update(overlap_row(states, "base", "model", method, k_max, new_below))
        rows.append(row)
    return rows


def diff_models(
    a: Any,
    b: Any,
    *,
    methods: Sequence[str] = METHOD_NAMES,
    n_bootstrap: int = 50,
    reshape: str = "spatial",
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    alpha: float = DEFAULT_ALPHA,
    gb_a: int = DEFAULT_A,
    beta: float = DEFAULT_BETA,
    seed: int = 0,
    k_max: int = K_MAX,
    new_below: float = NEW_BELOW,
    lora_scale: float | None = None,
    min_dim: int = 10,
    device: str | None = "auto",
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The RMT analysis of what changed from model ``a`` to model ``b``: one row per layer and method.

    Parameters
    ----------
    a, b : torch.nn.Module, mapping of name -> tensor, or path
        The base and the changed model (a weights file or folder as in
        :func:`rmtweights.api.analyze_model`); ``b`` may be a LoRA adapter (module docstring).
    methods : sequence of {"bema", "gb", "modified_mp"}
        Estimators of sigma for the spectrum of the difference (and the spikes of each model).
    n_bootstrap, seed : int
        Bootstrap samples and seed of the power-law test of the difference (0: no bootstrap).
    reshape : {"spatial", "flatten", "slices"}
        How conv kernels become matrices (``slices`` has no singular vectors: no overlaps).
    include, exclude : str or sequence of str, optional
        Regular expressions on tensor names, applied to both models.
    alpha, gb_a, beta : float, int, float
        BEMA trimming, Gaussian-broadening half-width and Tracy–Widom tail probability.
    k_max : int
        Most spike directions per model compared (the ``k_a``, ``k_b`` columns say how many were).
    new_below : float
        Squared cosine with the base's spike subspace below which a direction of ``b`` is new.
    lora_scale : float, optional
        Scale of a LoRA product; None reads it from ``adapter_config.json`` beside the adapter.
    min_dim, device, log
        As in :func:`rmtweights.api.analyze_model`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIFF_COLUMNS`: ``sigma``, ``gamma_plus``, ``s_hat``, ``gamma_max``, ``ave_w``,
        ``alpha_sv`` and ``verdict`` are those of the difference; ``numerical_rank`` its numerical rank;
        ``s_hat_a`` and ``s_hat_b`` the spikes of the two models; the overlap columns
        (:data:`OVERLAP_COLUMNS`) compare their spike subspaces (``k_a``, ``k_b`` directions,
        ``overlap`` the mean squared principal cosine, ``overlap_random`` its level for independent
        subspaces, ``new_directions`` and ``new_index`` the directions of ``b`` without counterpart
        in ``a``, 1-based).
    """
    methods = check_methods(methods)
    heavy_tail = {"n_bootstrap": int(n_bootstrap), "seed": int(seed)}
    options = dict(alpha=alpha, a=gb_a, beta=beta, reshape=reshape, heavy_tail=heavy_tail, tail_states=("delta",),
                   direction_states=("base", "model"), k_max=k_max, min_dim=min_dim, device=device, log=log)
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        base, changed = _open(a, stack, "a"), _open(b, stack, "b")
        names_a = _selected(base, include, exclude, "model a")
        names_b = _selected(changed, include, exclude, "model b")
        pairs = _lora_pairs(names_b)
        factors = {name for pair in pairs.values() for name in pair.values()}
        in_b = set(names_b)
        for name in names_a:
            shape = base.entries[name][0]
            pair = pairs.get(name)
            if pair is not None:
                rows += _lora_rows(name, base, changed, pair, methods, options, lora_scale, new_below)
            elif name not in in_b:
                rows += _skipped(name, shape, methods, "only in model a")
            elif changed.entries[name][0] != shape:
                rows += _skipped(name, shape, methods, f"shapes differ: {shape} in model a, "
                                                       f"{changed.entries[name][0]} in model b")
            else:
                rows += _compare(name, base.load(name), changed.load(name), methods, options, new_below)
        for name in names_b:
            if name in base.entries or name in factors:
                continue
            rows += _skipped(name, changed.entries[name][0], methods, "only in model b")
        for target, pair in pairs.items():
            if target not in base.entries:
                for factor in pair.values():
                    rows += _skipped(factor, changed.entries[factor][0], methods,
                                     f"LoRA factor of {target}, which model a does not hold")
    counts = ("n", "m", "s_hat", "numerical_rank", "s_hat_a", "s_hat_b", "k_a", "k_b", "new_directions")
    return pd.DataFrame(rows).reindex(columns=list(DIFF_COLUMNS)).astype({c: "Int64" for c in counts})


def _layer(name: str, tensor: torch.Tensor, reshape: str) -> LayerMatrix | SkippedTensor:
    return next(tensor_layers([(name, tuple(tensor.shape), _dtype_name(tensor))], lambda _: tensor, reshape))


def _compare(name: str, wa: torch.Tensor, wb: torch.Tensor, methods: Sequence[str],
             options: dict[str, Any], new_below: float, lora_scale: float = math.nan) -> list[dict[str, Any]]:
    """The rows of a tensor both models hold with the same shape."""
    reshape = options["reshape"]
    la = _layer(name, wa, reshape)
    if isinstance(la, SkippedTensor):
        return _skipped(name, la.shape, methods, la.reason)
    delta = wb.detach().to(torch.float64) - wa.detach().to(torch.float64)  # exact for float32 inputs
    states = {"base": la, "model": _layer(name, wb, reshape), "delta": _layer(name, delta, reshape)}
    analysed = analyze_layer_states(states, methods, **options)
    return _rows(analysed, methods, options["k_max"], new_below, lora_scale)


def _lora_rows(name: str, base: _Tensors, changed: _Tensors, pair: dict[str, str], methods: Sequence[str],
               options: dict[str, Any], scale: float | None, new_below: float) -> list[dict[str, Any]]:
    """The rows of a base tensor updated by a LoRA pair: W_B = W_A + s B A."""
    shape = base.entries[name][0]
    if set(pair) != {"A", "B"}:
        return _skipped(name, shape, methods, f"LoRA factor {next(iter(pair.values()))} has no partner")
    factor_a, factor_b = changed.load(pair["A"]).to(torch.float64), changed.load(pair["B"]).to(torch.float64)
    if factor_a.ndim != 2 or factor_b.ndim != 2 or (factor_b.shape[0], factor_a.shape[1]) != tuple(shape):
        return _skipped(name, shape, methods, f"LoRA factors {tuple(factor_b.shape)} x {tuple(factor_a.shape)} do not "
                                              f"make the shape {shape} (only 2-d layers are supported)")
    rank = int(factor_a.shape[0])
    scale = lora_scale_of(changed.folder, rank) if scale is None else float(scale)
    wa = base.load(name).to(torch.float64)
    return _compare(name, wa, wa + scale * (factor_b @ factor_a), methods, options, new_below,
                    lora_scale=scale)
