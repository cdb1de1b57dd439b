r"""Training: SGD from Glorot initialisation, resumable checkpoints, several seeds in one stacked model.

Reads top to bottom like nanoGPT's ``train.py``: the config dataclass and the papers' recipes, the
seeding and initialisation, the loss, a pure learning-rate schedule, ``evaluate()`` under
``torch.no_grad()``, checkpoints, the training loop, and last the seed-batched loop.

Training recipe
---------------
Plain mini-batch SGD from Glorot-uniform weights and zero biases [1]_ [2]_ [4]_. The papers' settings
are in :data:`RECIPES`: [1]_ (Sec. 4) uses learning rate 0.01, batch 64 (128 for AlexNet) and 30
epochs; [2]_ (App. A) uses learning rate 0.001 decayed exponentially with constant 0.95, momentum
0.95, batch 32, 100 epochs, and L2 strength 1e-4 for miniAlexNet only.

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
  re-seeded from ``seed`` inside a forked RNG scope and checkpointed as well.

With ``config.deterministic`` (the default) training runs under
``torch.use_deterministic_algorithms(True)`` (restored afterwards), so on the CPU the same seed gives
bit-identical weights, and an interrupted run resumed from ``last.pt`` ends with exactly the weights
of an uninterrupted one.

Checkpoints
-----------
``checkpoint_dir/init.pt`` (the initial weights, before any step: [2]_ compares spectra before and
after training), ``checkpoint_dir/last.pt`` (rewritten after every epoch) and ``checkpoint_dir/final.pt``
(written once at the end; the workflow's declared output). All three hold the same keys
(:data:`CHECKPOINT_KEYS`), are written atomically by :func:`rmtweights.io.save_checkpoint` and load
with ``weights_only=True``.

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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from rmtweights import io
from rmtweights.data import DatasetSplits, iterate_minibatches
from rmtweights.models import build_model

__all__ = [
    "TrainConfig",
    "RECIPES",
    "METRIC_COLUMNS",
    "CHECKPOINT_KEYS",
    "seed_streams",
    "init_model",
    "scaled_cross_entropy",
    "lr_at",
    "evaluate",
    "train_model",
    "load_trained_model",
    "train_seeds_batched",
]

# ----------------------------------------------------------------------------------------------------
# config and the papers' recipes


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


#: The papers' recipes as plain dicts: ``TrainConfig(**RECIPES["paper000"])``.
RECIPES: dict[str, dict[str, Any]] = {
    # [1] Sec. 4: SGD, lr 0.01 fixed, batch 64 (MLP, LeNet), 30 epochs, no L2, no momentum
    "paper000": {"epochs": 30, "batch_size": 64, "lr": 0.01, "momentum": 0.0, "weight_decay": 0.0,
                 "lr_decay": 1.0},
    # [1] Sec. 4: same, batch 128 for AlexNet
    "paper000_alexnet": {"epochs": 30, "batch_size": 128, "lr": 0.01, "momentum": 0.0, "weight_decay": 0.0,
                         "lr_decay": 1.0},
    # [2] App. A, miniAlexNet: 100 epochs, lr 0.001 decayed by 0.95 per epoch, momentum 0.95, batch 32, L2 1e-4
    "paper001": {"epochs": 100, "batch_size": 32, "lr": 0.001, "momentum": 0.95, "weight_decay": 1e-4,
                 "lr_decay": 0.95},
    # [2] App. A, MLP1024 / MLP512: the same without L2 (the output scale alpha is set per run, Sec. 5)
    "paper001_mlp": {"epochs": 100, "batch_size": 32, "lr": 0.001, "momentum": 0.95, "weight_decay": 0.0,
                     "lr_decay": 0.95},
}

#: Columns of the per-epoch metrics frame returned by :func:`train_model`.
METRIC_COLUMNS: tuple[str, ...] = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "lr")

#: Keys of every checkpoint (init.pt, last.pt, final.pt).
CHECKPOINT_KEYS: tuple[str, ...] = (
    "format",  # "rmtweights.train/1"
    "model_name", "model_kwargs", "input_shape", "num_classes",  # enough to rebuild the model
    "dataset", "n_train",  # which data it was trained on
    "seed", "config",  # the run's seed and TrainConfig.to_dict()
    "epoch",  # completed epochs (0 in init.pt)
    "model_state",  # state_dict, CPU tensors
    "optimizer_state",  # torch.optim.SGD state_dict
    "data_generator_state",  # uint8 tensor: torch.Generator.get_state() of the data order
    "torch_rng_state",  # uint8 tensor: global CPU RNG state of the training scope (dropout, if any)
    "metrics",  # list of dicts of floats, one per completed epoch (METRIC_COLUMNS)
)
_FORMAT = "rmtweights.train/1"
_INIT, _LAST, _FINAL = "init.pt", "last.pt", "final.pt"

# ----------------------------------------------------------------------------------------------------
# seeds and initialisation


def seed_streams(seed: int) -> dict[str, int]:
    """The independent integer seeds one run seed is split into.

    ``init`` is ``seed`` itself (``glorot_init_(model, torch.Generator().manual_seed(seed))``
    reproduces the initial weights); ``data`` (data order) and ``torch`` (global RNG inside the
    training scope) are derived with :class:`numpy.random.SeedSequence`, so the streams are independent.
    """
    seed = _check_seed(seed)
    data_seed, torch_seed = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return {"init": seed, "data": int(data_seed), "torch": int(torch_seed)}


def init_model(model_name: str, model_kwargs: Mapping[str, Any] | None, input_shape: Sequence[int],
               num_classes: int, seed: int) -> nn.Sequential:
    """Build ``model_name`` on the CPU with Glorot-uniform weights and zero biases [4]_ drawn from ``seed``.

    The weights come from :func:`rmtweights.models.glorot_init_` with
    ``torch.Generator().manual_seed(seed)``; building runs inside :func:`torch.random.fork_rng`, so
    the caller's global RNG state is untouched and the same seed always gives the same weights.
    """
    seed = _check_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # the layers' default init draws globally: keep the caller's RNG
        # Glorot uniform weights, zero biases: [1] Sec. 4, [2] App. A (build_model calls glorot_init_)
        model = build_model(model_name, tuple(input_shape), num_classes, generator=generator,
                            **dict(model_kwargs or {}))
    return model


# ----------------------------------------------------------------------------------------------------
# loss, learning rate, evaluation


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


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             output_scale: float = 1.0) -> tuple[float, float]:
    """Mean loss (eq. (3) of [2]_ with ``output_scale``) and accuracy of ``model`` on ``(x, y)``.

    Runs in ``eval()`` mode in chunks of ``batch_size`` and restores the model's previous mode.
    The inputs are moved to the model's device chunk by chunk.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
    device = _model_device(model)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device, non_blocking=True)
            yb = y[start:start + batch_size].to(device, non_blocking=True)
            logits = model(xb)
            loss_sum += scaled_cross_entropy(logits, yb, output_scale, reduction="sum").double()
            correct += (logits.argmax(dim=1) == yb).sum()
    finally:
        model.train(was_training)
    return float(loss_sum) / len(x), int(correct) / len(x)


# ----------------------------------------------------------------------------------------------------
# checkpoints


def _checkpoint(model_name: str, model_kwargs: Mapping[str, Any], data: DatasetSplits, config: TrainConfig,
                seed: int, epoch: int, model_state: Mapping[str, torch.Tensor], optimizer_state: dict,
                data_generator_state: torch.Tensor, torch_rng_state: torch.Tensor,
                metrics: list[dict[str, float]]) -> dict[str, Any]:
    """The checkpoint dict (keys :data:`CHECKPOINT_KEYS`), all tensors on the CPU."""
    return {
        "format": _FORMAT,
        "model_name": model_name,
        "model_kwargs": dict(model_kwargs),
        "input_shape": [int(v) for v in data.input_shape],
        "num_classes": int(data.num_classes),
        "dataset": str(data.name),
        "n_train": int(len(data.train_y)),
        "seed": int(seed),
        "config": config.to_dict(),
        "epoch": int(epoch),
        "model_state": {k: v.detach().to("cpu", copy=True) for k, v in model_state.items()},
        "optimizer_state": _to_cpu(optimizer_state),
        "data_generator_state": data_generator_state.clone(),
        "torch_rng_state": torch_rng_state.clone(),
        "metrics": [dict(row) for row in metrics],
    }


def _to_cpu(obj: Any) -> Any:
    """Copy tensors in a nested dict/list to the CPU (optimizer state dicts)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _resumable(state: Mapping[str, Any], model_name: str, model_kwargs: Mapping[str, Any], data: DatasetSplits,
               config: TrainConfig, seed: int) -> str:
    """Empty string when ``state`` (a last.pt) continues this run, else the reason it does not.

    Everything must match except ``epochs``: a run may be extended, never shortened.
    """
    want = {"format": _FORMAT, "model_name": model_name, "model_kwargs": dict(model_kwargs),
            "input_shape": [int(v) for v in data.input_shape], "num_classes": int(data.num_classes),
            "dataset": str(data.name), "n_train": int(len(data.train_y)), "seed": int(seed)}
    for key, value in want.items():
        if _plain(state.get(key)) != _plain(value):
            return f"{key} differs ({state.get(key)!r} != {value!r})"
    stored = dict(state.get("config", {}))
    current = config.to_dict()
    stored_epochs, current_epochs = stored.pop("epochs", None), current.pop("epochs")
    if stored != current:
        return f"config differs ({stored} != {current})"
    if not isinstance(stored_epochs, int) or state.get("epoch", math.inf) > current_epochs:
        return f"checkpoint is at epoch {state.get('epoch')}, beyond epochs={current_epochs}"
    return ""


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so that stored and current values compare equal."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _metrics_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    return frame.astype({"epoch": "int64"})


def _log_line(epoch: int, epochs: int, row: Mapping[str, float], prefix: str = "") -> str:
    return (f"{prefix}epoch {epoch}/{epochs}  lr {row['lr']:.3g}  train loss {row['train_loss']:.4f} "
            f"acc {row['train_acc']:.4f}  test loss {row['test_loss']:.4f} acc {row['test_acc']:.4f}  "
            f"{row['seconds']:.1f} s")


# ----------------------------------------------------------------------------------------------------
# the training loop


def train_model(model_name: str, model_kwargs: Mapping[str, Any] | None, data: DatasetSplits,
                config: TrainConfig, seed: int, checkpoint_dir: str | os.PathLike, *,
                device: str | torch.device | None = None,
                log: Callable[[str], Any] | None = print) -> pd.DataFrame:
    """Train one model with SGD from Glorot initialisation; checkpoint and resume by epoch.

    Parameters
    ----------
    model_name, model_kwargs
        Passed to :func:`rmtweights.models.build_model` with ``data.input_shape`` and ``data.num_classes``.
    data
        Training and test tensors (:func:`rmtweights.data.load_dataset`); moved to ``device`` once.
    config
        Hyper-parameters (:class:`TrainConfig`, recipes in :data:`RECIPES`).
    seed
        Non-negative integer driving initialisation, data order and anything random (:func:`seed_streams`).
    checkpoint_dir
        Folder for ``init.pt``, ``last.pt`` (after every epoch) and ``final.pt`` (at the end). If a
        compatible ``last.pt`` is there, training resumes from it and ends with exactly the weights of
        an uninterrupted run (CPU, ``deterministic=True``); an incompatible one is logged and replaced.
        A finished compatible ``last.pt`` only rewrites ``final.pt``: delete the folder to retrain.
    device
        ``None`` picks CUDA when available, else the CPU.
    log
        Called with one line per epoch (epoch, learning rate, losses, accuracies, seconds); ``None``
        silences it. An exception raised by ``log`` interrupts training after ``last.pt`` is written.

    Returns
    -------
    pandas.DataFrame
        One row per epoch, columns :data:`METRIC_COLUMNS` (``epoch`` counts from 1; ``train_loss`` and
        ``train_acc`` are running averages over the epoch's mini-batches, the test columns come from
        :func:`evaluate` after the epoch; ``lr`` is the epoch's learning rate).
    """
    # 0) arguments, once
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    seed = _check_seed(seed)
    model_kwargs = dict(model_kwargs or {})
    log = log if log is not None else (lambda line: None)
    device = _pick_device(device)
    checkpoint_dir = Path(checkpoint_dir)
    streams = seed_streams(seed)

    with _training_scope(config.deterministic, device, streams["torch"]):
        # 1) data, on the training device once; the order comes from the run's own generator
        train_x, train_y = data.train_x.to(device), data.train_y.to(device)
        test_x, test_y = data.test_x.to(device), data.test_y.to(device)
        generator = torch.Generator().manual_seed(streams["data"])

        # 2) model (Glorot init on the CPU from the seed) and optimiser
        model = init_model(model_name, model_kwargs, data.input_shape, data.num_classes, seed)
        model.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                    weight_decay=config.weight_decay)

        # 3) resume from last.pt, or record the initial weights in init.pt
        metrics: list[dict[str, float]] = []
        start_epoch = 0
        last = checkpoint_dir / _LAST
        resumed = _try_resume(last, model_name, model_kwargs, data, config, seed, log)
        if resumed is None or not (checkpoint_dir / _INIT).is_file():
            # The initial weights follow from the seed alone, so init.pt is (re)written also when a
            # resumed job finds it gone (Snakemake deletes a failed job's outputs, last.pt is no output).
            io.save_checkpoint(_checkpoint(model_name, model_kwargs, data, config, seed, 0, model.state_dict(),
                                           optimizer.state_dict(), generator.get_state(), torch.get_rng_state(),
                                           []), checkpoint_dir / _INIT)
        if resumed is not None:
            model.load_state_dict(resumed["model_state"])
            optimizer.load_state_dict(resumed["optimizer_state"])
            generator.set_state(resumed["data_generator_state"])
            torch.set_rng_state(resumed["torch_rng_state"])
            metrics = list(resumed["metrics"])
            start_epoch = int(resumed["epoch"])

        # 4) the loop: one pass over the shuffled training set per epoch, then evaluate and checkpoint
        for epoch in range(start_epoch, config.epochs):
            tic = time.perf_counter()
            lr = lr_at(config, epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            model.train()
            loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            for idx in _index_batches(len(train_y), config.batch_size, generator, device):
                xb, yb = train_x.index_select(0, idx), train_y.index_select(0, idx)
                logits = model(xb)
                loss = scaled_cross_entropy(logits, yb, config.output_scale)  # eq. (3) of [2]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += loss.detach().double() * len(yb)  # no .item(): no device sync per step
                correct += (logits.detach().argmax(dim=1) == yb).sum()
            test_loss, test_acc = evaluate(model, test_x, test_y, config.eval_batch_size, config.output_scale)
            row = {"epoch": epoch + 1, "train_loss": float(loss_sum) / len(train_y),
                   "train_acc": int(correct) / len(train_y), "test_loss": test_loss, "test_acc": test_acc,
                   "seconds": time.perf_counter() - tic, "lr": lr}
            metrics.append(row)
            io.save_checkpoint(_checkpoint(model_name, model_kwargs, data, config, seed, epoch + 1,
                                           model.state_dict(), optimizer.state_dict(), generator.get_state(),
                                           torch.get_rng_state(), metrics), last)
            log(_log_line(epoch + 1, config.epochs, row))

        # 5) final weights: the workflow's declared output
        io.save_checkpoint(_checkpoint(model_name, model_kwargs, data, config, seed, config.epochs,
                                       model.state_dict(), optimizer.state_dict(), generator.get_state(),
                                       torch.get_rng_state(), metrics), checkpoint_dir / _FINAL)
    return _metrics_frame(metrics)


def load_trained_model(checkpoint: str | os.PathLike | Mapping[str, Any], *,
                       device: str | torch.device = "cpu") -> nn.Sequential:
    """Rebuild the model stored in a checkpoint (path or loaded dict) and load its weights, in ``eval()`` mode.

    Uses the stored ``model_name``, ``model_kwargs``, ``input_shape`` and ``num_classes`` with
    :func:`rmtweights.models.build_model`; works for ``init.pt``, ``last.pt`` and ``final.pt``.
    """
    state = io.load_checkpoint(checkpoint) if isinstance(checkpoint, str | os.PathLike) else checkpoint
    missing = [key for key in ("model_name", "model_kwargs", "input_shape", "num_classes", "model_state")
               if key not in state]
    if missing:
        raise ValueError(f"checkpoint lacks {missing}; it was not written by rmtweights.train")
    with torch.random.fork_rng(devices=[]):  # building draws default init values: keep the caller's RNG intact
        model = build_model(state["model_name"], tuple(state["input_shape"]), int(state["num_classes"]),
                            **dict(state["model_kwargs"]))
    model.load_state_dict(state["model_state"])
    return model.to(device).eval()


# ----------------------------------------------------------------------------------------------------
# several seeds in one stacked model (issue 8)


def train_seeds_batched(model_name: str, model_kwargs: Mapping[str, Any] | None, data: DatasetSplits,
                        config: TrainConfig, seeds: Sequence[int], checkpoint_dirs: Sequence[str | os.PathLike],
                        *, device: str | torch.device | None = None,
                        log: Callable[[str], Any] | None = print) -> list[pd.DataFrame]:
    """Train several seeds of one model and recipe at once, as a single stacked model.

    Each seed gets the initialisation :func:`init_model` gives it and its own data order, exactly as
    in :func:`train_model`; the S parameter sets are stacked along a new leading axis and the forward
    pass is ``torch.vmap`` of :func:`torch.func.functional_call` over (parameters, mini-batches), so a
    Linear layer becomes one batched matmul and a Conv2d one grouped convolution (MLPs skip vmap:
    :func:`_stacked_dense_forward` writes their batched matmuls out). The loss is the sum
    of the S per-seed mean losses, so each seed's gradient is its own; SGD (momentum, weight decay)
    acts elementwise, so one optimiser over the stacked tensors updates every seed as its own would.

    Each seed's ``checkpoint_dirs[i]`` receives the same ``init.pt``, ``last.pt`` and ``final.pt`` as
    :func:`train_model` writes (interchangeable: either function resumes the other's ``last.pt``), and
    the returned frames are the per-seed metrics (``seconds`` is the stacked epoch's wall time,
    the same for every seed).

    Equivalence with separate training: the batched matmuls sum in a different order than
    per-seed matmuls, so the weights agree to rounding (about 1e-6 relative after one epoch on the
    CPU in float32), not bit for bit; accuracies agree to a few test samples.

    Resume: when every seed has a compatible ``last.pt`` at the same epoch (or none has one), the
    stacked run resumes (or starts); otherwise -- seeds at different epochs -- each seed is trained
    separately with :func:`train_model`, which resumes each from its own ``last.pt``. Models with
    buffers or dropout (none of the papers' models) are also trained separately, as vmap cannot
    reproduce their per-seed state or random draws.

    Speed (``benchmarks/bench_train.py``, one full Fashion-MNIST epoch, S = 10, idle 2-core CPU):
    MLPs run as written-out batched matmuls (:func:`_stacked_dense_forward`), other models under
    vmap. ``spike_mlp`` N = 200 trained 1.55x faster than one seed after another with 2 threads
    (1.09x with 1), ``mlp`` 1.42x. On a CPU the gain is bounded by the cores' arithmetic: the batched
    step already runs near the 2-core peak, and separate training reaches about half of it, so
    expect at most about 2x there; the large gains are where per-step overhead dominates (GPUs).
    """
    # 0) arguments, once
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    seeds = [_check_seed(s) for s in seeds]
    if len(seeds) == 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds!r}")
    if len(checkpoint_dirs) != len(seeds):
        raise ValueError(f"need one checkpoint dir per seed, got {len(checkpoint_dirs)} for {len(seeds)} seeds")
    checkpoint_dirs = [Path(d) for d in checkpoint_dirs]
    if len(set(checkpoint_dirs)) != len(checkpoint_dirs):
        raise ValueError(f"checkpoint_dirs must be distinct, got {checkpoint_dirs}")
    model_kwargs = dict(model_kwargs or {})
    log = log if log is not None else (lambda line: None)
    device = _pick_device(device)
    n_seeds = len(seeds)

    def separately(reason: str) -> list[pd.DataFrame]:
        log(f"train_seeds_batched: training {n_seeds} seeds one after another ({reason})")
        return [train_model(model_name, model_kwargs, data, config, s, d, device=device, log=log)
                for s, d in zip(seeds, checkpoint_dirs, strict=True)]

    # 1) each seed's model exactly as train_model builds it; stack the parameters
    models = [init_model(model_name, model_kwargs, data.input_shape, data.num_classes, s) for s in seeds]
    template = models[0]
    if list(template.buffers()) or any(isinstance(m, nn.modules.dropout._DropoutNd) for m in template.modules()):
        return separately("the model has buffers or dropout")

    # 2) resume only if every seed is at the same epoch
    resumed = [_try_resume(d / _LAST, model_name, model_kwargs, data, config, s, log)
               for s, d in zip(seeds, checkpoint_dirs, strict=True)]
    epochs_done = {None if r is None else int(r["epoch"]) for r in resumed}
    if len(epochs_done) > 1:
        return separately(f"the seeds' last.pt are at different epochs {sorted(map(str, epochs_done))}")

    streams = [seed_streams(s) for s in seeds]
    with _training_scope(config.deterministic, device, streams[0]["torch"]):
        train_x, train_y = data.train_x.to(device), data.train_y.to(device)
        test_x, test_y = data.test_x.to(device), data.test_y.to(device)
        generators = [torch.Generator().manual_seed(st["data"]) for st in streams]
        # the global-RNG state a separate run of each seed would checkpoint (nothing draws from it here)
        rng_states = [torch.Generator().manual_seed(st["torch"]).get_state() for st in streams]

        names = [name for name, _ in template.named_parameters()]
        states = [r["model_state"] for r in resumed] if resumed[0] is not None else [m.state_dict() for m in models]
        params = {name: torch.stack([st[name].detach() for st in states]).to(device).requires_grad_(True)
                  for name in names}
        optimizer = torch.optim.SGD(list(params.values()), lr=config.lr, momentum=config.momentum,
                                    weight_decay=config.weight_decay)
        template.to("meta")  # functional_call only needs the structure

        metrics: list[list[dict[str, float]]] = [[] for _ in seeds]
        start_epoch = 0
        if resumed[0] is not None:
            optimizer.load_state_dict(_stack_optimizer_states([r["optimizer_state"] for r in resumed]))
            for i, r in enumerate(resumed):
                generators[i].set_state(r["data_generator_state"])
                rng_states[i] = r["torch_rng_state"]
                metrics[i] = list(r["metrics"])
            start_epoch = int(resumed[0]["epoch"])
            log(f"train_seeds_batched: resuming {n_seeds} seeds from epoch {start_epoch}")

        def save(i: int, epoch: int, path: Path) -> None:
            io.save_checkpoint(_checkpoint(model_name, model_kwargs, data, config, seeds[i], epoch,
                                           {k: v[i] for k, v in params.items()},
                                           _slice_optimizer_state(optimizer.state_dict(), i),
                                           generators[i].get_state(), rng_states[i], metrics[i]), path)

        if resumed[0] is None:
            for i, d in enumerate(checkpoint_dirs):
                save(i, 0, d / _INIT)

        def forward(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(template, p, (x,))

        # per seed: own parameters, own batch (MLPs: batched matmuls written out, others: vmap)
        stacked_forward = _stacked_dense_forward(template) or torch.vmap(forward, in_dims=(0, 0))

        for epoch in range(start_epoch, config.epochs):
            tic = time.perf_counter()
            lr = lr_at(config, epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss_sum = torch.zeros(n_seeds, dtype=torch.float64, device=device)
            correct = torch.zeros(n_seeds, dtype=torch.int64, device=device)
            batches = [_index_batches(len(train_y), config.batch_size, g, device) for g in generators]
            for per_seed in zip(*batches, strict=True):
                idx = torch.cat(per_seed)  # each seed's own batch, as in its separate run
                xb = train_x.index_select(0, idx).view(n_seeds, -1, *train_x.shape[1:])  # S x B x C x H x W
                yb = train_y.index_select(0, idx).view(n_seeds, -1)  # S x B
                logits = stacked_forward(params, xb)  # S x B x classes
                losses = scaled_cross_entropy(logits.flatten(0, 1), yb.flatten(), config.output_scale,
                                              reduction="none").view(n_seeds, -1).mean(dim=1)  # eq. (3) of [2]
                optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()  # seeds do not interact: each gets its own mean-loss gradient
                optimizer.step()
                loss_sum += losses.detach().double() * yb.shape[1]
                correct += (logits.detach().argmax(dim=2) == yb).sum(dim=1)
            test_loss, test_acc = _evaluate_stacked(template, params, test_x, test_y,
                                                    config.eval_batch_size, config.output_scale)
            seconds = time.perf_counter() - tic
            for i in range(n_seeds):
                metrics[i].append({"epoch": epoch + 1, "train_loss": float(loss_sum[i]) / len(train_y),
                                   "train_acc": int(correct[i]) / len(train_y), "test_loss": test_loss[i],
                                   "test_acc": test_acc[i], "seconds": seconds, "lr": lr})
            for i, d in enumerate(checkpoint_dirs):
                save(i, epoch + 1, d / _LAST)
            for i in range(n_seeds):
                log(_log_line(epoch + 1, config.epochs, metrics[i][-1], prefix=f"seed {seeds[i]}: "))

        for i, d in enumerate(checkpoint_dirs):
            save(i, config.epochs, d / _FINAL)
    return [_metrics_frame(rows) for rows in metrics]


StackedForward = Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]


def _stacked_dense_forward(template: nn.Module) -> StackedForward | None:
    """The stacked forward of an MLP (``flatten``, then ``Linear`` and ``ReLU`` only) without vmap.

    Same function as ``vmap(functional_call)``: ``(params, x: S x B x ...) -> logits S x B x classes``.
    The activations are kept feature-major (S x features x B), so a layer is one ``baddbmm`` of the
    stacked weights (S x out x in) by them and autograd returns each weight gradient in the
    parameter's own layout; the batch-major ``x W^T`` of vmap leaves it transposed, and copying it
    back cost a quarter of a ``spike_mlp`` step on the CPU. Float sums run in another order than
    per-seed ``F.linear`` (the rounding-level differences of :func:`train_seeds_batched`).
    Returns None for any other model (convolutions, pooling, normalisation: vmap handles those).
    """
    children = list(template.named_children()) if isinstance(template, nn.Sequential) else []
    if (not children or type(children[0][1]) is not nn.Flatten or children[0][1].start_dim != 1
            or children[0][1].end_dim != -1
            or any(type(module) not in (nn.Linear, nn.ReLU) for _, module in children[1:])):
        return None
    layers = [(name, type(module) is nn.Linear) for name, module in children[1:]]

    def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(2).transpose(1, 2)  # S x features x B
        for name, linear in layers:
            if not linear:
                h = torch.relu(h)
                continue
            weight, bias = params[f"{name}.weight"], params.get(f"{name}.bias")  # no key: bias=False
            h = torch.bmm(weight, h) if bias is None else torch.baddbmm(bias.unsqueeze(2), weight, h)
        return h.transpose(1, 2)

    return forward


@torch.no_grad()
def _evaluate_stacked(template: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                      batch_size: int, output_scale: float) -> tuple[list[float], list[float]]:
    """Per-seed mean loss and accuracy of a stacked model (the batched twin of :func:`evaluate`).

    Seed by seed: the test batches are shared, so vmap would only copy them S times, and plain
    matmuls beat batched ones on the CPU; the result is exactly :func:`evaluate` on each seed's model.
    """
    n_seeds = next(iter(params.values())).shape[0]
    losses, accuracies = [], []
    for i in range(n_seeds):
        seed_params = {name: value[i] for name, value in params.items()}
        loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
        correct = torch.zeros((), dtype=torch.int64, device=x.device)
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            logits = torch.func.functional_call(template, seed_params, (xb,))
            loss_sum += scaled_cross_entropy(logits, yb, output_scale, reduction="sum").double()
            correct += (logits.argmax(dim=1) == yb).sum()
        losses.append(float(loss_sum) / len(x))
        accuracies.append(int(correct) / len(x))
    return losses, accuracies


def _slice_optimizer_state(state: dict[str, Any], i: int) -> dict[str, Any]:
    """Seed ``i``'s SGD state dict out of the stacked one (same layout as a per-seed optimiser's)."""
    per_param = {k: {name: (v[i].clone() if isinstance(v, torch.Tensor) and v.dim() > 0 else v)
                     for name, v in entry.items()} for k, entry in state["state"].items()}
    return {"state": per_param, "param_groups": [dict(g) for g in state["param_groups"]]}


def _stack_optimizer_states(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Inverse of :func:`_slice_optimizer_state`: stack per-seed SGD state dicts along a new axis 0."""
    first = states[0]
    stacked = {k: {name: (torch.stack([s["state"][k][name] for s in states])
                          if isinstance(v, torch.Tensor) and v.dim() > 0 else v)
                   for name, v in entry.items()} for k, entry in first["state"].items()}
    return {"state": stacked, "param_groups": [dict(g) for g in first["param_groups"]]}


# ----------------------------------------------------------------------------------------------------
# small helpers


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _pick_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _model_device(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def _index_batches(n: int, batch_size: int, generator: torch.Generator,
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


def _try_resume(path: Path, model_name: str, model_kwargs: Mapping[str, Any], data: DatasetSplits,
                config: TrainConfig, seed: int, log: Callable[[str], Any]) -> dict[str, Any] | None:
    """The loaded ``last.pt`` if it continues this run; None (logged) if absent or incompatible."""
    if not path.is_file():
        return None
    try:
        state = io.load_checkpoint(path)
    except io.CheckpointError as err:
        log(f"ignoring {path}: {err}")
        return None
    reason = _resumable(state, model_name, model_kwargs, data, config, seed)
    if reason:
        log(f"not resuming from {path}: {reason}; training from scratch")
        return None
    log(f"resuming from {path} (epoch {state['epoch']})")
    return state


@contextlib.contextmanager
def _training_scope(deterministic: bool, device: torch.device, torch_seed: int) -> Iterator[None]:
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
