"""Several seeds of one model and recipe trained at once, as a single stacked model (issue 8).

The S parameter sets are stacked along a new leading axis; the forward pass is ``torch.vmap`` of
:func:`torch.func.functional_call` (MLPs: batched matmuls written out, :func:`_stacked_dense_forward`),
and one SGD optimiser over the stacked tensors updates every seed as its own would. Each seed's
checkpoints are those :func:`rmtweights.train.train_model` writes (:mod:`rmtweights.checkpoint`), so
either function resumes the other's ``last.pt``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from rmtweights import io
from rmtweights.checkpoint import FINAL, INIT, LAST, checkpoint_state, snapshot_file, snapshot_state, try_resume
from rmtweights.data import DatasetSplits
from rmtweights.train import train_model
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

__all__ = ["train_seeds_batched"]


def train_seeds_batched(model_name: str, model_kwargs: Mapping[str, Any] | None, data: DatasetSplits,
                        config: TrainConfig, seeds: Sequence[int], checkpoint_dirs: Sequence[str | os.PathLike],
                        *, device: str | torch.device | None = None,
                        log: Callable[[str], Any] | None = print,
                        snapshot_epochs: Collection[int] = ()) -> list[pd.DataFrame]:
    """Train several seeds of one model and recipe at once, as a single stacked model.

    Each seed gets the initialisation :func:`~rmtweights.train_common.init_model` gives it and its own
    data order, exactly as in :func:`~rmtweights.train.train_model`; the S parameter sets are stacked
    along a new leading axis and the forward pass is ``torch.vmap`` of
    :func:`torch.func.functional_call` over (parameters, mini-batches), so a Linear layer becomes one
    batched matmul and a Conv2d one grouped convolution (MLPs skip vmap: :func:`_stacked_dense_forward`
    writes their batched matmuls out). The loss is the sum of the S per-seed mean losses, so each
    seed's gradient is its own; SGD (momentum, weight decay) acts elementwise, so one optimiser over
    the stacked tensors updates every seed as its own would.

    Each seed's ``checkpoint_dirs[i]`` receives the same ``init.pt``, ``last.pt`` and ``final.pt`` as
    :func:`~rmtweights.train.train_model` writes (interchangeable: either function resumes the other's
    ``last.pt``; ``snapshot_epochs`` as there), and the returned frames are the per-seed metrics (``seconds`` is the stacked epoch's wall time,
    the same for every seed).

    Equivalence with separate training: the batched matmuls sum in a different order than
    per-seed matmuls, so the weights agree to rounding (about 1e-6 relative after one epoch on the
    CPU in float32), not bit for bit; accuracies agree to a few test samples.

    Resume: when every seed has a compatible ``last.pt`` at the same epoch (or none has one), the
    stacked run resumes (or starts); otherwise -- seeds at different epochs -- each seed is trained
    separately with :func:`~rmtweights.train.train_model`, which resumes each from its own ``last.pt``.
    Models with buffers or dropout (none of the papers' models) are also trained separately, as vmap cannot
    reproduce their per-seed state or random draws; so is a model of your own that fails under vmap (a
    forward pass on two images is tried first). Each fallback is logged with its reason.

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
    seeds = [check_seed(s) for s in seeds]
    if len(seeds) == 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds!r}")
    if len(checkpoint_dirs) != len(seeds):
        raise ValueError(f"need one checkpoint dir per seed, got {len(checkpoint_dirs)} for {len(seeds)} seeds")
    checkpoint_dirs = [Path(d) for d in checkpoint_dirs]
    if len(set(checkpoint_dirs)) != len(checkpoint_dirs):
        raise ValueError(f"checkpoint_dirs must be distinct, got {checkpoint_dirs}")
    model_kwargs = dict(model_kwargs or {})
    log = log if log is not None else (lambda line: None)
    device = pick_device(device)
    n_seeds = len(seeds)
    keep = {int(e) for e in snapshot_epochs}

    def separately(reason: str) -> list[pd.DataFrame]:
        log(f"train_seeds_batched: training {n_seeds} seeds one after another ({reason})")
        return [train_model(model_name, model_kwargs, data, config, s, d, device=device, log=log,
                            snapshot_epochs=snapshot_epochs)
                for s, d in zip(seeds, checkpoint_dirs, strict=True)]

    # 1) each seed's model exactly as train_model builds it; stack the parameters
    models = [init_model(model_name, model_kwargs, data.input_shape, data.num_classes, s) for s in seeds]
    template = models[0]
    if list(template.buffers()) or any(isinstance(m, nn.modules.dropout._DropoutNd) for m in template.modules()):
        return separately("the model has buffers or dropout")

    # 2) resume only if every seed is at the same epoch
    resumed = [try_resume(d / LAST, model_name, model_kwargs, data, config.to_dict(), s, log)
               for s, d in zip(seeds, checkpoint_dirs, strict=True)]
    epochs_done = {None if r is None else int(r["epoch"]) for r in resumed}
    if len(epochs_done) > 1:
        return separately(f"the seeds' last.pt are at different epochs {sorted(map(str, epochs_done))}")

    streams = [seed_streams(s) for s in seeds]
    with training_scope(config.deterministic, device, streams[0]["torch"]):
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

        def save(i: int, epoch: int, path: Path, test: tuple[list[float], list[float]] | None = None) -> None:
            """Seed i's checkpoint; with ``test`` (losses, accuracies) also its snapshot of ``epoch``."""
            state = checkpoint_state(model_name, model_kwargs, data, config.to_dict(), seeds[i], epoch,
                                     {k: v[i] for k, v in params.items()},
                                     _slice_optimizer_state(optimizer.state_dict(), i),
                                     generators[i].get_state(), rng_states[i], metrics[i])
            io.save_checkpoint(state, path)
            if test is not None:
                io.save_checkpoint(snapshot_state(state, test[0][i], test[1][i]), snapshot_file(path.parent, epoch))

        if resumed[0] is None:
            # with epoch 0 kept: the initial weights' test metrics (no randomness drawn)
            test = _evaluate_stacked(template, params, test_x, test_y, config.eval_batch_size,
                                     config.output_scale) if 0 in keep else None
            for i, d in enumerate(checkpoint_dirs):
                save(i, 0, d / INIT, test)

        def forward(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(template, p, (x,))

        # per seed: own parameters, own batch (MLPs: batched matmuls written out, others: vmap)
        stacked_forward = _stacked_dense_forward(template) or torch.vmap(forward, in_dims=(0, 0))
        try:  # a model of your own may do what vmap cannot (data-dependent control flow, .item()): probe once
            with torch.no_grad():
                stacked_forward(params, train_x[:2].expand(n_seeds, *train_x[:2].shape))
        except Exception as err:  # noqa: BLE001 -- any failure means: not batchable
            return separately(f"the model does not run under torch.vmap: {type(err).__name__}: {err}")

        for epoch in range(start_epoch, config.epochs):
            tic = time.perf_counter()
            lr = lr_at(config, epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss_sum = torch.zeros(n_seeds, dtype=torch.float64, device=device)
            correct = torch.zeros(n_seeds, dtype=torch.int64, device=device)
            batches = [index_batches(len(train_y), config.batch_size, g, device) for g in generators]
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
                save(i, epoch + 1, d / LAST, (test_loss, test_acc) if epoch + 1 in keep else None)
            for i in range(n_seeds):
                log(log_line(epoch + 1, config.epochs, metrics[i][-1], prefix=f"seed {seeds[i]}: "))

        for i, d in enumerate(checkpoint_dirs):
            save(i, config.epochs, d / FINAL)
            (d / LAST).unlink(missing_ok=True)  # the same state as final.pt: kept only while training runs
    return [metrics_frame(rows) for rows in metrics]


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
    """Per-seed mean loss and accuracy of a stacked model (the batched twin of :func:`~rmtweights.evaluate.evaluate`).

    Seed by seed: the test batches are shared, so vmap would only copy them S times, and plain
    matmuls beat batched ones on the CPU; the result is exactly :func:`~rmtweights.evaluate.evaluate`
    on each seed's model.
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
