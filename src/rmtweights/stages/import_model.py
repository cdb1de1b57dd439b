"""Rule ``import_model``: models the workflow analyses without training them (torchvision architectures and
saved checkpoints).

A study of kind ``external`` (config key ``external``) points the workflow at networks users already
have: a torchvision architecture (AlexNet and VGG19 are the ones of paper 001) with its weights from a
local ``state_dict`` file, or downloaded by torchvision on machines that can; or a checkpoint written by
:func:`rmtweights.train.train_model`. The analysis stages read the same two checkpoints as for trained
runs: ``final.pt`` (the given weights) and ``init.pt``, a fresh initialisation of the same architecture
from a seed (torchvision's own initialisation, or Glorot for rmtweights models), so "initial versus
trained" figures compare the given weights with random ones of the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["import_model", "TORCHVISION_MODELS"]

# Architectures of paper 001 (Sec. 3) and their relatives; any torchvision classification model works.
TORCHVISION_MODELS = ("alexnet", "vgg11", "vgg16", "vgg19", "resnet18", "resnet50")


def _torchvision_model(name: str, weights: str | None, download: bool, seed: int):
    from torchvision import models as tv

    from rmtweights import io

    if name not in tv.list_models(module=tv):
        raise ValueError(f"torchvision has no classification model {name!r} (try one of {TORCHVISION_MODELS})")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        initial = tv.get_model(name, weights=None)
    if weights is None:
        if not download:
            raise ValueError(f"external model {name!r} has no weights file and download is false: set `weights:` to "
                             "a local state_dict file, or `download: true` on a machine with internet")
        given = tv.get_model(name, weights="DEFAULT")
    else:
        given = tv.get_model(name, weights=None)
        state = io.load_checkpoint(weights)
        state = state.get("model_state", state.get("state_dict", state))
        try:
            given.load_state_dict(state)
        except RuntimeError as err:
            raise ValueError(f"weights file {weights} does not fit torchvision's {name}: {err}") from err
    return {"model_state": given.state_dict(), "source": f"torchvision:{name}"}, \
        {"model_state": initial.state_dict(), "source": f"torchvision:{name}:init(seed={seed})"}


def _rmtweights_checkpoint(path: str, seed: int | None):
    from rmtweights import io
    from rmtweights.train_common import init_model

    state = io.load_checkpoint(path)
    missing = [k for k in ("model_name", "model_kwargs", "input_shape", "num_classes", "model_state") if k not in state]
    if missing:
        raise io.CheckpointError(f"checkpoint {path} lacks {missing}: not written by rmtweights.train "
                                 "(for a torchvision state_dict use `torchvision:` and `weights:`)")
    seed = int(state.get("seed", 0) if seed is None else seed)
    initial = init_model(state["model_name"], state["model_kwargs"], state["input_shape"], state["num_classes"], seed)
    init = {k: v for k, v in state.items() if k not in ("model_state", "optimizer_state", "metrics")}
    init.update(model_state=initial.state_dict(), epoch=0, metrics=[])
    return dict(state), init


def import_model(spec: Mapping[str, Any], *, download: bool = False) -> tuple[dict, dict]:
    """The (given, initial) checkpoints of an external model spec.

    ``spec`` has either ``torchvision`` (a model name) and ``weights`` (a local state_dict file, or
    ``None`` to download torchvision's default weights when ``download``), or ``checkpoint`` (a file
    written by :func:`rmtweights.train.train_model`); ``seed`` (optional) seeds the initial state
    (default: the checkpoint's training seed, or 0). Both returned dicts hold ``model_state``; for
    rmtweights checkpoints they also hold what :func:`rmtweights.checkpoint.load_trained_model` needs, so
    the keep-top-s evaluation can run when the spec names a dataset.
    """
    if ("torchvision" in spec) == ("checkpoint" in spec):
        raise ValueError(f"external model spec needs exactly one of `torchvision` or `checkpoint`, got {dict(spec)}")
    seed = spec.get("seed")
    if "torchvision" in spec:
        return _torchvision_model(spec["torchvision"], spec.get("weights"), download, 0 if seed is None else int(seed))
    return _rmtweights_checkpoint(spec["checkpoint"], seed)
