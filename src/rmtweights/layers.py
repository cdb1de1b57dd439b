"""Layer weights as matrices: the layers of a model or state_dict, and the conv reshapes (with their inverse).

Every weight of a model, of a ``state_dict`` or of a weights file that is a matrix, or a conv
kernel made into one, becomes a float64 NumPy matrix :math:`W` of shape :math:`n \\times m` with
:math:`n \\ge m` (transposed when needed), :math:`q = m / n \\in (0, 1]`, in forward order
(``docs/architecture.md``, "Numerical conventions"). Its singular values :math:`s_1 \\ge \\dots \\ge s_m` are normalised as

.. math::
    \\gamma_k = s_k / \\sqrt{n},

so that for i.i.d. entries of variance :math:`\\sigma^2` the :math:`\\gamma_k` follow the
Marchenko-Pastur law of eq. (2) of [1]_ on :math:`[\\sigma(1-\\sqrt q), \\sigma(1+\\sqrt q)]`.

A ``Linear`` weight is torch's ``out x in`` matrix. A convolution kernel :math:`K` of shape
``(d, c, k_1, ..., k_K)`` (out channels, in channels, K spatial sizes; ``Conv2d``: ``(d, c, kh, kw)``)
becomes a matrix by a named reshape (:data:`RESHAPES`):

``spatial`` (default)
    :math:`(c\\,k_1) \\times (d\\,k_2 \\cdots k_K)`, :math:`M[(c_i, i_1), (d_o, i_2, \\dots, i_K)] =
    K[d_o, c_i, i_1, \\dots, i_K]`, index pairs in row-major order, i.e.
    ``K.permute(1, 2, 0, 3, ..., K+1).reshape(c*k_1, -1)``; for a ``Conv2d`` kernel
    :math:`(c\\,k_h) \\times (d\\,k_w)`. This is the "vertical" matrix of the spatial low-rank
    decomposition of [3]_ (a rank-r factorisation of it is a ``kh x 1`` conv to r channels followed by
    a ``1 x kw`` conv), the configuration [1]_ uses after Zhang et al. [2]_; with it torchvision's
    AlexNet gives min(n, m) = 320, 576, 768, 768 for conv2-5, the values of Table 2 of [1]_.
``flatten``
    :math:`d \\times (c\\,k_1 \\cdots k_K)`, torch's own memory layout (the im2col matrix; the
    "channel" decomposition of [2]_).
``slices``
    the :math:`k_1 \\cdots k_K` matrices :math:`M_{(i_1, \\dots, i_K)} = K[:, :, i_1, \\dots, i_K]`
    of shape :math:`d \\times c`, in row-major order of the spatial index; their spectra are pooled.

A ``Conv1d`` kernel ``(d, c, k)`` is thus ``(c k) x d`` under ``spatial`` (the ``Conv2d`` kernel
``(d, c, k, 1)``), a ``Conv3d`` kernel ``(d, c, kt, kh, kw)`` is ``(c kt) x (d kh kw)``, and a kernel of
spatial size 1 is the plain ``d x c`` matrix (up to orientation) under every reshape. Each matrix
(each slice alike) is then transposed if it has fewer rows than columns.

**Which tensors are layers, and which matrices they give**, is decided in one place,
:mod:`rmtweights.tensors` (:func:`~rmtweights.tensors.plan_tensors`): from the name, shape and dtype
alone for a ``state_dict`` or a weights file (expert stacks give one matrix per expert, fused
projections can be split). For an ``nn.Module``, :func:`weight_tensors` takes the weights of its
``Linear``, ``Conv1d``, ``Conv2d``, ``Conv3d`` and ``Embedding`` modules (the trained studies' path);
:func:`rmtweights.api.analyze_model` analyses a module through its ``state_dict`` instead, so that
every tensor of it is considered.

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

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rmtweights.tensors import SkippedTensor, TensorPart, plan_tensors, strip_wrapper_prefixes

__all__ = [
    "RESHAPES",
    "LayerMatrix",
    "SkippedTensor",
    "conv_matrix",
    "conv_kernel",
    "cut",
    "layer_matrix",
    "layer_matrices",
    "part_layers",
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
        Layer name: the module's (``fc1``, ``features.3``) or the tensor's without ``.weight``, with
        ``[e]``, ``[q]``, ... for a part of a tensor (:class:`rmtweights.tensors.TensorPart`).
    kind : str
        One of :data:`rmtweights.tensors.KINDS` (or ``conv<k>d``).
    matrix : numpy.ndarray
        float64, ``n x m`` with ``n >= m``; for ``reshape="slices"`` a stack ``k_1*...*k_K x n x m``
        (slice ``i`` is ``K[:, :, i_1, ..., i_K]`` in row-major order, oriented like every slice).
    shape : tuple of int
        Shape of the tensor it comes from (``(out, in)``, a kernel, a whole expert stack).
    reshape : str
        The reshape mode requested (one of :data:`RESHAPES`); it does not change a linear
        layer's matrix but is kept so that every row says which extraction produced it.
    transposed : bool
        True when the matrix was transposed to get ``n >= m`` (relative to the weight's own
        ``out x in`` layout for 2-d weights and to the reshape's definition for kernels).
    quantisation : str
        How the tensor was stored when that is not its dtype (``Q8_0``, ``int8+scale``), else "".
    """

    name: str
    kind: str
    matrix: np.ndarray = field(repr=False)
    shape: tuple[int, ...]
    reshape: str
    transposed: bool
    quantisation: str = ""

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
        """The 2-D matrices: one, or ``k_1*...*k_K`` for ``slices``."""
        return list(self.matrix) if self.matrix.ndim == 3 else [self.matrix]


def cut(tensor: torch.Tensor, part: TensorPart) -> torch.Tensor:
    """The piece of ``tensor`` that ``part`` names (a view, no copy): the expert, then the split."""
    if part.expert is not None:
        tensor = tensor[part.expert]
    if part.split is not None:
        axis, index, parts = part.split
        size = tensor.shape[axis] // parts
        tensor = tensor.narrow(axis, index * size, size)
    return tensor


def weight_tensors(model_or_state_dict: nn.Module | Mapping[str, torch.Tensor]) -> list[tuple[str, str, torch.Tensor]]:
    """``(name, kind, weight)`` of every layer, in forward order.

    For a module, ``named_modules()`` order (registration order, which is forward order for
    ``nn.Sequential`` models and torchvision's AlexNet and VGG): ``Linear``, ``Conv1d``, ``Conv2d``,
    ``Conv3d`` and ``Embedding`` weights. For a ``state_dict``, key order and
    :func:`~rmtweights.tensors.plan_tensors` (an expert stack gives one entry per expert; tensors that
    are not layers are left out here; :func:`layer_matrices` with ``skipped=True`` lists them).
    Wrapper prefixes are stripped. Tensors are returned as they are (views, no copy), so this also
    works for models on the ``meta`` device.
    """
    if isinstance(model_or_state_dict, nn.Module):
        kinds = ((nn.Linear, "linear"), (nn.Conv1d, "conv1d"), (nn.Conv2d, "conv"), (nn.Conv3d, "conv3d"),
                 (nn.Embedding, "embedding"))
        out = []
        for name, module in model_or_state_dict.named_modules():
            kind = next((k for cls, k in kinds if isinstance(module, cls)), None)
            if kind is not None:
                out.append((strip_wrapper_prefixes(name), kind, module.weight))
        return out
    if not isinstance(model_or_state_dict, Mapping):
        raise ValueError(f"expected an nn.Module or a state_dict, got {type(model_or_state_dict).__name__}")
    tensors = {key: t for key, t in model_or_state_dict.items() if isinstance(t, torch.Tensor)}
    plan = plan_tensors((key, tuple(t.shape), t.dtype) for key, t in tensors.items())
    return [(part.layer, part.kind, cut(tensors[part.tensor], part)) for part in plan
            if isinstance(part, TensorPart)]


def _check_reshape(reshape: str) -> None:
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; choose one of {RESHAPES}")


def conv_matrix(kernel: torch.Tensor | np.ndarray, reshape: str) -> torch.Tensor | np.ndarray:
    """A conv kernel ``(d, c, k_1, ..., k_K)`` as a matrix, or a ``slices`` stack, before orientation.

    ``spatial``: ``M[ci*k_1 + i_1, (do, i_2, ..., i_K)] = K[do, ci, i_1, ..., i_K]`` (for ``Conv2d``:
    ``M[ci*kh + i, do*kw + j] = K[do, ci, i, j]``); ``flatten``: ``M[do, (ci, i_1, ..., i_K)]``;
    ``slices``: ``M[(i_1, ..., i_K)] = K[:, :, i_1, ..., i_K]`` (row-major). Returns the type it is
    given (torch tensor or NumPy array); :func:`conv_kernel` inverts it.
    """
    _check_reshape(reshape)
    is_numpy = isinstance(kernel, np.ndarray)
    k = torch.from_numpy(kernel) if is_numpy else kernel
    if k.ndim < 3:
        raise ValueError(f"conv kernel must have shape (d, c, k_1, ..., k_K), got {tuple(k.shape)}")
    d, c, *spatial = k.shape
    rest = tuple(range(3, k.ndim))
    if reshape == "spatial":
        out = k.permute(1, 2, 0, *rest).reshape(c * spatial[0], d * math.prod(spatial[1:]))
    elif reshape == "flatten":
        out = k.reshape(d, c * math.prod(spatial))
    else:
        out = k.permute(*range(2, k.ndim), 0, 1).reshape(math.prod(spatial), d, c)
    return out.numpy() if is_numpy else out


def conv_kernel(matrix: torch.Tensor, shape: Sequence[int], reshape: str) -> torch.Tensor:
    """Inverse of :func:`conv_matrix`: the kernel of ``shape`` whose reshape is ``matrix``.

    ``matrix`` is in the reshape's own layout (not oriented), shape ``(rows, cols)`` or, for
    ``slices``, ``(k_1*...*k_K, d, c)``.
    """
    _check_reshape(reshape)
    shape = tuple(int(s) for s in shape)
    if len(shape) < 3:
        raise ValueError(f"conv kernel shape must be (d, c, k_1, ..., k_K), got {shape}")
    d, c, *spatial = shape
    spatial_dims = len(spatial)
    if reshape == "spatial":
        kernel = matrix.reshape(c, spatial[0], d, *spatial[1:]).permute(2, 0, 1, *range(3, 2 + spatial_dims))
    elif reshape == "flatten":
        kernel = matrix.reshape(shape)
    else:
        kernel = matrix.reshape(*spatial, d, c).permute(spatial_dims, spatial_dims + 1, *range(spatial_dims))
    return kernel.reshape(shape)


def layer_matrix(name: str, kind: str, weight: torch.Tensor, reshape: str = "spatial", *,
                 shape: Sequence[int] | None = None, quantisation: str = "") -> LayerMatrix:
    """One layer's weight (any float dtype, any device; a matrix or a conv kernel) as an oriented
    float64 :class:`LayerMatrix`; ``shape`` (default: the weight's) is the tensor it was cut from."""
    _check_reshape(reshape)
    w = weight.detach().to(device="cpu", dtype=torch.float64)
    matrix = (w if w.ndim == 2 else conv_matrix(w, reshape)).numpy()
    transposed = matrix.shape[-2] < matrix.shape[-1]
    if transposed:
        matrix = np.swapaxes(matrix, -1, -2)
    return LayerMatrix(name=name, kind=kind, matrix=np.ascontiguousarray(matrix),
                       shape=tuple(int(s) for s in (weight.shape if shape is None else shape)), reshape=reshape,
                       transposed=bool(transposed), quantisation=quantisation)


def iter_layer_matrices(tensors: Iterable[tuple[str, str, torch.Tensor]], reshape: str = "spatial") -> Iterator[LayerMatrix]:
    """:func:`layer_matrix` of each ``(name, kind, weight)``, one at a time (memory: one layer)."""
    for name, kind, weight in tensors:
        yield layer_matrix(name, kind, weight, reshape)


def part_layers(plan: Iterable[TensorPart | SkippedTensor], load: Callable[[str], torch.Tensor],
                reshape: str = "spatial") -> Iterator[LayerMatrix | SkippedTensor]:
    """Each planned part (:func:`rmtweights.tensors.plan_tensors`) as a :class:`LayerMatrix`; skipped
    tensors as they are.

    ``load(name)`` returns one tensor; it is called once per tensor (the parts of one tensor follow
    each other in a plan) and only for tensors with parts, and the tensor is released before the next
    is loaded, so a memory-mapped file is read layer by layer.
    """
    _check_reshape(reshape)
    current: tuple[str | None, torch.Tensor | None] = (None, None)
    for item in plan:
        if isinstance(item, SkippedTensor):
            yield item
            continue
        if current[0] != item.tensor:
            current = (None, None)  # release the previous tensor before loading the next
            current = (item.tensor, load(item.tensor))
        yield layer_matrix(item.layer, item.kind, cut(current[1], item), reshape, shape=item.shape,
                           quantisation=item.quantisation)
    current = (None, None)


def tensor_layers(entries: Iterable[Sequence], load: Callable[[str], torch.Tensor], reshape: str = "spatial",
                  **options) -> Iterator[LayerMatrix | SkippedTensor]:
    """Every named tensor of a state_dict or weights file as the :class:`LayerMatrix` objects it gives,
    or a :class:`SkippedTensor` with the reason it is not a layer.

    ``entries`` are ``(name, shape, dtype[, quantisation])`` in the file's order; ``options`` those of
    :func:`rmtweights.tensors.plan_tensors` (``experts``, ``split_qkv``, ``split_gate_up``); ``load``
    as in :func:`part_layers`. Layer names drop the ``.weight`` suffix and wrapper prefixes.
    """
    return part_layers(plan_tensors(entries, **options), load, reshape)


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
    _check_reshape(reshape)
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
