"""Layer weights as matrices, and their singular-value spectra as a tidy table.

Every ``Linear`` and ``Conv2d`` weight of a model (or of a ``state_dict``) becomes a float64
NumPy matrix :math:`W` of shape :math:`n \\times m` with :math:`n \\ge m` (transposed when
needed), :math:`q = m / n \\in (0, 1]`, in forward order (ARCHITECTURE.md, "Numerical
conventions"). Its singular values :math:`s_1 \\ge \\dots \\ge s_m` are normalised as

.. math::
    \\gamma_k = s_k / \\sqrt{n},

so that for i.i.d. entries of variance :math:`\\sigma^2` the :math:`\\gamma_k` follow the
Marchenko-Pastur law of eq. (2) of [1]_ on :math:`[\\sigma(1-\\sqrt q), \\sigma(1+\\sqrt q)]`.

A ``Linear`` weight is torch's ``out x in`` matrix. A conv kernel :math:`K` of shape
``(d, c, kh, kw)`` (out channels, in channels, kernel height, width) becomes a matrix by a
named reshape (:data:`RESHAPES`):

``spatial`` (default)
    :math:`(c\\,k_h) \\times (d\\,k_w)`, :math:`M[(c_i, i), (d_o, j)] = K[d_o, c_i, i, j]`, rows
    ordered by :math:`c_i k_h + i` and columns by :math:`d_o k_w + j` (row-major pairs), i.e.
    ``K.permute(1, 2, 0, 3).reshape(c*kh, d*kw)``. This is the "vertical" matrix of the
    spatial low-rank decomposition of [3]_ (a rank-r factorisation of it is a ``kh x 1`` conv
    to r channels followed by a ``1 x kw`` conv), the configuration [1]_ uses after Zhang et
    al. [2]_; with it torchvision's AlexNet gives min(n, m) = 320, 576, 768, 768 for conv2-5,
    the values of Table 2 of [1]_.
``flatten``
    :math:`d \\times (c\\,k_h\\,k_w)`, :math:`M[d_o, (c_i, i, j)] = K[d_o, c_i, i, j]`, torch's own
    memory layout (the im2col matrix; the "channel" decomposition of [2]_).
``slices``
    the :math:`k_h k_w` matrices :math:`M_{(i,j)} = K[:, :, i, j]` of shape :math:`d \\times c`,
    ordered by :math:`i k_w + j`; their spectra are pooled.

Each matrix (each slice alike) is then transposed if it has fewer rows than columns.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory" (papers/000), eq. (2), Sec. 4, Table 2.
.. [2] X. Zhang, J. Zou, K. He, J. Sun, "Accelerating very deep convolutional networks for
   classification and detection", IEEE TPAMI 38 (2016) 1943-1955, doi:10.1109/TPAMI.2015.2502579.
.. [3] M. Jaderberg, A. Vedaldi, A. Zisserman, "Speeding up convolutional neural networks with
   low rank expansions", BMVC 2014, arXiv:1405.3866 (scheme 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
import torch
from torch import nn

__all__ = [
    "RESHAPES",
    "SPECTRA_COLUMNS",
    "LayerMatrix",
    "conv_matrix",
    "layer_matrices",
    "spectra_frame",
    "weight_tensors",
]

RESHAPES: tuple[str, ...] = ("spatial", "flatten", "slices")

#: Columns of :func:`spectra_frame`, in order.
SPECTRA_COLUMNS: tuple[str, ...] = ("layer", "kind", "reshape", "n", "m", "q", "index", "sv", "gamma",
                                    "status", "reason")

# prefixes that wrappers add to state_dict keys (torch.compile, DataParallel / DDP)
_WRAPPER_PREFIXES = ("_orig_mod.", "module.")


@dataclass(frozen=True, eq=False)  # eq=False: comparing array fields elementwise is ambiguous
class LayerMatrix:
    """One layer's weight as an oriented float64 matrix (or, for ``slices``, a stack of them).

    Attributes
    ----------
    name : str
        Module name: ``fc1``, ``conv2`` for :mod:`rmtweights.models`; dotted for nested models
        (``features.3``, ``classifier.1`` in torchvision's AlexNet).
    kind : {"linear", "conv"}
    matrix : numpy.ndarray
        float64, ``n x m`` with ``n >= m``; for ``reshape="slices"`` a stack ``kh*kw x n x m``
        (slice ``i*kw + j`` is ``K[:, :, i, j]``, oriented like every slice).
    shape : tuple of int
        Shape of the original weight (``(out, in)`` or ``(d, c, kh, kw)``).
    reshape : str
        The reshape mode requested (one of :data:`RESHAPES`); it does not change a linear
        layer's matrix but is kept so that every row says which extraction produced it.
    transposed : bool
        True when the matrix was transposed to get ``n >= m`` (relative to torch's ``out x in``
        for linear layers and to the reshape's definition for conv layers).
    """

    name: str
    kind: str
    matrix: np.ndarray = field(repr=False)
    shape: tuple[int, ...]
    reshape: str
    transposed: bool

    @property
    def n(self) -> int:
        """Rows (the longer side) of one matrix."""
        return int(self.matrix.shape[-2])

    @property
    def m(self) -> int:
        """Columns (the shorter side) of one matrix."""
        return int(self.matrix.shape[-1])

    @property
    def q(self) -> float:
        """Aspect ratio m / n in (0, 1]."""
        return self.m / self.n

    @property
    def matrices(self) -> list[np.ndarray]:
        """The 2-D matrices: one, or ``kh*kw`` for ``slices``."""
        return list(self.matrix) if self.matrix.ndim == 3 else [self.matrix]


def weight_tensors(model_or_state_dict: nn.Module | Mapping[str, torch.Tensor]) -> list[tuple[str, str, torch.Tensor]]:
    """``(name, kind, weight)`` of every ``Linear`` and ``Conv2d`` weight, in forward order.

    For a module, ``named_modules()`` order (registration order, which is forward order for
    ``nn.Sequential`` models and torchvision's AlexNet and VGG); for a ``state_dict``, key order,
    taking ``<name>.weight`` entries with 2 dimensions as linear and 4 dimensions as conv (so an
    embedding table in a state_dict would count as linear). ``_orig_mod.`` (``torch.compile``) and
    ``module.`` (``DataParallel``) prefixes are stripped. Tensors are returned as they are (no
    copy), so this also works for models on the ``meta`` device.
    """
    out: list[tuple[str, str, torch.Tensor]] = []
    if isinstance(model_or_state_dict, nn.Module):
        for name, module in model_or_state_dict.named_modules():
            if isinstance(module, nn.Linear):
                out.append((_strip(name), "linear", module.weight))
            elif isinstance(module, nn.Conv2d):
                out.append((_strip(name), "conv", module.weight))
        return out
    if not isinstance(model_or_state_dict, Mapping):
        raise ValueError(f"expected an nn.Module or a state_dict, got {type(model_or_state_dict).__name__}")
    for key, tensor in model_or_state_dict.items():
        if not key.endswith(".weight") or not isinstance(tensor, torch.Tensor):
            continue
        if tensor.ndim == 2:
            out.append((_strip(key[: -len(".weight")]), "linear", tensor))
        elif tensor.ndim == 4:
            out.append((_strip(key[: -len(".weight")]), "conv", tensor))
    return out


def _strip(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix):], True
    return name


def layer_matrices(
    model_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
    reshape: str = "spatial",
    *,
    names: Sequence[str] | None = None,
) -> list[LayerMatrix]:
    """Every ``Linear`` and ``Conv2d`` weight as an ``n x m`` float64 matrix with ``n >= m``.

    Parameters
    ----------
    model_or_state_dict : nn.Module or mapping of name -> tensor
        A model, or its ``state_dict`` (e.g. ``io.load_checkpoint(path)["model_state"]``).
    reshape : {"spatial", "flatten", "slices"}
        How conv kernels become matrices (module docstring); linear layers are unaffected.
    names : sequence of str, optional
        Extract only these layers (still in forward order), e.g. one ``{layer}`` of a per-layer
        rule; ``None`` extracts all.

    Returns
    -------
    list of LayerMatrix
        In forward order (see :func:`weight_tensors`).
    """
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")
    tensors = weight_tensors(model_or_state_dict)
    if names is not None:
        if isinstance(names, str):
            raise ValueError(f"names={names!r} must be a sequence of layer names, not a string")
        available = [name for name, _, _ in tensors]
        unknown = [name for name in names if name not in available]
        if unknown:
            raise ValueError(f"unknown layer name(s) {unknown}; available: {available}")
        tensors = [t for t in tensors if t[0] in set(names)]
    result = []
    for name, kind, weight in tensors:
        w = weight.detach().to(device="cpu", dtype=torch.float64).numpy()
        matrix = w if kind == "linear" else conv_matrix(w, reshape)
        transposed = matrix.shape[-2] < matrix.shape[-1]
        if transposed:
            matrix = np.swapaxes(matrix, -1, -2)
        result.append(LayerMatrix(name=name, kind=kind, matrix=np.ascontiguousarray(matrix),
                                  shape=tuple(int(s) for s in w.shape), reshape=reshape,
                                  transposed=bool(transposed)))
    return result


def conv_matrix(kernel: np.ndarray, reshape: str) -> np.ndarray:
    """A conv kernel ``(d, c, kh, kw)`` as a matrix (or ``slices`` stack), before orientation.

    ``spatial``: ``M[ci*kh + i, do*kw + j] = K[do, ci, i, j]``; ``flatten``:
    ``M[do, (ci*kh + i)*kw + j] = K[do, ci, i, j]``; ``slices``: ``M[i*kw + j] = K[:, :, i, j]``.
    """
    if kernel.ndim != 4:
        raise ValueError(f"conv kernel must have shape (d, c, kh, kw), got {kernel.shape}")
    d, c, kh, kw = kernel.shape
    if reshape == "spatial":
        return kernel.transpose(1, 2, 0, 3).reshape(c * kh, d * kw)
    if reshape == "flatten":
        return kernel.reshape(d, c * kh * kw)
    if reshape == "slices":
        return kernel.transpose(2, 3, 0, 1).reshape(kh * kw, d, c)
    raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")


def spectra_frame(layers: list[LayerMatrix], *, min_dim: int = 10) -> pd.DataFrame:
    """Singular values of each layer matrix, one row per value (tidy, long).

    .. math::
        \\gamma_k = s_k / \\sqrt{n}, \\qquad k = 0, \\dots, m - 1 \\text{ (descending)},

    the normalisation under which eq. (2) of [1]_ holds. Singular values come from
    ``scipy.linalg.svdvals`` (LAPACK ``gesdd``); for ``slices`` the ``kh*kw`` spectra are pooled
    and sorted together, ``n`` and ``m`` are those of one slice and ``index`` runs over the
    ``kh*kw*m`` pooled values.

    A layer that cannot be analysed keeps one row with ``sv`` and ``gamma`` NaN, ``index`` NA and a
    ``status``/``reason``: ``"skipped"`` when ``m <= min_dim`` (the default skips a 10-way
    classification head: too few values for a spectral fit) or when the matrix is all zeros,
    ``"failed"`` for non-finite entries or an SVD that does not converge.

    Parameters
    ----------
    layers : list of LayerMatrix
        From :func:`layer_matrices`.
    min_dim : int
        Layers with ``m <= min_dim`` are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SPECTRA_COLUMNS`: ``layer, kind, reshape`` (str), ``n, m`` (int64),
        ``q`` (float64), ``index`` (nullable Int64; 0 = largest), ``sv, gamma`` (float64),
        ``status`` (``"ok" | "skipped" | "failed"``), ``reason`` (``""`` when ok).
    """
    if int(min_dim) != min_dim or min_dim < 0:
        raise ValueError(f"min_dim={min_dim!r} must be a non-negative integer")
    frames = [_layer_frame(layer, int(min_dim)) for layer in layers]
    if not frames:
        return _empty_frame()
    return pd.concat(frames, ignore_index=True)[list(SPECTRA_COLUMNS)]


def _layer_frame(layer: LayerMatrix, min_dim: int) -> pd.DataFrame:
    n, m = layer.n, layer.m
    status, reason = "ok", ""
    matrix = layer.matrix
    if m <= min_dim:
        status, reason = "skipped", f"m={m} <= min_dim={min_dim}: too few singular values for a spectral fit"
    elif not np.all(np.isfinite(matrix)):
        status, reason = "failed", "matrix has NaN or infinite entries"
    elif not np.any(matrix):
        status, reason = "skipped", "all-zero matrix (no spectrum to analyse)"
    sv = np.full(1, np.nan)
    if status == "ok":
        try:
            if matrix.ndim == 3:  # slices: batched gesdd, spectra pooled
                sv = np.linalg.svd(matrix, compute_uv=False).ravel()
            else:
                sv = scipy.linalg.svdvals(matrix, check_finite=False)
        except (np.linalg.LinAlgError, ValueError) as err:
            status, reason = "failed", f"SVD did not converge: {err}"
            sv = np.full(1, np.nan)
    if status == "ok":
        sv = np.sort(sv)[::-1]
        index = pd.array(np.arange(sv.size), dtype="Int64")
    else:
        index = pd.array([pd.NA], dtype="Int64")
    return pd.DataFrame({
        "layer": layer.name,
        "kind": layer.kind,
        "reshape": layer.reshape,
        "n": np.int64(n),
        "m": np.int64(m),
        "q": float(m / n),
        "index": index,
        "sv": sv,
        "gamma": sv / np.sqrt(n),  # gamma_k = s_k / sqrt(n), normalisation of eq. (2) of [1]
        "status": status,
        "reason": reason,
    })


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "layer": pd.Series(dtype=object), "kind": pd.Series(dtype=object), "reshape": pd.Series(dtype=object),
        "n": pd.Series(dtype="int64"), "m": pd.Series(dtype="int64"), "q": pd.Series(dtype="float64"),
        "index": pd.Series(dtype="Int64"), "sv": pd.Series(dtype="float64"),
        "gamma": pd.Series(dtype="float64"), "status": pd.Series(dtype=object),
        "reason": pd.Series(dtype=object),
    })
