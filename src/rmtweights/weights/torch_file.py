"""Reading a ``torch.save`` file (``.pt``, ``.pth``, ``.bin``): a dict of tensors, never pickled code.

The file is loaded with ``weights_only=True`` (no arbitrary unpickling) and ``mmap=True``, which maps
the storages instead of reading them; a caller that loads one tensor maps the file again, copies the
tensor and drops the map. A legacy (pre-zip) file cannot be mapped: it is loaded whole. A dict that
wraps the tensors under ``state_dict``, ``model_state``, ``model`` or ``module`` is unwrapped
(repeatedly for nested wrappers). torch is imported only when a file is read.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rmtweights.weights.common import WeightsError, check_tensor, shown

if TYPE_CHECKING:
    import torch

__all__ = ["torch_state", "torch_tensors"]

# keys under which training scripts wrap a state_dict, in the order they are tried
_WRAPPER_KEYS = ("state_dict", "model_state", "model", "module")


def torch_state(path: Path, mmap: bool) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The tensors of a ``torch.save`` file (wrappers unwrapped) and notes on what was done.

    ``torch.load(weights_only=True)``: a file that needs arbitrary unpickling (a pickled
    ``nn.Module``, an ``argparse.Namespace`` beside the weights) is refused, never executed.
    """
    import torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if found is None:
            raise WeightsError(
                f"{path} is not a readable torch checkpoint, or it is corrupt ({type(err).__name__}); "
                "download it again"
            ) from err
        raise WeightsError(
            f"{path} holds a pickled {found.group(1)}, not only tensors, and rmtweights loads torch files "
            "with weights_only=True (it never runs pickled code): save `model.state_dict()` instead "
            "(torch.save(model.state_dict(), path)), or save only the dict of tensors"
        ) from err
    except Exception as err:  # torch raises RuntimeError (zip), EOFError, KeyError, ... for damaged files
        raise WeightsError(
            f"{path} is not a readable torch checkpoint, or it is truncated or corrupt "
            f"({type(err).__name__}: {str(err).split('. ')[0]}); download it again"
        ) from err
    notes, trail = [], []
    while isinstance(obj, Mapping) and not (obj and all(isinstance(v, torch.Tensor) for v in obj.values())):
        key = next((k for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if key is None:
            break
        trail.append(key)
        obj = obj[key]
    if not isinstance(obj, Mapping):
        raise WeightsError(
            f"{path} holds a {type(obj).__name__}, not a dict of tensors: save `model.state_dict()` "
            "instead (torch.save(model.state_dict(), path))"
        )
    tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    others = [str(k) for k in obj if k not in tensors]
    if not tensors:
        raise WeightsError(
            f"{path} holds a dict without tensors (keys {shown(others)}); save `model.state_dict()`, "
            f"or a dict that holds it under one of {', '.join(map(repr, _WRAPPER_KEYS))}"
        )
    if trail:
        notes.append("tensors under " + " > ".join(repr(k) for k in trail))
    if others:
        notes.append(f"ignored non-tensor entries {shown(others)}")
    return tensors, notes


def torch_tensors(path: Path, state: Mapping[str, torch.Tensor]) -> list[tuple[str, tuple[int, ...], str]]:
    """``(stored name, shape, dtype)`` of every tensor of a loaded state dict, in key order."""
    out = []
    for key, tensor in state.items():
        dtype = str(tensor.dtype).removeprefix("torch.")
        check_tensor(path, key, dtype)
        out.append((key, tuple(int(s) for s in tensor.shape), dtype))
    return out
