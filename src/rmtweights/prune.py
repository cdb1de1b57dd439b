r"""Keep-top-s pruning: test accuracy of a network whose layer keeps only its largest singular values.

For a layer matrix :math:`W = \sum_{i=1}^{m} \gamma_i \tilde u_i \tilde v_i^\top` (singular values
descending) the rank-s approximation of section 3 of [1]_ is

.. math::

    W_{\mathrm{LR}}(s) = \sum_{i=1}^{s} \gamma_i \tilde u_i \tilde v_i^\top ,

the best rank-s approximation in Frobenius and spectral norm (Eckart-Young). Figure 2 of [1]_ plots
the test accuracy after keeping the top s singular values of one layer, s = 1, ..., k. Stored as the
product of an n x s and an s x m factor, :math:`W_{\mathrm{LR}}` has s(n + m) parameters instead of
nm, a saving exactly when :math:`s < nm/(n+m)` ([1]_, section 3).

Conventions
-----------
* A ``Linear`` layer's matrix is its weight (out x in). A ``Conv2d`` kernel K of shape
  (d, c, kh, kw) (out, in, height, width) becomes a matrix by a named reshape (``docs/architecture.md``):
  ``spatial`` :math:`M[(c_i, i), (d_o, j)] = K[d_o, c_i, i, j]`, a (c kh) x (d kw) matrix (the
  reshape of Zhang et al. [2]_, the default); ``flatten`` d x (c kh kw); ``slices`` kh kw matrices
  d x c, each truncated to rank s. Orientation (n >= m) does not matter here: the truncated SVD of
  :math:`M^\top` is the transpose of that of M.
* The SVD is taken in float64; the network runs in its own dtype (float32).
* Accuracy is the fraction of correct arg-max predictions; loss the mean cross-entropy of the
  network's outputs read as logits (outputs that already are log-probabilities give the same loss).

Two methods give the same curve (to float32 summation order):

``naive``
    For each s rebuild the layer's weight from its top-s triplets and run the whole network over
    the data. Cost: (number of s) x (whole network).
``fast`` (default)
    Per batch: run the layers before the pruned one once, project their output once onto the
    singular vectors, build the pruned layer's output for s from the one for the previous s by adding
    the contributions of the components in between (a rank-one update for consecutive s), and run only
    the layers after it, several values of s stacked along the batch dimension. Cost: prefix once +
    (number of s) x (rank-one update + tail).

    * ``Linear``: :math:`y_s = y_{s-1} + (x \cdot \gamma_s \tilde v_s)\, \tilde u_s^\top`.
    * ``Conv2d``, ``spatial``: a rank-one term :math:`\gamma u v^\top` of M is the separable kernel
      :math:`K[d_o, c_i, i, j] = \gamma\, u[c_i, i]\, v[d_o, j]`, i.e. a (kh x 1) convolution from c
      channels to one channel (weights u, carrying the vertical stride, padding and dilation) followed
      by a (1 x kw) convolution from one channel to d channels (weights :math:`\gamma v`, carrying the
      horizontal ones) -- scheme 2 of Jaderberg et al. [3]_. The vertical convolution is computed once
      for all components (s_max channels); output s adds component s's horizontal convolution.
    * ``Conv2d``, ``flatten``: a rank-one term is a full (kh x kw) convolution from c channels to one
      channel (weights v, with the layer's stride, padding and dilation) followed by a 1 x 1
      convolution to d channels (weights :math:`\gamma u`); computed the same way.
    * ``Conv2d``, ``slices`` (and grouped convolutions or padding modes other than ``zeros``): no
      factorisation of the layer is used. The prefix is still run once per batch and the tail still
      stacked, but component k is the layer's full convolution with the rank-one kernel of component
      k (for ``slices`` the kh kw slices' k-th terms together); output s is their cumulative sum
      (exact by linearity of the convolution in its kernel). Cost per s: one convolution of the layer.

    The components of several consecutive s are computed in one call and summed cumulatively in
    place, one rank-one update per s.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", preprint, 2025 (paper 000; arXiv:2512.12911).
.. [2] X. Zhang, J. Zou, K. He, J. Sun, "Accelerating very deep convolutional networks for
   classification and detection", IEEE Trans. Pattern Anal. Mach. Intell. 38 (2016) 1943-1955,
   doi:10.1109/TPAMI.2015.2502579.
.. [3] M. Jaderberg, A. Vedaldi, A. Zisserman, "Speeding up convolutional neural networks with low
   rank expansions", British Machine Vision Conference (2014), arXiv:1405.3866.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from rmtweights.layers import RESHAPES, conv_kernel, conv_matrix

__all__ = [
    "METHODS",
    "RESHAPES",
    "find_layer",
    "keep_top_s_accuracy",
    "low_rank_weight",
    "low_rank_network",
    "compression_totals",
    "max_rank",
    "prunable_layers",
]

METHODS = ("auto", "fast", "naive")

# Upper bound on the number of elements of the pruned layer's stacked output (several values of s
# along the batch dimension) fed to the tail at once: 2**22 float32 = 16 MiB.
_STACK_ELEMENTS = 2**22


# --------------------------------------------------------------------------------------------------
# Layer matrices: kernel <-> matrix reshapes (torch, batched as (B, rows, cols))
# --------------------------------------------------------------------------------------------------
def _check_layer(layer: nn.Module, name: str) -> None:
    if not isinstance(layer, (nn.Linear, nn.Conv2d)):
        raise ValueError(f"layer {name!r} is a {type(layer).__name__}; expected nn.Linear or nn.Conv2d")


def prunable_layers(model: nn.Module) -> list[str]:
    """The dotted module paths of the model's ``nn.Linear`` and ``nn.Conv2d`` layers, in registration order:
    the layers keep-top-s and low rank can truncate (``fc2``, ``block2.fc``)."""
    return [name for name, module in model.named_modules() if isinstance(module, (nn.Linear, nn.Conv2d))]


def find_layer(model: nn.Module, name: str) -> nn.Linear | nn.Conv2d:
    """The ``nn.Linear`` or ``nn.Conv2d`` at the dotted module path ``name``; ``ValueError`` naming the
    layers that can be truncated otherwise."""
    try:
        layer = model.get_submodule(name)
    except AttributeError:
        layer = None
    if not isinstance(layer, (nn.Linear, nn.Conv2d)):
        what = "is not a module of the model" if layer is None else f"is a {type(layer).__name__}"
        raise ValueError(f"layer {name!r} {what}; keep-top-s and low rank need an nn.Linear or nn.Conv2d, named by "
                         f"its dotted module path: {', '.join(prunable_layers(model)) or 'the model has none'}")
    return layer


def _sequential_child(model: nn.Module, name: str) -> bool:
    """True when ``model`` is an ``nn.Sequential`` running its children in order and ``name`` is one of them
    (what the fast method needs: the layers before and after the pruned one)."""
    return (isinstance(model, nn.Sequential) and type(model).forward is nn.Sequential.forward
            and name in dict(model.named_children()))


def _weight_to_matrices(weight: torch.Tensor, reshape: str) -> torch.Tensor:
    """Layer weight -> stack of matrices (B, rows, cols): B = kh kw for ``slices``, else 1
    (:func:`rmtweights.layers.conv_matrix`, before orientation)."""
    if weight.ndim == 2:  # Linear: out x in
        return weight.unsqueeze(0)
    mats = conv_matrix(weight, reshape)
    return mats if mats.ndim == 3 else mats.unsqueeze(0)


def _matrices_to_weight(mats: torch.Tensor, shape: torch.Size | tuple[int, ...], reshape: str) -> torch.Tensor:
    """Inverse of :func:`_weight_to_matrices` (:func:`rmtweights.layers.conv_kernel`)."""
    if len(shape) == 2:
        return mats[0]
    return conv_kernel(mats if reshape == "slices" else mats[0], shape, reshape)


def _svd(weight: torch.Tensor, reshape: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin float64 SVD of the layer matrices: U (B, rows, r), S (B, r) descending, V (B, cols, r)."""
    mats = _weight_to_matrices(weight.detach().to(torch.float64), reshape)
    u, s, vh = torch.linalg.svd(mats, full_matrices=False)
    return u, s, vh.mT


def _rank_s_weight(svd, s: int, shape, reshape: str) -> torch.Tensor:
    u, sv, v = svd
    mats = (u[..., :s] * sv[:, None, :s]) @ v[..., :s].mT  # W_LR = sum_{i<=s} gamma_i u_i v_i^T, sec. 3 of [1]
    return _matrices_to_weight(mats, shape, reshape)


def _validate_reshape(reshape: str) -> None:
    if reshape not in RESHAPES:
        raise ValueError(f"reshape={reshape!r}; expected one of {RESHAPES}")


def max_rank(layer: nn.Linear | nn.Conv2d, reshape: str = "spatial") -> int:
    """Largest meaningful s for ``layer``: min(rows, cols) of its matrix (of one slice for ``slices``)."""
    _validate_reshape(reshape)
    _check_layer(layer, type(layer).__name__)
    _, rows, cols = _weight_to_matrices(layer.weight.detach(), reshape).shape
    return int(min(rows, cols))


def low_rank_weight(weight: torch.Tensor, s: int, reshape: str = "spatial") -> torch.Tensor:
    r"""Rank-s approximation of a ``Linear`` weight or ``Conv2d`` kernel, in the weight's shape and dtype.

    .. math::

        W_{\mathrm{LR}} = \sum_{i=1}^{s} \gamma_i \tilde u_i \tilde v_i^\top

    of the layer matrix (section 3 of [1]_), in the named reshape for a 4-d kernel (each of the
    kh kw slices truncated to rank s for ``slices``), reshaped back. The SVD is taken in float64.

    Parameters
    ----------
    weight : torch.Tensor
        2-d (out x in) or 4-d (d, c, kh, kw).
    s : int
        Number of singular triplets kept, 0 <= s <= min(rows, cols).
    reshape : {"spatial", "flatten", "slices"}
        Conv reshape (ignored for 2-d weights).
    """
    _validate_reshape(reshape)
    if weight.ndim not in (2, 4):
        raise ValueError(f"weight.ndim={weight.ndim}; expected 2 (Linear) or 4 (Conv2d)")
    _, rows, cols = _weight_to_matrices(weight, reshape).shape
    if not (0 <= int(s) <= min(rows, cols)) or int(s) != s:
        raise ValueError(f"s={s!r}; expected an integer in [0, {min(rows, cols)}]")
    svd = _svd(weight, reshape)
    return _rank_s_weight(svd, int(s), weight.shape, reshape).to(device=weight.device, dtype=weight.dtype)


# --------------------------------------------------------------------------------------------------
# Fast path: per-layer low-rank operators. project(h) computes the per-component intermediate once
# per batch; components(z, lo, hi) returns the contributions of components lo..hi-1 to the layer
# output (no bias), stacked along a new leading axis: (hi - lo, N, *out). Their cumulative sum is
# the sequence of rank-one updates y_s = y_{s-1} + (component s).
# --------------------------------------------------------------------------------------------------
class _LinearLR:
    """Component k of ``h @ W.T`` for W = U S V^T (out x in): (h . gamma_k v_k) u_k^T."""

    def __init__(self, layer: nn.Linear, svd, smax: int) -> None:
        u, sv, v = (t[0] for t in svd)
        dt, dev = layer.weight.dtype, layer.weight.device
        self.vs = (v[:, :smax] * sv[:smax]).to(device=dev, dtype=dt)  # in x smax: gamma_k v_k
        self.ut = u[:, :smax].mT.contiguous().to(device=dev, dtype=dt)  # smax x out: u_k^T
        self.bias = layer.bias

    def project(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.vs  # N x smax

    def components(self, z: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        zk = z[..., lo:hi].movedim(-1, 0)  # (g, N, ...)
        return zk[..., None] * self.ut[lo:hi].view(hi - lo, *([1] * (zk.ndim - 1)), -1)  # rank-one terms

    def partial_sums(self, z: torch.Tensor, lo: int, hi: int, base: torch.Tensor) -> torch.Tensor:
        """(hi - lo, N, out): y_s for s = lo+1..hi from y_lo = ``base``, one rank-one update each."""
        if z.ndim != 2:
            return _cumulative(self.components(z, lo, hi), base)
        out = torch.empty((hi - lo, *base.shape), dtype=base.dtype, device=base.device)
        prev = base
        for k in range(hi - lo):
            torch.addr(prev, z[:, lo + k], self.ut[lo + k], out=out[k])  # y_s = y_{s-1} + z_s u_s^T
            prev = out[k]
        return out

    def add_bias(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.bias is None else y + self.bias


def _cumulative(components: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """y_s = y_{s-1} + component s, in place over a contiguous copy of the (g, N, ...) stack."""
    sums = components.contiguous()
    sums[0] += base
    for k in range(1, sums.shape[0]):
        sums[k] += sums[k - 1]  # rank-one update (one component)
    return sums


class _ConvBiasMixin:
    bias: torch.Tensor | None

    def add_bias(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.bias is None else y + self.bias[:, None, None]


def _split_padding(padding, axis: int):
    """Keep one axis of a Conv2d padding; the other axis gets 0 (string paddings pass through)."""
    if isinstance(padding, str):
        return padding
    return (padding[0], 0) if axis == 0 else (0, padding[1])


def _stacked(out: torch.Tensor, g: int) -> torch.Tensor:
    """(N, g*d, H, W) with channel k*d + o -> (g, N, d, H, W)."""
    n, gd, h, w = out.shape
    return out.view(n, g, gd // g, h, w).transpose(0, 1)


class _SpatialConvLR(_ConvBiasMixin):
    """Spatial reshape: rank-one term = (kh x 1) conv c -> 1, then (1 x kw) conv 1 -> d ([3], scheme 2)."""

    def __init__(self, layer: nn.Conv2d, svd, smax: int) -> None:
        d, c, kh, kw = layer.weight.shape
        u, sv, v = (t[0] for t in svd)  # u: (c kh) x r, v: (d kw) x r
        dt, dev = layer.weight.dtype, layer.weight.device
        # vertical[k, ci, i, 0] = u_k[(ci, i)]
        self.vertical = u[:, :smax].mT.reshape(smax, c, kh, 1).to(device=dev, dtype=dt).contiguous()
        # horizontal[k*d + do, 0, 0, j] = gamma_k v_k[(do, j)]: one group per component
        hor = (v[:, :smax] * sv[:smax]).reshape(d, kw, smax).permute(2, 0, 1).reshape(smax * d, 1, 1, kw)
        self.horizontal = hor.to(device=dev, dtype=dt).contiguous()
        self.d = d
        st, dl, pad = layer.stride, layer.dilation, layer.padding
        self.vkw = dict(stride=(st[0], 1), padding=_split_padding(pad, 0), dilation=(dl[0], 1))
        self.hkw = dict(stride=(1, st[1]), padding=_split_padding(pad, 1), dilation=(1, dl[1]))
        self.bias = layer.bias

    def project(self, h: torch.Tensor) -> torch.Tensor:
        return F.conv2d(h, self.vertical, **self.vkw)  # N x smax x H_out x W_in

    def components(self, z: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        w = self.horizontal[lo * self.d : hi * self.d]
        return _stacked(F.conv2d(z[:, lo:hi], w, groups=hi - lo, **self.hkw), hi - lo)


class _FlattenConvLR(_ConvBiasMixin):
    """Flatten reshape: rank-one term = (kh x kw) conv c -> 1 (weights v), then 1 x 1 conv 1 -> d."""

    def __init__(self, layer: nn.Conv2d, svd, smax: int) -> None:
        d, c, kh, kw = layer.weight.shape
        u, sv, v = (t[0] for t in svd)  # u: d x r, v: (c kh kw) x r
        dt, dev = layer.weight.dtype, layer.weight.device
        self.first = v[:, :smax].mT.reshape(smax, c, kh, kw).to(device=dev, dtype=dt).contiguous()
        self.second = (u[:, :smax] * sv[:smax]).mT.to(device=dev, dtype=dt).contiguous()  # smax x d
        self.kw = dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        self.bias = layer.bias

    def project(self, h: torch.Tensor) -> torch.Tensor:
        return F.conv2d(h, self.first, **self.kw)

    def components(self, z: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        zk = z[:, lo:hi].transpose(0, 1)[:, :, None]  # (g, N, 1, H, W)
        return zk * self.second[lo:hi, None, :, None, None]


class _KernelConvLR(_ConvBiasMixin):
    """Generic: component k is the layer's convolution with the rank-one kernel of component k."""

    def __init__(self, layer: nn.Conv2d, svd, reshape: str) -> None:
        u, sv, v = svd  # (B, rows, r), (B, r), (B, cols, r)
        self.us, self.v = u * sv[:, None, :], v
        self.layer, self.reshape = layer, reshape

    @property
    def bias(self) -> torch.Tensor | None:
        return self.layer.bias

    def _kernels(self, lo: int, hi: int) -> torch.Tensor:
        """(hi - lo, d, c, kh, kw): kernel k = sum over the B matrices of gamma_k u_k v_k^T, reshaped."""
        w = self.layer.weight
        mats = self.us[..., lo:hi].permute(2, 0, 1)[..., None] * self.v[..., lo:hi].permute(2, 0, 1)[..., None, :]
        kernels = torch.stack([_matrices_to_weight(m, w.shape, self.reshape) for m in mats])
        return kernels.to(device=w.device, dtype=w.dtype)

    def project(self, h: torch.Tensor) -> torch.Tensor:
        return h

    def components(self, z: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        kernels = self._kernels(lo, hi)
        if self.layer.groups == 1:  # one convolution with (hi - lo) d output channels
            return _stacked(self.layer._conv_forward(z, kernels.flatten(0, 1), None), hi - lo)
        return torch.stack([self.layer._conv_forward(z, k, None) for k in kernels])


def _fast_operator(layer: nn.Module, svd, smax: int, reshape: str):
    if isinstance(layer, nn.Linear):
        return _LinearLR(layer, svd, smax)
    separable = layer.groups == 1 and layer.padding_mode == "zeros"
    if reshape == "spatial" and separable:
        return _SpatialConvLR(layer, svd, smax)
    if reshape == "flatten" and separable:
        return _FlattenConvLR(layer, svd, smax)
    return _KernelConvLR(layer, svd, reshape)


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------
def _batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size].to(device), y[start : start + batch_size].to(device)


def _score(logits: torch.Tensor, y: torch.Tensor, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group (summed loss, number correct) for logits stacked as groups x N along dim 0."""
    n = y.shape[0]
    yy = y.repeat(groups)
    loss = F.cross_entropy(logits.float(), yy, reduction="none").view(groups, n).double().sum(1)
    correct = (logits.argmax(dim=-1) == yy).view(groups, n).sum(1)
    return loss.cpu().numpy(), correct.cpu().numpy()


def _run(modules: Iterable[nn.Module], h: torch.Tensor) -> torch.Tensor:
    for module in modules:
        h = module(h)
    return h


def _naive_curve(model, layer_name, layer, svd, s_sorted, x, y, reshape, batch_size):
    work = copy.deepcopy(model).eval()
    target = work.get_submodule(layer_name)
    device = target.weight.device
    loss_sum = np.zeros(len(s_sorted))
    n_correct = np.zeros(len(s_sorted), dtype=np.int64)
    for idx, s in enumerate(s_sorted):
        target.weight.copy_(_rank_s_weight(svd, s, layer.weight.shape, reshape))
        for xb, yb in _batches(x, y, batch_size, device):
            loss, corr = _score(work(xb), yb, 1)
            loss_sum[idx] += loss[0]
            n_correct[idx] += corr[0]
    return loss_sum, n_correct


def _fast_curve(model, layer_name, layer, svd, s_sorted, x, y, reshape, batch_size):
    work = copy.deepcopy(model).eval()
    children = list(work.named_children())
    pos = [name for name, _ in children].index(layer_name)
    prefix = [m for _, m in children[:pos]]
    tail = [m for _, m in children[pos + 1 :]]
    target = children[pos][1]
    op = _fast_operator(target, svd, max(1, s_sorted[-1]), reshape)
    device = target.weight.device
    loss_sum = np.zeros(len(s_sorted))
    n_correct = np.zeros(len(s_sorted), dtype=np.int64)
    positive = [s for s in s_sorted if s > 0]
    offset = len(s_sorted) - len(positive)  # 1 when s = 0 is asked for

    def score(first: int, outputs: torch.Tensor, yb: torch.Tensor) -> None:
        """Tail over outputs stacked as (g, N, ...) for s_sorted[first : first + g]."""
        g = outputs.shape[0]
        loss, corr = _score(_run(tail, outputs.reshape(-1, *outputs.shape[2:])), yb, g)
        loss_sum[first : first + g] += loss
        n_correct[first : first + g] += corr

    for xb, yb in _batches(x, y, batch_size, device):
        z = op.project(_run(prefix, xb))  # prefix and projection once per batch
        base = op.add_bias(torch.zeros_like(op.components(z, 0, 1)[0]))  # y_0: bias only
        if offset:
            score(0, base[None].clone(), yb)
        chunk = max(1, _STACK_ELEMENTS // base.numel())  # components per pass (memory bound)
        lo, i = 0, 0
        while i < len(positive):
            if positive[i] - lo > chunk:  # no s asked for in the next chunk: advance the base only
                base = base + op.components(z, lo, lo + chunk).sum(0)
                lo += chunk
                continue
            j = i  # s values positive[i..j] fall in this chunk of components (lo, hi]
            while j + 1 < len(positive) and positive[j + 1] - lo <= chunk:
                j += 1
            hi = positive[j]
            # y_s = b + sum_{k<=s} gamma_k (x . v_k) u_k^T (W_LR of sec. 3 of [1]), s = lo+1..hi
            if hasattr(op, "partial_sums"):
                sums = op.partial_sums(z, lo, hi, base)
            else:
                sums = _cumulative(op.components(z, lo, hi), base)
            keep = [s - lo - 1 for s in positive[i : j + 1]]
            base = sums[-1].clone()  # the tail may hold in-place layers
            score(offset + i, sums if len(keep) == hi - lo else sums[keep], yb)
            lo, i = hi, j + 1
    return loss_sum, n_correct


def _validate_s_values(s_values, r: int) -> list[int]:
    arr = np.atleast_1d(np.asarray(list(s_values) if not np.isscalar(s_values) else [s_values]))
    if arr.size == 0:
        raise ValueError("s_values is empty")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or np.any(arr != np.round(arr)):
            raise ValueError(f"s_values={s_values!r}; expected integers")
    bad = arr[(arr < 0) | (arr > r)]
    if bad.size:
        raise ValueError(f"s_values contains {bad.tolist()}; expected integers in [0, {r}] (min(n, m) of the layer)")
    return sorted({int(s) for s in arr})


@torch.no_grad()
def keep_top_s_accuracy(
    model: nn.Module,
    layer_name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    s_values: Iterable[int],
    *,
    reshape: str = "spatial",
    method: str = "auto",
    batch_size: int = 1000,
) -> pd.DataFrame:
    r"""Test accuracy and loss after keeping the top s singular values of one layer (Fig. 2 of [1]_).

    For each s the layer's matrix is replaced by

    .. math::

        W_{\mathrm{LR}}(s) = \sum_{i=1}^{s} \gamma_i \tilde u_i \tilde v_i^\top

    (section 3 of [1]_; conv kernels through the named reshape, see the module docstring) and the
    network is evaluated on ``(x, y)``. The model passed in is not modified (a copy is evaluated,
    in ``eval()`` mode, under ``torch.no_grad()``).

    Parameters
    ----------
    model : torch.nn.Module
        Any module. ``method="fast"`` needs an ``nn.Sequential`` whose child ``layer_name`` is the
        pruned layer (the layout of :func:`rmtweights.models.build_model`); ``"naive"`` accepts any
        module with a submodule ``layer_name``.
    layer_name : str
        Dotted module path of an ``nn.Linear`` or ``nn.Conv2d`` layer (e.g. ``"fc2"``, ``"conv2"``,
        ``"block2.fc"``); anything else raises ``ValueError`` listing the layers that qualify.
    x, y : torch.Tensor
        Inputs and int64 labels; moved batch by batch to the device of the model's parameters.
    s_values : iterable of int
        Ranks to evaluate, each in [0, min(n, m)] (of one slice for ``reshape="slices"``); s = 0
        keeps the bias only, s = min(n, m) reproduces the unpruned layer.
    reshape : {"spatial", "flatten", "slices"}
        Conv kernel reshape (ignored for ``Linear`` layers).
    method : {"auto", "fast", "naive"}
        ``"naive"`` runs the whole network per s; ``"fast"`` runs the layers before the pruned one
        once per batch and builds output s from output s - 1 by rank-one updates. Same results up to
        float32 summation order. ``"auto"``: fast where the model allows it, else naive (a model of
        your own whose forward is not a plain sequence of layers).
    batch_size : int
        Samples per forward pass (the fast method stacks several s of one batch for the tail).

    Returns
    -------
    pandas.DataFrame
        One row per distinct s, ascending. Columns: ``layer``, ``reshape`` (``"none"`` for Linear),
        ``s``, ``accuracy`` (fraction correct), ``loss`` (mean cross-entropy), ``n_correct``,
        ``n_samples``, ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}; expected one of {METHODS}")
    _validate_reshape(reshape)
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected a positive integer")
    layer = find_layer(model, layer_name)
    sequential = _sequential_child(model, layer_name)
    if method == "fast" and not sequential:
        raise ValueError(
            f"layer_name={layer_name!r}: method='fast' needs an nn.Sequential with the layer as a direct child"
        )
    if method == "auto":
        method = "fast" if sequential else "naive"
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length; got {len(x)} and {len(y)}")
    svd = _svd(layer.weight, reshape)
    s_sorted = _validate_s_values(s_values, svd[1].shape[-1])
    curve = _fast_curve if method == "fast" else _naive_curve
    loss_sum, n_correct = curve(model, layer_name, layer, svd, s_sorted, x, y, reshape, int(batch_size))
    n = len(x)
    return pd.DataFrame(
        {
            "layer": layer_name,
            "reshape": reshape if isinstance(layer, nn.Conv2d) else "none",
            "s": np.asarray(s_sorted, dtype=np.int64),
            "accuracy": n_correct / n,
            "loss": loss_sum / n,
            "n_correct": n_correct,
            "n_samples": n,
            "method": method,
        }
    )


# --------------------------------------------------------------------------------------------------
# Whole-network low rank and compression
# --------------------------------------------------------------------------------------------------
@torch.no_grad()
def low_rank_network(
    model: nn.Module, ranks: dict[str, int], reshape: str = "spatial"
) -> tuple[nn.Module, pd.DataFrame]:
    r"""Copy of ``model`` with each layer in ``ranks`` replaced by its rank-s approximation.

    The copy keeps the architecture and layer names; the weights of the listed layers become
    :math:`W_{\mathrm{LR}}` (section 3 of [1]_), stored dense. The table records what a factorised
    storage would cost: an n x m matrix of rank s stored as n x s and s x m factors has s(n + m)
    parameters, a saving iff

    .. math::

        s < \frac{nm}{n+m} \qquad \text{(section 3 of [1])},

    otherwise the dense nm is kept (``factorised = False``). For ``slices`` each of the kh kw d x c
    matrices is counted. Biases are not counted (unchanged).

    Parameters
    ----------
    model : torch.nn.Module
        Not modified.
    ranks : dict[str, int]
        Layer name -> s, 0 <= s <= min(n, m).
    reshape : {"spatial", "flatten", "slices"}
        Conv kernel reshape (ignored for ``Linear`` layers).

    Returns
    -------
    (torch.nn.Module, pandas.DataFrame)
        The copy and one row per layer in ``ranks``: ``layer``, ``kind`` ("linear" | "conv"),
        ``reshape``, ``n`` (rows of the matrix, n >= m), ``m``, ``n_matrices``, ``s``,
        ``params_dense`` (n_matrices n m), ``params_low_rank`` (n_matrices s (n + m) when that is
        smaller, else params_dense), ``factorised``.
    """
    _validate_reshape(reshape)
    if not isinstance(ranks, dict) or not ranks:
        raise ValueError(f"ranks={ranks!r}; expected a non-empty dict layer name -> s")
    new = copy.deepcopy(model)
    rows = []
    for name, s in ranks.items():
        layer = find_layer(new, name)
        b, rr, cc = _weight_to_matrices(layer.weight, reshape).shape
        n, m = max(rr, cc), min(rr, cc)
        if int(s) != s or not 0 <= s <= m:
            raise ValueError(f"ranks[{name!r}]={s!r}; expected an integer in [0, {m}]")
        s = int(s)
        layer.weight.copy_(low_rank_weight(layer.weight, s, reshape))
        dense = b * n * m
        factorised = s * (n + m) < n * m  # s < nm/(n+m), sec. 3 of [1]
        rows.append(
            {
                "layer": name,
                "kind": "conv" if isinstance(layer, nn.Conv2d) else "linear",
                "reshape": reshape if isinstance(layer, nn.Conv2d) else "none",
                "n": n,
                "m": m,
                "n_matrices": b,
                "s": s,
                "params_dense": dense,
                "params_low_rank": b * s * (n + m) if factorised else dense,
                "factorised": factorised,
            }
        )
    return new, pd.DataFrame(rows)


def compression_totals(info: pd.DataFrame, model: nn.Module | None = None) -> dict[str, float]:
    r"""Totals of a :func:`low_rank_network` table.

    .. math::

        \mathrm{compression} = 1 - \frac{\sum \mathrm{params\_low\_rank}}{\sum \mathrm{params\_dense}}

    over the listed layers (the fraction of their weights removed, as the "compression of 69.2 %"
    in section 4 of [1]_). With ``model``, the same over all of the model's parameters (biases and
    unpruned layers count as kept): keys ``network_params_dense``, ``network_params_low_rank``,
    ``network_compression``.
    """
    missing = {"params_dense", "params_low_rank"} - set(info.columns)
    if missing:
        raise ValueError(f"info lacks columns {sorted(missing)}; pass the table of low_rank_network")
    dense = int(info["params_dense"].sum())
    low = int(info["params_low_rank"].sum())
    out: dict[str, float] = {
        "params_dense": dense,
        "params_low_rank": low,
        "compression": 1.0 - low / dense if dense else 0.0,
    }
    if model is not None:
        total = int(sum(p.numel() for p in model.parameters()))
        out["network_params_dense"] = total
        out["network_params_low_rank"] = total - dense + low
        out["network_compression"] = (dense - low) / total if total else 0.0
    return out
