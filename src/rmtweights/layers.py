"""Layer weights as matrices: the layers of a model or state_dict, and the conv reshapes (with their inverse).

Every weight of a model, of a ``state_dict`` or of a weights file that is a matrix, or a conv
kernel made into one, becomes a float64 NumPy matrix :math:`W` of shape :math:`n \\times m` with
:math:`n \\ge m` (transposed when needed), :math:`q = m / n \\in (0, 1]`, in forward order
(``docs/architecture.md``, "Numerical conventions"). Its singular values :math:`s_1 \\ge \\dots \\ge s_m` are normalised as

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

Each matrix (each slice alike) is then transposed if it has fewer rows than columns. A 3-d
``Conv1d`` kernel ``(d, c, k)`` is the 4-d kernel ``(d, c, k, 1)``.

**Which tensors are layers.** For an ``nn.Module``: the weights of ``Linear``, ``Conv1d``,
``Conv2d`` and ``Embedding`` modules. For a ``state_dict`` or a weights file (no architecture):
:func:`rmtweights.tensors.classify` decides from the name, shape and dtype alone. Floating tensors whose name ends in
``weight`` with 2 dimensions are matrices (``Linear``, and GPT-2's transposed ``Conv1D``, which has
the same singular values), embedding tables and language-model heads get ``kind = "embedding"``
(by name, :data:`rmtweights.tensors.EMBEDDING_PATTERN`) so that tables can keep or drop them, 3- and 4-d ones are conv
kernels; every other tensor (biases and normalisation scales, integer or boolean buffers, tensors
not named as weights) is *skipped with a reason*, never silently dropped.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory" preprint (2025), eq. (2), Sec. 4, Table 2.
.. [2] X. Zhang, J. Zou, K. He, J. Sun, "Accelerating very deep convolutional networks for
   classification and detection", IEEE TPAMI 38 (2016) 1943-1955, doi:10.1109/TPAMI.2015.2502579.
.. [3] M. Jaderberg, A. Vedaldi, A. Zisserman, "Speeding up convolutional neural networks with
   low rank expansions", BMVC 2014, arXiv:1405.3866 (scheme 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rmtweights.tensors import classify, strip_wrapper_prefixes

__all__ = [
    "RESHAPES",
    "LayerMatrix",
    "SkippedTensor",
    "conv_matrix",
    "conv_kernel",
    "layer_matrix",
    "layer_matrices",
    "tensor_layers",
    "weight_tensors",
]

RESHAPES: tuple[str, ...] = ("spatial", "flatten", "slices")


@dataclass(frozen=True, eq=False)  # eq=False: comparing array fields elementwise is ambiguous
class LayerMatrix:
    """One layer's weight as an oriented float64 matrix (or, for ``slices``, a stack of them).

    Attributes
    ----------
    name : str
        Layer name: the module's (``fc1``, ``features.3``) or the tensor's without ``.weight``.
    kind : str
        One of :data:`rmtweights.tensors.KINDS`.
    matrix : numpy.ndarray
        float64, ``n x m`` with ``n >= m``; for ``reshape="slices"`` a stack ``kh*kw x n x m``
        (slice ``i*kw + j`` is ``K[:, :, i, j]``, oriented like every slice).
    shape : tuple of int
        Shape of the original weight (``(out, in)``, ``(d, c, k)`` or ``(d, c, kh, kw)``).
    reshape : str
        The reshape mode requested (one of :data:`RESHAPES`); it does not change a linear
        layer's matrix but is kept so that every row says which extraction produced it.
    transposed : bool
        True when the matrix was transposed to get ``n >= m`` (relative to the weight's own
        ``out x in`` layout for 2-d weights and to the reshape's definition for kernels).
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


@dataclass(frozen=True)
class SkippedTensor:
    """A tensor that was considered and is not analysed, with the reason (a row, never silence)."""

    name: str
    shape: tuple[int, ...]
    reason: str
    kind: str = "other"


def _layer_name(key: str) -> str:
    """``encoder.fc.weight`` -> ``encoder.fc``; ``in_proj_weight`` keeps its name."""
    return key[: -len(".weight")] if key.endswith(".weight") else key


def weight_tensors(model_or_state_dict: nn.Module | Mapping[str, torch.Tensor]) -> list[tuple[str, str, torch.Tensor]]:
    """``(name, kind, weight)`` of every layer, in forward order.

    For a module, ``named_modules()`` order (registration order, which is forward order for
    ``nn.Sequential`` models and torchvision's AlexNet and VGG): ``Linear``, ``Conv1d``, ``Conv2d``
    and ``Embedding`` weights. For a ``state_dict``, key order and :func:`~rmtweights.tensors.classify`
    (tensors that are not layers are left out here; :func:`layer_matrices` with ``skipped=True`` lists them).
    Wrapper prefixes are stripped. Tensors are returned as they are (no copy), so this also works
    for models on the ``meta`` device.
    """
    if isinstance(model_or_state_dict, nn.Module):
        kinds = ((nn.Linear, "linear"), (nn.Conv1d, "conv1d"), (nn.Conv2d, "conv"), (nn.Embedding, "embedding"))
        out = []
        for name, module in model_or_state_dict.named_modules():
            kind = next((k for cls, k in kinds if isinstance(module, cls)), None)
            if kind is not None:
                out.append((strip_wrapper_prefixes(name), kind, module.weight))
        return out
    if not isinstance(model_or_state_dict, Mapping):
        raise ValueError(f"expected an nn.Module or a state_dict, got {type(model_or_state_dict).__name__}")
    out = []
    for key, tensor in model_or_state_dict.items():
        if not isinstance(tensor, torch.Tensor):
            continue
        key = strip_wrapper_prefixes(key)
        kind, _ = classify(key, tuple(tensor.shape), tensor.dtype)
        if kind is not None:
            out.append((_layer_name(key), kind, tensor))
    return out


def _as_4d(weight: torch.Tensor) -> torch.Tensor:
    """A Conv1d kernel (d, c, k) as the Conv2d kernel (d, c, k, 1)."""
    return weight.unsqueeze(-1) if weight.ndim == 3 else weight


def conv_matrix(kernel: torch.Tensor | np.ndarray, reshape: str) -> torch.Tensor | np.ndarray:
    """A conv kernel ``(d, c, kh, kw)`` (or ``(d, c, k)``) as a matrix, or a ``slices`` stack, before orientation.

    ``spatial``: ``M[ci*kh + i, do*kw + j] = K[do, ci, i, j]``; ``flatten``:
    ``M[do, (ci*kh + i)*kw + j] = K[do, ci, i, j]``; ``slices``: ``M[i*kw + j] = K[:, :, i, j]``.
    Returns the type it is given (torch tensor or NumPy array); :func:`conv_kernel` inverts it.
    """
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")
    is_numpy = isinstance(kernel, np.ndarray)
    k = torch.from_numpy(kernel) if is_numpy else kernel
    if k.ndim not in (3, 4):
        raise ValueError(f"conv kernel must have shape (d, c, kh, kw) or (d, c, k), got {tuple(k.shape)}")
    k = _as_4d(k)
    d, c, kh, kw = k.shape
    if reshape == "spatial":
        out = k.permute(1, 2, 0, 3).reshape(c * kh, d * kw)
    elif reshape == "flatten":
        out = k.reshape(d, c * kh * kw)
    else:
        out = k.permute(2, 3, 0, 1).reshape(kh * kw, d, c)
    return out.numpy() if is_numpy else out


def conv_kernel(matrix: torch.Tensor, shape: Sequence[int], reshape: str) -> torch.Tensor:
    """Inverse of :func:`conv_matrix`: the kernel of ``shape`` whose reshape is ``matrix``.

    ``matrix`` is in the reshape's own layout (not oriented), shape ``(rows, cols)`` or, for
    ``slices``, ``(kh*kw, d, c)``.
    """
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")
    shape = tuple(int(s) for s in shape)
    d, c, kh, kw = shape if len(shape) == 4 else (*shape, 1)
    if reshape == "spatial":
        kernel = matrix.reshape(c, kh, d, kw).permute(2, 0, 1, 3)
    elif reshape == "flatten":
        kernel = matrix.reshape(d, c, kh, kw)
    else:
        kernel = matrix.reshape(kh, kw, d, c).permute(2, 3, 0, 1)
    return kernel.reshape(shape)


def layer_matrix(name: str, kind: str, weight: torch.Tensor, reshape: str = "spatial") -> LayerMatrix:
    """One layer's weight (any float dtype, any device) as an oriented float64 :class:`LayerMatrix`."""
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")
    w = weight.detach().to(device="cpu", dtype=torch.float64)
    matrix = (w if w.ndim == 2 else conv_matrix(w, reshape)).numpy()
    transposed = matrix.shape[-2] < matrix.shape[-1]
    if transposed:
        matrix = np.swapaxes(matrix, -1, -2)
    return LayerMatrix(name=name, kind=kind, matrix=np.ascontiguousarray(matrix),
                       shape=tuple(int(s) for s in weight.shape), reshape=reshape, transposed=bool(transposed))


def iter_layer_matrices(tensors: Iterable[tuple[str, str, torch.Tensor]], reshape: str = "spatial") -> Iterator[LayerMatrix]:
    """:func:`layer_matrix` of each ``(name, kind, weight)``, one at a time (memory: one layer)."""
    for name, kind, weight in tensors:
        yield layer_matrix(name, kind, weight, reshape)


def tensor_layers(entries: Iterable[tuple[str, Sequence[int], torch.dtype | str]], load: Callable[[str], torch.Tensor],
                  reshape: str = "spatial") -> Iterator[LayerMatrix | SkippedTensor]:
    """Every named tensor of a state_dict or weights file as a :class:`LayerMatrix`, or a
    :class:`SkippedTensor` with the reason it is not a layer
    (:func:`rmtweights.tensors.classify`).

    ``entries`` are ``(name, shape, dtype)`` in the file's order; ``load(name)`` returns one tensor and
    is called only for layers, one at a time, so a memory-mapped file is read layer by layer. Layer
    names drop the ``.weight`` suffix and wrapper prefixes.
    """
    for name, shape, dtype in entries:
        clean = strip_wrapper_prefixes(name)
        kind, reason = classify(clean, shape, dtype)
        if kind is None:
            yield SkippedTensor(name=clean, shape=tuple(int(s) for s in shape), reason=reason)
        else:
            yield layer_matrix(_layer_name(clean), kind, load(name), reshape)


def layer_matrices(
    model_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
    reshape: str = "spatial",
    *,
    names: Sequence[str] | None = None,
) -> list[LayerMatrix]:
    """Every layer's weight (:func:`weight_tensors`) as an ``n x m`` float64 matrix with ``n >= m``.

    Parameters
    ----------
    model_or_state_dict : nn.Module or mapping of name -> tensor
        A model, or its ``state_dict`` (e.g. ``io.load_checkpoint(path)["model_state"]``).
    reshape : {"spatial", "flatten", "slices"}
        How conv kernels become matrices (module docstring); 2-d weights are unaffected.
    names : sequence of str, optional
        Extract only these layers (still in forward order); ``None`` extracts all.

    Returns
    -------
    list of LayerMatrix
        In forward order.
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
    return list(iter_layer_matrices(tensors, reshape))
