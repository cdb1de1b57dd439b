"""Rule ``take_snapshot``: the weights and test metrics of one epoch of a trained run, as a workflow output.

Training keeps the weights of the epochs a study lists (``train.snapshot_epochs``) in its own files,
``model/snapshots/epoch<e>.pt`` (:func:`rmtweights.checkpoint.snapshot_file`), as it keeps ``last.pt``:
the list is not among the training rule's compared parameters, so that adding or dropping an epoch
never retrains. This rule makes one of them the output ``model/epoch<e>.pt``, from the first source
that holds it:

1. the training's own snapshot, if it belongs to the run that wrote ``final.pt``
   (:func:`rmtweights.checkpoint.snapshot_mismatch`), hard-linked (no copy on disk);
2. ``final.pt`` for the last epoch, ``init.pt`` for epoch 0 (its test metrics evaluated here);
3. otherwise (an epoch added to the list after the run was trained) the run is **replayed** from its
   initialisation for ``e`` epochs by :func:`rmtweights.train.train_model`: the same seed, data order
   and recipe give the same weights, bit for bit on the CPU (for a seed-batched run, to rounding).

The rule reruns whenever training does (a link costs nothing); rule ``analyze_snapshot`` takes the
snapshot as an ``ancient`` input, so extending a run's training keeps the snapshots already analysed,
while another recipe, model, data set or training code analyses them again (through rule
``record_snapshot_settings``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rmtweights import data, io, train
from rmtweights.checkpoint import FINAL, INIT, load_trained_model, snapshot_file, snapshot_mismatch, snapshot_state
from rmtweights.evaluate import evaluate
from rmtweights.stages.common import run_key
from rmtweights.train_common import TrainConfig

__all__ = ["take_snapshot"]


def _link(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a copy where links are not possible), atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with io.atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
            os.utime(tmp)  # the link shares the training's file time: now, or Snakemake sees it older than final.pt
        except OSError:  # another file system, or links not allowed: copy
            tmp.write_bytes(source.read_bytes())


def take_snapshot(dataset: Mapping[str, Any], summary: Mapping[str, Any], model: Mapping[str, Any],
                  recipe: Mapping[str, Any], run_keys: Mapping[str, Any] | Any, epoch: int,
                  model_dir: str | os.PathLike, output: str | os.PathLike,
                  log: Callable[[str], None] | None = None) -> str:
    """Write the snapshot of ``epoch`` of the run ``run_keys`` (checkpoints in ``model_dir``) to ``output``.

    ``dataset``, ``summary`` and ``model`` as in :func:`rmtweights.stages.train_model.train_model`;
    ``recipe`` the run's :class:`~rmtweights.train_common.TrainConfig` fields without ``epochs``.
    Returns where the weights came from (``"kept by training"``, ``"final.pt"``, ``"init.pt"`` or
    ``"replayed"``). Raises ``ValueError`` for an epoch beyond the run's.
    """
    log = log or (lambda line: None)
    model_dir, output, epoch = Path(model_dir), Path(output), int(epoch)
    final = io.load_checkpoint(model_dir / FINAL)
    if epoch < 0 or epoch > int(final["epoch"]):
        raise ValueError(f"snapshot epoch {epoch} is outside the run's epochs 0..{final['epoch']} ({model_dir})")
    kept = snapshot_file(model_dir, epoch)
    if kept.is_file():
        reason = snapshot_mismatch(io.load_checkpoint(kept), final)
        if not reason:
            _link(kept, output)
            return "kept by training"
        log(f"not taking {kept}: {reason}")
    if epoch == int(final["epoch"]):
        last = final["metrics"][-1]
        io.save_checkpoint(snapshot_state(final, last["test_loss"], last["test_acc"]), output)
        return FINAL
    splits = data.load_prepared(dataset, summary)
    if epoch == 0:
        init, config = io.load_checkpoint(model_dir / INIT), TrainConfig(**{**recipe, "epochs": 1})
        test_loss, test_acc = evaluate(load_trained_model(init), splits.test_x, splits.test_y, config.eval_batch_size,
                                       config.output_scale)
        io.save_checkpoint(snapshot_state(init, test_loss, test_acc), output)
        return INIT
    log(f"epoch {epoch} was not kept by training: replaying {epoch} epochs from the initialisation")
    with tempfile.TemporaryDirectory(prefix=".replay-", dir=model_dir) as folder:
        train.train_model(model["arch"], model["kwargs"], splits, TrainConfig(**{**recipe, "epochs": epoch}),
                          run_key(run_keys, "seed"), folder, log=log, snapshot_epochs=[epoch])
        replayed = snapshot_file(folder, epoch)
        reason = snapshot_mismatch(io.load_checkpoint(replayed), final)
        if reason:  # e.g. a seed-batched run: the same trajectory up to float rounding
            log(f"note: the replayed epoch {epoch} differs from the trained run: {reason}")
        _link(replayed, output)
    return "replayed"

