r"""Training one run: SGD from Glorot initialisation, checkpointed and resumable by epoch.

Reads top to bottom like nanoGPT's ``train.py``: arguments, data on the device, the model (Glorot
initialisation from the run's seed) and its optimiser, resume or record the initial weights, the
loop (one pass over the shuffled training set per epoch, then :func:`rmtweights.evaluate.evaluate`
and a checkpoint), the final weights. The recipe, seeds, loss and schedule are those of
:mod:`rmtweights.train_common` ([1]_ Sec. 4, [2]_ App. A and Sec. 5); the checkpoints are those of
:mod:`rmtweights.checkpoint`. Several seeds at once: :mod:`rmtweights.train_batched`.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight
   Matrices based on Random Matrix Theory", preprint, 2025 (paper 000; arXiv:2512.12911), Sec. 4 and App. C.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", preprint (paper 001), Sec. 5 and App. A.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from rmtweights import io
from rmtweights.checkpoint import FINAL, INIT, LAST, checkpoint_state, snapshot_file, snapshot_state, try_resume
from rmtweights.data import DatasetSplits
from rmtweights.evaluate import evaluate
from rmtweights.train_common import (
    TrainConfig,
    check_seed,
    index_batches,
    init_model,
    log_line,
    lr_at,
    metrics_frame,
    pick_device,
    scaled_cross_entropy,
    seed_streams,
    training_scope,
)

__all__ = ["train_model"]


def train_model(model_name: str, model_kwargs: Mapping[str, Any] | None, data: DatasetSplits,
                config: TrainConfig, seed: int, checkpoint_dir: str | os.PathLike, *,
                device: str | torch.device | None = None,
                log: Callable[[str], Any] | None = print, snapshot_epochs: Collection[int] = ()) -> pd.DataFrame:
    """Train one model with SGD from Glorot initialisation; checkpoint and resume by epoch.

    Parameters
    ----------
    model_name, model_kwargs
        Passed to :func:`rmtweights.models.build_model` with ``data.input_shape`` and ``data.num_classes``.
    data
        Training and test tensors (:func:`rmtweights.data.load_dataset`); moved to ``device`` once.
    config
        Hyper-parameters (:class:`~rmtweights.train_common.TrainConfig`).
    seed
        Non-negative integer driving initialisation, data order and anything random
        (:func:`~rmtweights.train_common.seed_streams`).
    checkpoint_dir
        Folder for ``init.pt``, ``last.pt`` (after every epoch) and ``final.pt`` (at the end, when
        ``last.pt``, the same state, is removed: one copy of the trained weights per run). If a
        compatible ``last.pt`` is there (an interrupted run), training resumes from it and ends with
        exactly the weights of an uninterrupted run (CPU, ``deterministic=True``); an incompatible one
        is logged and replaced. A finished run keeps no ``last.pt``, so running it again retrains.
    device
        ``None`` picks CUDA when available, else the CPU.
    log
        Called with one line per epoch (epoch, learning rate, losses, accuracies, seconds); ``None``
        silences it. An exception raised by ``log`` interrupts training after ``last.pt`` is written.
    snapshot_epochs
        Epochs whose weights and test metrics are also kept, in ``snapshots/epoch<e>.pt``
        (:func:`~rmtweights.checkpoint.snapshot_state`; 0: the initial weights, kept when training
        starts from scratch). Keeping them changes nothing else: the same weights, metrics and
        checkpoints as without.

    Returns
    -------
    pandas.DataFrame
        One row per epoch, columns :data:`~rmtweights.train_common.METRIC_COLUMNS` (``epoch`` counts
        from 1; ``train_loss`` and ``train_acc`` are running averages over the epoch's mini-batches, the
        test columns come from :func:`~rmtweights.evaluate.evaluate` after the epoch; ``lr`` is the
        epoch's learning rate).
    """
    # 0) arguments, once
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    seed = check_seed(seed)
    model_kwargs = dict(model_kwargs or {})
    log = log if log is not None else (lambda line: None)
    device = pick_device(device)
    checkpoint_dir = Path(checkpoint_dir)
    streams = seed_streams(seed)
    keep = {int(e) for e in snapshot_epochs}

    with training_scope(config.deterministic, device, streams["torch"]):
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
        last = checkpoint_dir / LAST
        resumed = try_resume(last, model_name, model_kwargs, data, config.to_dict(), seed, log)
        if resumed is None or not (checkpoint_dir / INIT).is_file():
            # The initial weights follow from the seed alone, so init.pt is (re)written also when a
            # resumed job finds it gone (Snakemake deletes a failed job's outputs, last.pt is no output).
            init = checkpoint_state(model_name, model_kwargs, data, config.to_dict(), seed, 0, model.state_dict(),
                                    optimizer.state_dict(), generator.get_state(), torch.get_rng_state(), [])
            io.save_checkpoint(init, checkpoint_dir / INIT)
            if resumed is None and 0 in keep:  # the initial weights' test metrics (no randomness drawn)
                test_loss, test_acc = evaluate(model, test_x, test_y, config.eval_batch_size, config.output_scale)
                io.save_checkpoint(snapshot_state(init, test_loss, test_acc), snapshot_file(checkpoint_dir, 0))
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
            for idx in index_batches(len(train_y), config.batch_size, generator, device):
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
            state = checkpoint_state(model_name, model_kwargs, data, config.to_dict(), seed, epoch + 1,
                                     model.state_dict(), optimizer.state_dict(), generator.get_state(),
                                     torch.get_rng_state(), metrics)
            io.save_checkpoint(state, last)
            if epoch + 1 in keep:
                io.save_checkpoint(snapshot_state(state, test_loss, test_acc), snapshot_file(checkpoint_dir, epoch + 1))
            log(log_line(epoch + 1, config.epochs, row))

        # 5) final weights: the workflow's declared output; last.pt (the same state) is only for resuming
        io.save_checkpoint(checkpoint_state(model_name, model_kwargs, data, config.to_dict(), seed, config.epochs,
                                            model.state_dict(), optimizer.state_dict(), generator.get_state(),
                                            torch.get_rng_state(), metrics), checkpoint_dir / FINAL)
        last.unlink(missing_ok=True)
    return metrics_frame(metrics)
