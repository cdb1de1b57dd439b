"""Models of your own: a function that builds an ``nn.Module``, named by a file or a module.

A config names it under ``models.<name>.factory`` as ``"path/to/mynet.py:build"`` (a Python file; a
relative path is relative to the config file's folder, :func:`rmtweights.config.resolve_paths`) or as
``"package.module:build"`` (an importable module). The workflow calls it as

.. code-block:: python

    build(input_shape=(C, H, W), num_classes=K, **kwargs)  # -> torch.nn.Module taking N x C x H x W

with the data set's image shape and class count and the config's ``kwargs``. The analysed layers are
those of the model's ``state_dict`` (the tensor rules of :mod:`rmtweights.tensors`), named by their
module paths (``block2.fc``).

Initialisation (``init``): ``"own"`` keeps what the factory does (e.g. torch's default initialisation of
each layer), drawn under the run's seed, so the same seed gives the same weights; ``"glorot"`` then
redraws every ``Linear`` and ``Conv2d`` weight Glorot-uniform with zero bias, as the papers' models
(:func:`rmtweights.models.glorot_init_`).

Reruns: the code fingerprint of a factory is that of its file (:func:`factory_fingerprint`, the parsed
source without comments or docstrings, :func:`rmtweights.provenance.file_fingerprint`). The workflow
puts it in the params of the training rules of that model's runs only, so editing the factory file
retrains those runs and nothing else. Modules the factory imports are not followed: after editing one,
rerun with ``--forcerun``.

Importing this module imports neither torch nor the factory (the workflow fingerprints factories when
it builds its job graph).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rmtweights.provenance import file_fingerprint

__all__ = ["FACTORY", "INITS", "FactoryError", "build_factory_model", "factory_file", "factory_fingerprint", "load_factory",
           "split_reference"]

#: The architecture name under which a factory model is built and stored in checkpoints
#: (``build_model(FACTORY, ..., factory="file.py:function", kwargs=..., init=..., code=...)``).
FACTORY = "factory"
#: Values of ``init``: the factory's own initialisation, or Glorot-uniform weights and zero biases.
INITS: tuple[str, ...] = ("own", "glorot")


class FactoryError(ValueError):
    """A model factory that cannot be found, loaded or called; the message names the reference."""


def split_reference(reference: str) -> tuple[str, str]:
    """``"models/mynet.py:build"`` -> ``("models/mynet.py", "build")``; ``"pkg.mod:build"`` -> ``("pkg.mod", "build")``.

    The part before the last ``:`` is a file when it ends in ``.py``, else a module name.
    """
    where, colon, function = str(reference).rpartition(":")
    if not colon or not where or not function.isidentifier():
        raise FactoryError(f"model factory {reference!r}: expected 'path/to/file.py:function' or "
                           "'package.module:function'")
    return where, function


def _is_file(where: str) -> bool:
    return where.endswith(".py")


def factory_file(reference: str) -> Path:
    """The source file of a factory: the named ``.py`` file, or the module's file (found without running it)."""
    where, _ = split_reference(reference)
    if _is_file(where):
        path = Path(where)
        if not path.is_file():
            raise FactoryError(f"model factory {reference!r}: no file {os.path.abspath(where)}")
        return path
    try:
        spec = importlib.util.find_spec(where)
    except (ImportError, ValueError) as err:
        spec, cause = None, f" ({err})"
    else:
        cause = ""
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        raise FactoryError(f"model factory {reference!r}: module {where!r} is not importable{cause}")
    return Path(spec.origin)


def factory_fingerprint(reference: str) -> str:
    """Code fingerprint of a factory's file (16 hex digits; comments, docstrings and layout ignored)."""
    return file_fingerprint(factory_file(reference))


_LOADED: dict[tuple[str, int], Any] = {}


def _load_file(path: Path) -> Any:
    """Execute a ``.py`` file as a module (once per file version); its folder is importable meanwhile."""
    path = path.resolve()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _LOADED:
        name = f"rmtweights_factory_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))  # the factory may import modules beside it
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            sys.modules.pop(name, None)
            raise FactoryError(f"model factory file {path} fails to import: {type(err).__name__}: {err}") from err
        finally:
            sys.path.remove(str(path.parent))
        _LOADED[key] = module
    return _LOADED[key]


def load_factory(reference: str) -> Callable[..., Any]:
    """The factory function a reference names (the file executed, or the module imported)."""
    where, function = split_reference(reference)
    if _is_file(where):
        module = _load_file(factory_file(reference))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as err:
            raise FactoryError(f"model factory {reference!r}: cannot import {where!r}: {err}") from err
    build = getattr(module, function, None)
    if not callable(build):
        defined = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_"))
        raise FactoryError(f"model factory {reference!r}: {where} defines no function {function!r} "
                           f"(functions: {', '.join(defined) or 'none'})")
    return build


def build_factory_model(factory: str, input_shape: Sequence[int], num_classes: int, *,
                        kwargs: Mapping[str, Any] | None = None, init: str = "own", code: str | None = None,
                        generator: Any = None):
    """Call ``factory(input_shape=(C, H, W), num_classes=K, **kwargs)`` and check what it returns.

    Parameters
    ----------
    factory : str
        ``"path/to/file.py:function"`` or ``"package.module:function"``.
    input_shape, num_classes
        One image's ``(C, H, W)`` and the number of classes.
    kwargs : dict, optional
        The factory's own keyword arguments (config ``models.<name>.kwargs``).
    init : {"own", "glorot"}
        Keep the factory's initialisation, or redraw ``Linear``/``Conv2d`` weights Glorot-uniform with zero biases.
    code : str, optional
        The factory's fingerprint when the run was planned (or trained): a different file now raises
        :class:`FactoryError` instead of building another network under the same name. ``None`` or ``"off"``
        skips the check.
    generator : torch.Generator, optional
        The run's seed: the factory runs with torch's global generator seeded from
        ``generator.initial_seed()`` (restored afterwards), so its own initialisation is reproducible;
        ``init="glorot"`` draws from ``generator`` itself. ``None``: the global generator as it is.

    Returns
    -------
    torch.nn.Module
        In training mode, on the CPU. A dry forward pass of one zero image (in ``eval()`` mode) checks
        that it takes ``1 x C x H x W`` and returns ``1 x K`` logits.
    """
    import torch
    from torch import nn

    from rmtweights.models import glorot_init_

    if init not in INITS:
        raise FactoryError(f"model factory {factory!r}: init={init!r}; choose one of {INITS}")
    if code not in (None, "off"):
        now = factory_fingerprint(factory)
        if now != code:
            raise FactoryError(f"model factory {factory!r}: its file {factory_file(factory)} changed since this "
                               f"model was planned or trained (code fingerprint {code} -> {now}); rerun the workflow "
                               "(it retrains this model's runs), or restore the file")
    shape = tuple(int(s) for s in input_shape)
    build = load_factory(factory)
    with torch.random.fork_rng(devices=[]):  # the factory's own draws: seeded, and the caller's RNG untouched
        if generator is not None:
            torch.manual_seed(generator.initial_seed())
        try:
            model = build(input_shape=shape, num_classes=int(num_classes), **dict(kwargs or {}))
        except TypeError as err:
            raise FactoryError(f"model factory {factory!r} called with input_shape={shape}, num_classes={num_classes}"
                               f" and kwargs {dict(kwargs or {})}: {err}") from err
        if not isinstance(model, nn.Module):
            raise FactoryError(f"model factory {factory!r} returned a {type(model).__name__}, not a torch.nn.Module")
        if init == "glorot":
            glorot_init_(model, generator)
        _check_output(model, factory, shape, int(num_classes))
    return model


def _check_output(model, factory: str, shape: tuple[int, ...], num_classes: int) -> None:
    """One zero image through the model (eval mode, no grad): it must give ``1 x num_classes`` logits."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, *shape))
    except Exception as err:
        raise FactoryError(f"model factory {factory!r}: the model fails on one {shape} image: "
                           f"{type(err).__name__}: {err}") from err
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, num_classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise FactoryError(f"model factory {factory!r}: one {shape} image gives output {got}; "
                           f"expected logits of shape (1, {num_classes})")
