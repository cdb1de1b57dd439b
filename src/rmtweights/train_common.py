r"""What the single-run and the seed-batched training loops share: the recipe, the seeds, the loss, the schedule.

:class:`TrainConfig` (the recipe), :func:`seed_streams` and :func:`init_model` (one seed per run),
:func:`scaled_cross_entropy` (the loss), :func:`lr_at` (the schedule), and the pieces of the loop
both :func:`rmtweights.train.train_model` and :func:`rmtweights.train_batched.train_seeds_batched`
run the same way (device, deterministic scope, mini-batch order, metrics rows and log lines).

Training recipe
---------------
Plain mini-batch SGD from Glorot-uniform weights and zero biases [1]_ [2]_ [4]_. [1]_ (Sec. 4) uses
learning rate 0.01, batch 64 (128 for AlexNet) and 30 epochs; [2]_ (App. A) uses learning rate 0.001
decayed exponentially with constant 0.95, momentum 0.95, batch 32, 100 epochs, and L2 strength 1e-4
for miniAlexNet only. The studies' recipes are in ``config/paper.yaml``.

Learning regimes [2]_ (Sec. 5, after [3]_): the logits are multiplied by the output scale
:math:`\alpha` and the loss divided by :math:`\alpha^2`,

.. math::

    l(W, b) = -\frac{1}{N\alpha^2}\sum_{k=1}^{N} y^{(k)}\cdot
              \ln\operatorname{softmax}\!\big(\alpha z^{(k)}\big),

eq. (3) of [2]_ with :math:`a_L = \operatorname{softmax}(\alpha z)` (eq. (2) of [2]_). Rich learning is
:math:`\alpha = 0.5`, typical 1, lazy 5.

Randomness and reproducibility
------------------------------
One integer ``seed`` per run drives everything random, never the global generator:

* the initialisation draws from ``torch.Generator().manual_seed(seed)`` (on the CPU, so a CUDA run
  starts from the same weights as a CPU run) -- :func:`init_model`;
* the data order comes from its own ``torch.Generator`` seeded with a number derived from ``seed``
  (:func:`seed_streams`); its state is checkpointed after every epoch;
* anything else random during training (dropout, if a model had any) draws from the global generator,
  re-seeded from ``seed`` inside a forked RNG scope (:func:`training_scope`) and checkpointed as well.

With ``config.deterministic`` (the default) training runs under
``torch.use_deterministic_algorithms(True)`` (restored afterwards), so on the CPU the same seed gives
bit-identical weights, and an interrupted run resumed from ``last.pt`` ends with exactly the weights
of an uninterrupted one.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight
   Matrices based on Random Matrix Theory", preprint, 2025 (paper 000; arXiv:2512.12911), Sec. 4 and App. C.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", preprint (paper 001), Sec. 5 and App. A.
.. [3] L. Chizat, E. Oyallon, F. Bach, "On lazy training in differentiable programming", Advances in
   Neural Information Processing Systems 32, 2019, arXiv:1812.07956.
.. [4] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural
   networks", Proc. AISTATS, PMLR 9, 2010, pp. 249-256.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from rmtweights.data import iterate_minibatches
from rmtweights.models import build_model

__all__ = [
    "TrainConfig",
    "METRIC_COLUMNS",
    "check_seed",
    "seed_streams",
    "init_model",
    "scaled_cross_entropy",
    "lr_at",
    "pick_device",
    "training_scope",
    "index_batches",
    "metrics_frame",
    "log_line",
]

# ----------------------------------------------------------------------------------------------------
# the recipe


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (built by the adapter from a ``snakemake.params`` dict)."""

    epochs: int = 30  # passes over the training set; 30 in [1] Sec. 4, 100 in [2] App. A
    batch_size: int = 64  # SGD mini-batch; 64 in [1] (128 for AlexNet), 32 in [2]
    lr: float = 0.01  # initial learning rate; 0.01 in [1], 0.001 in [2]
    momentum: float = 0.0  # SGD (heavy-ball) momentum; 0 in [1], 0.95 in [2]
    weight_decay: float = 0.0  # L2: torch SGD adds weight_decay * w to the gradient; 1e-4 for miniAlexNet in [2]
    lr_decay: float = 1.0  # exponential decay per epoch, lr_at(e) = lr * lr_decay**e; 0.95 in [2]
    output_scale: float = 1.0  # alpha of [2] Sec. 5: logits * alpha, loss / alpha^2 (rich 0.5, typical 1, lazy 5)
    eval_batch_size: int = 1000  # evaluation chunk size (memory only; results do not depend on it)
    deterministic: bool = True  # torch.use_deterministic_algorithms while training (bit-identical on CPU)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        if self.epochs < 1:
            raise ValueError(f"TrainConfig.epochs must be >= 1, got {self.epochs!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"TrainConfig.lr must be a positive finite number, got {self.lr!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"TrainConfig.momentum must lie in [0, 1), got {self.momentum!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"TrainConfig.weight_decay must be >= 0, got {self.weight_decay!r}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"TrainConfig.lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        if not (math.isfinite(self.output_scale) and self.output_scale > 0):
            raise ValueError(f"TrainConfig.output_scale must be positive and finite, got {self.output_scale!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (stored in checkpoints, comparable across runs)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Build from a plain dict (e.g. ``snakemake.params``), rejecting unknown keys by name."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig keys {unknown}; known keys are {sorted(known)}")
        return cls(**dict(values))


#: Columns of the per-epoch metrics frame both training loops return.
METRIC_COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "lr")

# ----------------------------------------------------------------------------------------------------
# seeds and initialisation


def check_seed(seed: Any) -> int:
    """``seed`` as an int; ``ValueError`` unless it is a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def seed_streams(seed: int) -> dict[str, int]:
    """The independent integer seeds one run seed is split into.

    ``init`` is ``seed`` itself (``glorot_init_(model, torch.Generator().manual_seed(seed))``
    reproduces the initial weights); ``data`` (data order) and ``torch`` (global RNG inside the
    training scope) are derived with :class:`numpy.random.SeedSequence`, so the streams are independent.
    """
    seed = check_seed(seed)
    data_seed, torch_seed = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return {"init": seed, "data": int(data_seed), "torch": int(torch_seed)}


def init_model(model_name: str, model_kwargs: Mapping[str, Any] | None, input_shape: Sequence[int],
               num_classes: int, seed: int) -> nn.Module:
    """Build ``model_name`` on the CPU with Glorot-uniform weights and zero biases [4]_ drawn from ``seed``.

    The weights come from :func:`rmtweights.models.glorot_init_` with
    ``torch.Generator().manual_seed(seed)``; building runs inside :func:`torch.random.fork_rng`, so
    the caller's global RNG state is untouched and the same seed always gives the same weights. A model
    of your own (``model_name`` ``"factory"``) keeps its own initialisation, drawn under the same seed
    (:func:`rmtweights.factory.build_factory_model`).
    """
    seed = check_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # the layers' default init draws globally: keep the caller's RNG
        # Glorot uniform weights, zero biases: [1] Sec. 4, [2] App. A (build_model calls glorot_init_)
        model = build_model(model_name, tuple(input_shape), num_classes, generator=generator,
                            **dict(model_kwargs or {}))
    return model



# ----------------------------------------------------------------------------------------------------
# loss and learning rate


def scaled_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, output_scale: float = 1.0,
                         reduction: str = "mean") -> torch.Tensor:
    r"""Cross-entropy of the scaled logits divided by the squared scale, eq. (3) of [2]_.

    .. math::

        l = -\frac{1}{\alpha^2}\, y\cdot\ln\operatorname{softmax}(\alpha z)

    averaged over the batch (``reduction="mean"``) or one value per sample (``"none"``).
    ``output_scale`` = :math:`\alpha > 0`; :math:`\alpha = 1` is the ordinary cross-entropy.
    """
    if not output_scale > 0:
        raise ValueError(f"output_scale must be positive, got {output_scale!r}")
    if output_scale == 1.0:
        return F.cross_entropy(logits, targets, reduction=reduction)
    # eq. (2) and (3) of [2]: softmax(alpha z), loss / alpha^2
    return F.cross_entropy(logits * output_scale, targets, reduction=reduction) / output_scale**2


def lr_at(config: TrainConfig, epoch: int) -> float:
    """Learning rate of epoch ``epoch`` (0-based): ``lr * lr_decay**epoch`` (exponential decay, [2]_ App. A)."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch!r}")
    return config.lr * config.lr_decay**epoch  # 1) constant when lr_decay == 1 ([1] Sec. 4)


# ----------------------------------------------------------------------------------------------------
# the loop's pieces


def pick_device(device: str | torch.device | None) -> torch.device:
    """``None`` picks CUDA when available, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextlib.contextmanager
def training_scope(deterministic: bool, device: torch.device, torch_seed: int) -> Iterator[None]:
    """Forked global RNG seeded from the run's seed, and deterministic algorithms, both restored on exit.

    On CUDA deterministic cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG`` (set to ``:4096:8`` if unset) and
    ops without a deterministic kernel only warn (``warn_only=True``); on the CPU any such op raises.
    """
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cuda = device.type == "cuda"
    cuda_devices = [torch.cuda.current_device() if device.index is None else device.index] if cuda else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(torch_seed)
        try:
            if deterministic:
                if cuda:
                    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
                torch.use_deterministic_algorithms(True, warn_only=cuda)
            yield
        finally:
            torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)


def index_batches(n: int, batch_size: int, generator: torch.Generator,
                   device: torch.device) -> Iterator[torch.Tensor]:
    """The epoch's mini-batches as index tensors, in exactly the order of ``iterate_minibatches``.

    :func:`rmtweights.data.iterate_minibatches` run over ``arange(n)`` yields the indices it would
    gather (and advances ``generator`` identically); the caller then gathers with ``index_select``,
    a row-wise copy, instead of advanced indexing ``x[idx]``, an element-wise one (slower on the
    CPU for 784-pixel rows), and the seed-batched loop gathers all seeds' batches in one call.
    """
    positions = torch.arange(n, device=device)
    for idx, _ in iterate_minibatches(positions, positions, batch_size, shuffle=True,
                                      generator=generator):
        yield idx


def metrics_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    """The per-epoch metrics rows as a frame with columns :data:`METRIC_COLUMNS`."""
    frame = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    return frame.astype({"epoch": "int64"})


def log_line(epoch: int, epochs: int, row: Mapping[str, float], prefix: str = "") -> str:
    """One epoch's log line: learning rate, losses, accuracies, seconds."""
    return (f"{prefix}epoch {epoch}/{epochs}  lr {row['lr']:.3g}  train loss {row['train_loss']:.4f} "
            f"acc {row['train_acc']:.4f}  test loss {row['test_loss']:.4f} acc {row['test_acc']:.4f}  "
            f"{row['seconds']:.1f} s")

