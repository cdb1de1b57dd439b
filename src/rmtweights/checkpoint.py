"""The training checkpoint format: what ``init.pt``, ``last.pt`` and ``final.pt`` hold, resuming, rebuilding.

Both training loops (:func:`rmtweights.train.train_model`,
:func:`rmtweights.train_batched.train_seeds_batched`) write into a run's checkpoint folder
``init.pt`` (the initial weights, before any step: paper 001 compares spectra before and after
training), ``last.pt`` (rewritten after every epoch, removed once ``final.pt`` holds the same state) and
``final.pt`` (written once at the end; the workflow's declared output). So a finished run keeps two
checkpoints, and only an interrupted one a ``last.pt`` to resume from. All three hold the same keys
(:data:`CHECKPOINT_KEYS`), are written atomically by :func:`rmtweights.io.save_checkpoint` and load with
``weights_only=True`` (:func:`rmtweights.io.load_checkpoint`). A compatible ``last.pt`` is resumed
(:func:`try_resume`); :func:`load_trained_model` rebuilds the network of any of the three.

**Snapshots.** A run asked to keep some epochs' weights (``train.snapshot_epochs``) also writes
``snapshots/epoch<e>.pt`` after epoch ``e`` (``e = 0``: the initial weights): the weights and the test
metrics of that epoch only, no optimiser state (:data:`SNAPSHOT_KEYS`, :func:`snapshot_state`), so that
disk follows the weights. Like ``last.pt`` they are the training's own files, not the workflow's
outputs: rule ``take_snapshot`` takes one after checking that it belongs to the run that wrote
``final.pt`` (:func:`snapshot_mismatch`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rmtweights import io
from rmtweights.data import DatasetSplits
from rmtweights.models import build_model

__all__ = ["CHECKPOINT_KEYS", "CHECKPOINT_FORMAT", "INIT", "LAST", "FINAL", "checkpoint_state", "try_resume",
           "load_trained_model", "SNAPSHOT_KEYS", "SNAPSHOT_FORMAT", "snapshot_file", "snapshot_state",
           "snapshot_mismatch"]

#: Keys of every checkpoint (init.pt, last.pt, final.pt).
CHECKPOINT_KEYS: tuple[str, ...] = (
    "format",  # CHECKPOINT_FORMAT
    "model_name", "model_kwargs", "input_shape", "num_classes",  # enough to rebuild the model
    "dataset", "n_train",  # which data it was trained on
    "seed", "config",  # the run's seed and TrainConfig.to_dict()
    "epoch",  # completed epochs (0 in init.pt)
    "model_state",  # state_dict, CPU tensors
    "optimizer_state",  # torch.optim.SGD state_dict
    "data_generator_state",  # uint8 tensor: torch.Generator.get_state() of the data order
    "torch_rng_state",  # uint8 tensor: global CPU RNG state of the training scope (dropout, if any)
    "metrics",  # list of dicts of floats, one per completed epoch (train_common.METRIC_COLUMNS)
)
#: Value of the ``format`` key (unchanged since the first checkpoints, so they still resume and load).
CHECKPOINT_FORMAT = "rmtweights.train/1"
#: File names in a run's checkpoint folder.
INIT, LAST, FINAL = "init.pt", "last.pt", "final.pt"
#: Keys of a snapshot (``snapshots/epoch<e>.pt``): the run's identity, the weights and the epoch's test metrics.
SNAPSHOT_KEYS: tuple[str, ...] = (
    "format",  # SNAPSHOT_FORMAT
    "model_name", "model_kwargs", "input_shape", "num_classes", "dataset", "n_train", "seed", "config",  # as above
    "epoch",  # completed epochs (0: the initial weights)
    "model_state",  # state_dict, CPU tensors
    "metrics",  # the per-epoch metrics rows of epochs 1..epoch (train_common.METRIC_COLUMNS)
    "test_loss", "test_acc",  # of these weights (epoch >= 1: the last metrics row's)
)
SNAPSHOT_FORMAT = "rmtweights.snapshot/1"
# identity keys a snapshot shares with the checkpoints of its run
_IDENTITY = ("model_name", "model_kwargs", "input_shape", "num_classes", "dataset", "n_train", "seed")


def checkpoint_state(model_name: str, model_kwargs: Mapping[str, Any], data: DatasetSplits,
                     config: Mapping[str, Any], seed: int, epoch: int, model_state: Mapping[str, torch.Tensor],
                     optimizer_state: dict, data_generator_state: torch.Tensor, torch_rng_state: torch.Tensor,
                     metrics: list[dict[str, float]]) -> dict[str, Any]:
    """The checkpoint dict (keys :data:`CHECKPOINT_KEYS`), all tensors on the CPU.

    ``config`` is the run's ``TrainConfig.to_dict()``.
    """
    return {
        "format": CHECKPOINT_FORMAT,
        "model_name": model_name,
        "model_kwargs": dict(model_kwargs),
        "input_shape": [int(v) for v in data.input_shape],
        "num_classes": int(data.num_classes),
        "dataset": str(data.name),
        "n_train": int(len(data.train_y)),
        "seed": int(seed),
        "config": dict(config),
        "epoch": int(epoch),
        "model_state": {k: v.detach().to("cpu", copy=True) for k, v in model_state.items()},
        "optimizer_state": _to_cpu(optimizer_state),
        "data_generator_state": data_generator_state.clone(),
        "torch_rng_state": torch_rng_state.clone(),
        "metrics": [dict(row) for row in metrics],
    }


def snapshot_file(checkpoint_dir: str | os.PathLike, epoch: int) -> Path:
    """Where a run's training keeps the weights of ``epoch``: ``<checkpoint_dir>/snapshots/epoch<epoch>.pt``."""
    return Path(checkpoint_dir) / "snapshots" / f"epoch{int(epoch)}.pt"


def snapshot_state(checkpoint: Mapping[str, Any], test_loss: float, test_acc: float) -> dict[str, Any]:
    """The snapshot dict (keys :data:`SNAPSHOT_KEYS`) of a checkpoint dict (:func:`checkpoint_state`):
    its run, epoch, weights and metrics with the weights' test metrics, without the optimiser and
    generator states."""
    kept = {key: checkpoint[key] for key in SNAPSHOT_KEYS if key in CHECKPOINT_KEYS and key != "format"}
    return {"format": SNAPSHOT_FORMAT, **kept, "test_loss": float(test_loss), "test_acc": float(test_acc)}


def snapshot_mismatch(snapshot: Mapping[str, Any], final: Mapping[str, Any]) -> str:
    """Empty when ``snapshot`` holds weights of the training run that wrote the checkpoint ``final``,
    else the reason it does not.

    Same model, data, seed and recipe (all but ``epochs``), and the same per-epoch metrics up to the
    snapshot's epoch (losses and accuracies to the last bit; the wall time aside): a snapshot kept
    by an earlier run with other code or another recipe is refused.
    """
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        return f"format is {snapshot.get('format')!r}, not {SNAPSHOT_FORMAT!r}"
    for key in _IDENTITY:
        if _plain(snapshot.get(key)) != _plain(final.get(key)):
            return f"{key} differs ({snapshot.get(key)!r} != {final.get(key)!r})"
    ours, theirs = dict(snapshot.get("config", {})), dict(final.get("config", {}))
    ours.pop("epochs", None), theirs.pop("epochs", None)
    if ours != theirs:
        return f"config differs ({ours} != {theirs})"
    epoch = int(snapshot["epoch"])
    if epoch > int(final["epoch"]):
        return f"it is of epoch {epoch}, beyond the run's {final['epoch']}"

    def history(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    if history(snapshot.get("metrics", [])) != history(list(final.get("metrics", []))[:epoch]):
        return f"its metrics of epochs 1..{epoch} differ from those of the final checkpoint (another training run)"
    return ""


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
               config: Mapping[str, Any], seed: int) -> str:
    """Empty string when ``state`` (a last.pt) continues this run, else the reason it does not.

    Everything must match except ``epochs``: a run may be extended, never shortened.
    """
    want = {"format": CHECKPOINT_FORMAT, "model_name": model_name, "model_kwargs": dict(model_kwargs),
            "input_shape": [int(v) for v in data.input_shape], "num_classes": int(data.num_classes),
            "dataset": str(data.name), "n_train": int(len(data.train_y)), "seed": int(seed)}
    for key, value in want.items():
        if _plain(state.get(key)) != _plain(value):
            return f"{key} differs ({state.get(key)!r} != {value!r})"
    stored = dict(state.get("config", {}))
    current = dict(config)
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



def try_resume(path: Path, model_name: str, model_kwargs: Mapping[str, Any], data: DatasetSplits,
               config: Mapping[str, Any], seed: int, log: Callable[[str], Any]) -> dict[str, Any] | None:
    """The loaded ``last.pt`` if it continues this run; None (logged) if absent or incompatible.

    ``config`` is the run's ``TrainConfig.to_dict()``; everything must match except ``epochs``.
    """
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


def load_trained_model(checkpoint: str | os.PathLike | Mapping[str, Any], *,
                       device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the model stored in a checkpoint (path or loaded dict) and load its weights, in ``eval()`` mode.

    Uses the stored ``model_name``, ``model_kwargs``, ``input_shape`` and ``num_classes`` with
    :func:`rmtweights.models.build_model`; works for ``init.pt``, ``last.pt`` and ``final.pt``. A model of
    your own (``model_name`` ``"factory"``) is built by its factory file again, which must be the one it
    was trained with (same code fingerprint, :func:`rmtweights.factory.build_factory_model`).
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
