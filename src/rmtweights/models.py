"""The networks of the three papers, as ``torch.nn.Sequential`` models with stable layer names.

Every model is an ``nn.Sequential`` whose named children are its layers in forward order, so a
layer's name is the same in the model, in its ``state_dict`` (``fc2.weight``) and in every result
row: ``Linear`` children are ``fc1, fc2, ...``, ``Conv2d`` children ``conv1, conv2, ...``, ReLUs
``relu1, ...``, max-pools ``pool1, ...`` (adaptive average pools ``avgpool1``), local response
normalisations ``norm1, ...``, and one ``nn.Flatten`` named ``flatten`` (MLPs start with it, conv nets have it before ``fc1``). All
models take ``N x C x H x W`` input and return logits: no softmax layer, the loss applies it.
Weights are Glorot-uniform and biases zero (:func:`glorot_init_`), as in both papers.

Models (defaults; widths are keyword arguments of :func:`build_model`):

- ``mlp``: flatten, in -> 1024 -> 512 -> 512 -> classes (App. C of [1]_).
- ``lenet``: conv 5x5 -> 6, pool 2, conv 5x5 -> 16, pool 2, fc 120, fc 84, classes (App. C of [1]_).
- ``alexnet``: conv 3x3 -> 96, pool, 256, pool, 384, 384, 256, pool, fc 1024, fc 512, classes
  (App. C of [1]_).
- ``mlp1024``: [3072, 1024, 512, 512, 10] (App. A of [2]_).
- ``mlp512``: [3072, 512, 512, 512, 10] (App. A of [2]_; widths assumed, see ``_mlp``).
- ``minialexnet``: 2 x (conv 5x5 -> 64, pool 3/2, LRN), fc 384, fc 192, classes (App. A of [2]_,
  the "small Alexnet" of [4]_).
- ``spike_mlp``: weight layers 784 x N, N x N, N x 10 (App. A of [3]_).

Any other network comes from a factory of your own (:data:`FACTORY`, :mod:`rmtweights.factory`):
``build_model("factory", input_shape, num_classes, factory="mynet.py:build", kwargs={...})``.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory" (paper 000; arXiv:2512.12911), Sec. 4 and App. C.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices" (paper 001), App. A; companion: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661.
.. [3] V. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices" (paper 003; arXiv:2507.12182), App. A.
.. [4] C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, "Understanding deep learning requires
   rethinking generalization", ICLR 2017, App. A ("small Alexnet"), arXiv:1611.03530.
.. [5] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural
   networks", AISTATS 2010, pp. 249-256, eq. (16).
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from rmtweights.factory import FACTORY, build_factory_model

__all__ = ["FACTORY", "MODELS", "build_model", "glorot_init_"]

MODELS: tuple[str, ...] = ("mlp", "lenet", "alexnet", "mlp1024", "mlp512", "minialexnet", "spike_mlp")


def glorot_init_(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Glorot-uniform weights and zero biases for every ``Linear`` and ``Conv2d``, in place.

    .. math::
        W_{ij} \\sim U[-b, b], \\qquad b = \\sqrt{\\frac{6}{\\mathrm{fan_{in}} + \\mathrm{fan_{out}}}},

    eq. (16) of [5]_, so :math:`\\mathrm{Var}\\,W_{ij} = 2 / (\\mathrm{fan_{in}} + \\mathrm{fan_{out}})`.
    For a ``Linear(in, out)`` the fans are ``in`` and ``out``; for a ``Conv2d`` with kernel
    ``(d, c, kh, kw)`` they are ``c*kh*kw`` and ``d*kh*kw`` (the Keras and PyTorch convention).
    Biases are zero (App. A of [2]_; [1]_ trains "from Glorot uniform initialization").

    Parameters
    ----------
    model : nn.Module
    generator : torch.Generator, optional
        Source of the random weights (the run's seed); ``None`` uses torch's default generator.

    Returns
    -------
    nn.Module
        ``model`` itself.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(module.weight, generator=generator)  # eq. (16) of [5]
                if module.bias is not None:
                    module.bias.zero_()
    return model


def build_model(
    name: str,
    input_shape: Sequence[int],
    num_classes: int = 10,
    *,
    generator: torch.Generator | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build one of :data:`MODELS` for images of ``input_shape``, Glorot-initialised, or a factory's model.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    input_shape : (C, H, W)
        One input image, e.g. ``(1, 28, 28)`` (MNIST, Fashion-MNIST) or ``(3, 32, 32)`` (CIFAR-10).
        MLPs use ``C*H*W`` inputs; conv nets compute the flatten size by a dry forward pass.
    num_classes : int
        Width of the last ``Linear`` (the logits).
    generator : torch.Generator, optional
        Passed to :func:`glorot_init_`.
    **kwargs
        Widths, per model:

        - ``mlp``, ``mlp1024``, ``mlp512``: ``hidden`` (tuple of hidden widths).
        - ``spike_mlp``: ``width`` N (hidden layers N and N; default 1000).
        - ``lenet``: ``filters=(6, 16)``, ``fc=(120, 84)``, ``kernel_size=5``.
        - ``alexnet``: ``filters=(96, 256, 384, 384, 256)``, ``kernel_sizes=(3, 3, 3, 3, 3)``,
          ``fc=(1024, 512)``, ``pool_to=None`` (an integer: adaptive average pool to that size).
        - ``minialexnet``: ``filters=(64, 64)``, ``fc=(384, 192)``, ``kernel_size=5``, ``lrn=True``.
        - ``factory`` (:data:`FACTORY`): ``factory`` (the reference ``"file.py:function"``), ``kwargs``
          (the factory's own), ``init`` and ``code``: :func:`rmtweights.factory.build_factory_model`.

    Returns
    -------
    nn.Module
        An ``nn.Sequential`` for :data:`MODELS`; whatever module the factory builds otherwise.

    Raises
    ------
    ValueError
        Unknown ``name`` (the message lists :data:`MODELS`), unknown keyword, bad width, or an
        input too small for the network's convolutions and poolings.
    """
    if name == FACTORY:  # a model of your own (rmtweights.factory)
        return build_factory_model(input_shape=input_shape, num_classes=num_classes, generator=generator, **kwargs)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {MODELS} or {FACTORY!r}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape={tuple(input_shape)!r} must be (C, H, W) with positive sizes")
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes={num_classes!r} must be a positive integer")
    builder, defaults = _BUILDERS[name]
    unknown = sorted(set(kwargs) - set(defaults))
    if unknown:
        raise ValueError(f"unknown keyword(s) {unknown} for model {name!r}; known: {sorted(defaults)}")
    options = {**defaults, **kwargs}
    model = builder(shape, int(num_classes), **options)
    return glorot_init_(model, generator)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------


class _Layers:
    """Collects ``(name, module)`` pairs, numbering each kind: fc1, relu1, conv1, pool1, ..."""

    def __init__(self) -> None:
        self.items: list[tuple[str, nn.Module]] = []
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, prefix: str, module: nn.Module) -> None:
        if prefix == "flatten":
            self.items.append(("flatten", module))
            return
        self.counts[prefix] += 1
        self.items.append((f"{prefix}{self.counts[prefix]}", module))

    def dense_stack(self, n_in: int, widths: Sequence[int], num_classes: int) -> None:
        """fc -> relu for each hidden width, then the logits layer."""
        for width in widths:
            self.add("fc", nn.Linear(n_in, width))
            self.add("relu", nn.ReLU())
            n_in = width
        self.add("fc", nn.Linear(n_in, num_classes))

    def flat_size(self, input_shape: tuple[int, int, int], model: str) -> int:
        """Features per image after the layers so far (a dry forward pass on one zero image)."""
        probe = nn.Sequential(OrderedDict(self.items))
        try:
            with torch.no_grad():
                out = probe(torch.zeros(1, *input_shape))
        except RuntimeError as err:
            raise ValueError(f"input_shape={input_shape} is too small for model {model!r}: {err}") from err
        return int(out[0].numel())

    def sequential(self) -> nn.Sequential:
        return nn.Sequential(OrderedDict(self.items))


def _widths(value: Any, key: str, length: int | None = None) -> tuple[int, ...]:
    widths = (value,) if isinstance(value, int) else tuple(value)
    if length is not None and len(widths) != length:
        raise ValueError(f"{key}={value!r} must have {length} entries")
    if any(int(w) != w or w < 1 for w in widths):
        raise ValueError(f"{key}={value!r} must hold positive integers")
    return tuple(int(w) for w in widths)


def _mlp(input_shape: tuple[int, int, int], num_classes: int, *, hidden: Sequence[int]) -> nn.Sequential:
    """flatten, then ``Linear -> ReLU`` per hidden width, then the logits ``Linear``.

    ``mlp`` is App. C of [1]_: input (784 or 3072) -> 1024 -> 512 -> 512 -> 10. Table 2 of [1]_
    lists min(n, m) = 1024, 512, 350 for FC1-FC3, which no width choice matches on both data
    sets (FC1 on MNIST is 784 x 1024; FC3 is 512 x 512); we follow App. C's layer list.
    ``mlp1024`` is MLP1024 of [2]_: [3072, 1024, 512, 512, 10]. ``mlp512`` (MLP512 of [2]_,
    whose Table 1 did not survive the text extraction) is assumed to be
    [3072, 512, 512, 512, 10]: pass ``hidden=`` to change it.
    """
    layers = _Layers()
    layers.add("flatten", nn.Flatten())
    layers.dense_stack(math.prod(input_shape), _widths(hidden, "hidden"), num_classes)
    return layers.sequential()


def _spike_mlp(input_shape: tuple[int, int, int], num_classes: int, *, width: int) -> nn.Sequential:
    """App. A of [3]_: weight layers 784 x N, N x N, N x 10 (N = ``width``, 200 ... 3000 there)."""
    (n,) = _widths(width, "width", 1)
    return _mlp(input_shape, num_classes, hidden=(n, n))


def _lenet(input_shape: tuple[int, int, int], num_classes: int, *, filters: Sequence[int],
           fc: Sequence[int], kernel_size: int) -> nn.Sequential:
    """LeNet of App. C of [1]_: conv 5x5 -> f1, ReLU, max-pool 2, conv 5x5 -> f2, ReLU, max-pool 2,
    flatten, fc (120, 84), logits. No padding: the flatten size is 16*4*4 = 256 on 28x28 and
    16*5*5 = 400 on 32x32 inputs, as App. C says.

    Sec. 4 of [1]_ says the filters were widened and the three FC layers merged into one large
    one; Table 2 lists min(n, m) = 250 for Conv2D_2 and 500 for FC_1. Under the default
    ``spatial`` reshape ((c*kh) x (d*kw), :mod:`rmtweights.layers`) conv2's min(n, m) is
    5*min(f1, f2), so ``filters=(50, 50), fc=(500,)`` reproduces both numbers (flatten size
    800 on MNIST and 1250 on CIFAR-10, both >= 500). The defaults are App. C's widths.
    """
    f1, f2 = _widths(filters, "filters", 2)
    (k,) = _widths(kernel_size, "kernel_size", 1)
    layers = _Layers()
    for c_in, c_out in ((input_shape[0], f1), (f1, f2)):
        layers.add("conv", nn.Conv2d(c_in, c_out, k))
        layers.add("relu", nn.ReLU())
        layers.add("pool", nn.MaxPool2d(2, 2))
    n_flat = layers.flat_size(input_shape, "lenet")
    layers.add("flatten", nn.Flatten())
    layers.dense_stack(n_flat, _widths(fc, "fc"), num_classes)
    return layers.sequential()


def _alexnet(input_shape: tuple[int, int, int], num_classes: int, *, filters: Sequence[int],
             kernel_sizes: Sequence[int], fc: Sequence[int], pool_to: int | None) -> nn.Sequential:
    """The small AlexNet of App. C of [1]_: conv 3x3 -> 96, pool, 3x3 -> 256, pool, 3x3 -> 384,
    3x3 -> 384, 3x3 -> 256, pool, flatten, fc 1024, fc 512, logits; every conv "same"-padded
    (padding k // 2), ReLU after each conv and hidden fc, max-pool 2x2 stride 2.

    The flatten size is 256*4*4 = 4096 on 32x32 input (App. C) and 256*3*3 = 2304 on 28x28.
    Table 2 of [1]_ lists min(n, m) = 320, 576, 768, 768 for Conv2D_2-5 and 1024, 4096 for
    FC_1-2: under the ``spatial`` reshape these are the widths of torchvision's AlexNet,
    ``filters=(64, 192, 384, 256, 256), kernel_sizes=(3, 5, 3, 3, 3), fc=(4096, 4096)``
    (conv2: 5*64 = 320, conv3: 3*192 = 576, conv4/5: 3*256 = 768); FC_1's 1024 additionally
    needs a 2x2 final feature map (256*2*2): ``pool_to=2`` adds an adaptive average pool to
    ``pool_to x pool_to`` before the flatten (``avgpool1``, as torchvision's AlexNet pools to 6x6),
    giving a 1024-wide FC_1 on both 28x28 and 32x32 inputs.
    """
    widths = _widths(filters, "filters", 5)
    kernels = _widths(kernel_sizes, "kernel_sizes", 5)
    pool_after = (True, True, False, False, True)
    layers = _Layers()
    c_in = input_shape[0]
    for c_out, k, pool in zip(widths, kernels, pool_after):
        layers.add("conv", nn.Conv2d(c_in, c_out, k, padding=k // 2))
        layers.add("relu", nn.ReLU())
        if pool:
            layers.add("pool", nn.MaxPool2d(2, 2))
        c_in = c_out
    if pool_to is not None:
        (size,) = _widths(pool_to, "pool_to", 1)
        layers.add("avgpool", nn.AdaptiveAvgPool2d((size, size)))
    n_flat = layers.flat_size(input_shape, "alexnet")
    layers.add("flatten", nn.Flatten())
    layers.dense_stack(n_flat, _widths(fc, "fc"), num_classes)
    return layers.sequential()


def _minialexnet(input_shape: tuple[int, int, int], num_classes: int, *, filters: Sequence[int],
                 fc: Sequence[int], kernel_size: int, lrn: bool) -> nn.Sequential:
    """miniAlexNet of [2]_ (two convolutional and three dense layers), i.e. the "small Alexnet"
    of App. A of [4]_: two modules (conv 5x5 "same" -> ReLU -> max-pool 3x3 stride 2 "same"
    -> local response normalisation), then fc 384, fc 192 and the logits.

    The response normalisation follows Table 1 of [2]_: depth radius 5, bias 1, alpha 1,
    beta 0.5 (TensorFlow's ``local_response_normalization`` defaults), i.e.
    :math:`b_c = a_c / (1 + \\sum_{|c'-c| \\le 5} a_{c'}^2)^{1/2}`, which is
    ``nn.LocalResponseNorm(size=11, alpha=11, beta=0.5, k=1)`` (torch divides alpha by size).
    The 64 filters are those of [4]_, whose parameter count (1,387,786 on 28x28 crops) this
    reproduces. The random 28x28 crop of [2]_ is data augmentation, not a layer here: on 32x32
    input the flatten size is 64*8*8 = 4096 (64*7*7 = 3136 on 28x28).
    """
    f1, f2 = _widths(filters, "filters", 2)
    (k,) = _widths(kernel_size, "kernel_size", 1)
    layers = _Layers()
    for c_in, c_out in ((input_shape[0], f1), (f1, f2)):
        layers.add("conv", nn.Conv2d(c_in, c_out, k, padding=k // 2))
        layers.add("relu", nn.ReLU())
        layers.add("pool", nn.MaxPool2d(3, 2, padding=1))
        if lrn:
            layers.add("norm", nn.LocalResponseNorm(size=11, alpha=11.0, beta=0.5, k=1.0))
    n_flat = layers.flat_size(input_shape, "minialexnet")
    layers.add("flatten", nn.Flatten())
    layers.dense_stack(n_flat, _widths(fc, "fc"), num_classes)
    return layers.sequential()


_BUILDERS: dict[str, tuple[Callable[..., nn.Sequential], dict[str, Any]]] = {
    "mlp": (_mlp, {"hidden": (1024, 512, 512)}),
    "mlp1024": (_mlp, {"hidden": (1024, 512, 512)}),
    "mlp512": (_mlp, {"hidden": (512, 512, 512)}),
    "spike_mlp": (_spike_mlp, {"width": 1000}),
    "lenet": (_lenet, {"filters": (6, 16), "fc": (120, 84), "kernel_size": 5}),
    "alexnet": (_alexnet, {"filters": (96, 256, 384, 384, 256), "kernel_sizes": (3, 3, 3, 3, 3),
                           "fc": (1024, 512), "pool_to": None}),
    "minialexnet": (_minialexnet, {"filters": (64, 64), "fc": (384, 192), "kernel_size": 5, "lrn": True}),
}
