"""Image-classification data sets as normalised in-memory tensors.

Every data set is read once into memory and returned as a :class:`DatasetSplits` of float32
tensors ``N x C x H x W`` on the requested device; training then indexes these tensors by a random
permutation (:func:`iterate_minibatches`), with no per-sample Python and no ``DataLoader``.

Sources, tried in this order for the real data sets:

1. local files below ``data_dir`` (the workflow's config key ``data_dir``): an IDX directory in the
   MNIST format (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
   ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``) for MNIST and Fashion-MNIST,
   or the CIFAR-10 python batches (``data_batch_1`` ... ``data_batch_5``, ``test_batch``);
   ``data_dir`` itself, ``data_dir/<name>`` and the folders torchvision downloads into are searched;
2. system packages: Debian's ``dataset-fashion-mnist`` installs the four gzipped IDX files in
   :data:`DEBIAN_FASHION_MNIST_DIR`;
3. with ``download=True`` (config ``download: true``), torchvision fetches the files into
   ``data_dir`` and they are read by the same parsers.

A data set found nowhere raises :class:`DatasetNotFoundError`, which lists every folder searched
and the three ways to provide the files.

Data sets of your own (:mod:`rmtweights.data_sources`): ``npz`` (one ``.npz`` file of four arrays),
``imagefolder`` (``train/<class>/`` and ``test/<class>/`` folders of images) and ``torchvision`` (any
class of ``torchvision.datasets``). Every data set passes :func:`rmtweights.data_sources.check_arrays`
before it is normalised: bad data stops with a message naming the file and the array. The IDX and CIFAR formats are parsed with NumPy here
rather than through torchvision's dataset classes, so any folder holding the files works.

This module reads the data files; it writes nothing itself (only ``download=True`` lets
torchvision write into ``data_dir``).

Normalisation is per channel with training-set statistics ("normalized each RGB channel of the
input images", Sec. 4 of [1]_): :math:`x' = (x - \\mu_c) / s_c` with :math:`\\mu_c, s_c` the mean
and standard deviation of channel :math:`c` over all training pixels. ``normalize="image"``
instead standardises each image by its own mean and standard deviation, the recipe of App. A of
[2]_ ("standardize each image ... by subtracting the mean and dividing by the standard deviation").

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory" (paper 000; arXiv:2512.12911).
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices" (paper 001), App. A; companion: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661.
.. [3] Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of handwritten digits" (IDX format).
.. [4] A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", Tech. report,
   University of Toronto, 2009 (CIFAR-10 python batches).
"""

from __future__ import annotations

import gzip
import os
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "DATASETS",
    "DEBIAN_FASHION_MNIST_DIR",
    "DatasetNotFoundError",
    "DatasetSplits",
    "SOURCE_OPTIONS",
    "SYNTHETIC_DEFAULTS",
    "iterate_minibatches",
    "summarize",
    "load_dataset",
    "load_prepared",
    "load_spec",
    "make_synthetic",
    "read_cifar10_batches",
    "read_idx",
    "read_idx_dataset",
]

DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10", "synthetic", "npz", "imagefolder", "torchvision")

#: Keys of a workflow's dataset params that each source of your own reads (:func:`load_spec`).
SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {"npz": ("path", "classes"), "imagefolder": ("path", "size", "channels"),
                                              "torchvision": ("torchvision", "kwargs", "size", "classes")}

#: Where Debian's ``dataset-fashion-mnist`` package installs the gzipped IDX files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Defaults of the ``synthetic`` configuration (see :func:`make_synthetic`).
SYNTHETIC_DEFAULTS: dict[str, Any] = {
    "n_train": 2048,  # training images
    "n_test": 512,  # test images
    "channels": 1,  # C
    "size": 28,  # H = W
    "classes": 10,  # number of classes (balanced)
    "signal": 0.5,  # template amplitude relative to unit pixel noise
    "grid": 4,  # templates are random grid x grid patterns, upsampled to size x size
}

_NORMALIZE = ("channel", "image", "none")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_STEMS = {
    "train_x": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_y": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_x": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_y": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files were found in none of the places searched (the message lists them)."""


@dataclass
class DatasetSplits:
    """A data set in memory: normalised float32 images and int64 labels on one device.

    Attributes
    ----------
    train_x, test_x : torch.Tensor
        float32, ``N x C x H x W`` (``N x C*H*W`` when loaded with ``flatten=True``), normalised.
    train_y, test_y : torch.Tensor
        int64 class labels in ``0 .. num_classes - 1``.
    input_shape : tuple of int
        ``(C, H, W)`` of one image, also when the tensors were flattened.
    num_classes : int
    name : str
        The requested data set source (one of :data:`DATASETS`).
    mean, std : tuple of float
        Per-channel training statistics used for ``normalize="channel"`` (raw pixel units);
        empty for other normalisations.
    source : str
        Where the data came from (``"idx:<dir>"``, ``"cifar10-batches:<dir>"`` or ``"synthetic"``).
    normalize : str
        The normalisation applied (``"channel"``, ``"image"`` or ``"none"``).
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    input_shape: tuple[int, int, int]
    num_classes: int
    name: str
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    source: str = ""
    normalize: str = "channel"


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    device: str | torch.device = "cpu",
    synthetic: Mapping[str, Any] | None = None,
    seed: int = 0,
    flatten: bool = False,
    download: bool = False,
    normalize: str = "channel",
    path: str | os.PathLike | None = None,
    classes: int | None = None,
    size: tuple[int, int] | None = None,
    channels: int = 3,
    torchvision: str | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> DatasetSplits:
    """Load a data set into normalised in-memory tensors on ``device``.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist", "cifar10", "synthetic", "npz", "imagefolder", "torchvision"}
    data_dir : path, optional
        Folder holding (or receiving, with ``download=True``) the files; searched as described in
        the module docstring.
    device : str or torch.device
        Where the tensors live (everything is loaded once; training indexes them there).
    synthetic : dict, optional
        Configuration of :func:`make_synthetic` (keys of :data:`SYNTHETIC_DEFAULTS`, missing keys
        take the defaults; unknown keys raise). Used only for ``name="synthetic"`` and ignored
        for the real data sets, so a workflow can pass its ``synthetic`` config block always.
    seed : int
        Seed of the synthetic data (ignored for real data).
    flatten : bool
        Return ``N x C*H*W`` tensors. Not needed for the models of :mod:`rmtweights.models`, which
        start with (or contain) an ``nn.Flatten`` child and take ``N x C x H x W`` input.
    download : bool
        Let torchvision download a missing real data set into ``data_dir`` (needs network access;
        the tests never do).
    normalize : {"channel", "image", "none"}
        Per-channel standardisation with training-set statistics ([1]_, the default), per-image
        standardisation ([2]_), or raw pixel values scaled to [0, 1].
    path : path, optional
        ``npz``: the file; ``imagefolder``: the folder holding ``train/`` and ``test/``.
    classes : int, optional
        ``npz``, ``torchvision``: the number of classes (default: from the labels or the data set).
    size : (H, W), optional
        ``imagefolder`` (required), ``torchvision``: resize every image.
    channels : {1, 3}
        ``imagefolder``: grey-scale or RGB.
    torchvision : str, optional
        ``torchvision``: the class name in ``torchvision.datasets`` (read from or downloaded into ``data_dir``).
    kwargs : dict, optional
        ``torchvision``: further arguments of the class.

    Returns
    -------
    DatasetSplits

    Raises
    ------
    ValueError
        Unknown ``name``, ``normalize``, or synthetic configuration key, or ``download=True``
        without ``data_dir``.
    DatasetNotFoundError
        The files are nowhere to be found (the message lists where it looked).
    rmtweights.data_sources.DataError
        Bad data: the message names the file and the array (:func:`rmtweights.data_sources.check_arrays`).
    """
    from rmtweights import data_sources

    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize={normalize!r}; choose one of {_NORMALIZE}")
    if download and data_dir is None:
        raise ValueError("download=True needs a data_dir to download into")
    if name in ("npz", "imagefolder") and path is None:
        raise ValueError(f"data set source {name!r} needs a path")

    config = _synthetic_config(synthetic)  # validated even when unused: a typo fails early
    # MNIST, Fashion-MNIST and CIFAR-10 all have ten classes (fixed, not read off the labels)
    num_classes = int(config["classes"]) if name == "synthetic" else 10
    if name == "synthetic":
        train_x, train_y, test_x, test_y = make_synthetic(config, seed=seed)
        source = "synthetic"
    elif name == "cifar10":
        folder = _find_or_download(name, data_dir, download)
        train_x, train_y, test_x, test_y = read_cifar10_batches(folder)
        source = f"cifar10-batches:{folder}"
    elif name == "npz":
        train_x, train_y, test_x, test_y, num_classes = data_sources.read_npz(path, classes)
        source = f"npz:{path}"
    elif name == "imagefolder":
        if size is None:
            raise ValueError("data set source 'imagefolder' needs a size (H, W)")
        train_x, train_y, test_x, test_y, num_classes = data_sources.read_image_folder(path, size, channels)
        source = f"imagefolder:{path}"
    elif name == "torchvision":
        if torchvision is None or data_dir is None:
            raise ValueError("data set source 'torchvision' needs the class name and a data_dir")
        train_x, train_y, test_x, test_y, num_classes = data_sources.read_torchvision(
            torchvision, data_dir, download=download, kwargs=kwargs, size=size, classes=classes)
        source = f"torchvision:{torchvision}:{data_dir}"
    else:
        folder = _find_or_download(name, data_dir, download)
        train_x, train_y, test_x, test_y = read_idx_dataset(folder)
        source = f"idx:{folder}"
    train_x, train_y, test_x, test_y, num_classes = data_sources.check_arrays(
        train_x, train_y, test_x, test_y, where=source, num_classes=num_classes)

    if train_x.ndim == 3:  # IDX images: N x H x W, one channel
        train_x, test_x = train_x[:, None], test_x[:, None]
    input_shape = tuple(int(s) for s in train_x.shape[1:])

    train_t, test_t, mean, std = _normalise(train_x, test_x, normalize)
    if flatten:
        train_t, test_t = train_t.flatten(1), test_t.flatten(1)
    return DatasetSplits(
        train_x=train_t.to(device),
        train_y=torch.from_numpy(np.asarray(train_y, dtype=np.int64)).to(device),
        test_x=test_t.to(device),
        test_y=torch.from_numpy(np.asarray(test_y, dtype=np.int64)).to(device),
        input_shape=input_shape,  # type: ignore[arg-type]
        num_classes=num_classes,
        name=name,
        mean=mean,
        std=std,
        source=source,
        normalize=normalize,
    )


def summarize(splits: DatasetSplits) -> dict[str, Any]:
    """Plain-data description of a loaded dataset (sizes, shape, normalisation, where it came from)."""
    return {
        "name": splits.name,
        "source": splits.source,
        "n_train": int(splits.train_y.shape[0]),
        "n_test": int(splits.test_y.shape[0]),
        "input_shape": list(splits.input_shape),
        "num_classes": int(splits.num_classes),
        "mean": [float(v) for v in splits.mean],
        "std": [float(v) for v in splits.std],
        "normalize": splits.normalize,
    }


def load_spec(spec: Mapping[str, Any], *, device: str | torch.device = "cpu") -> DatasetSplits:
    """Load the data set described by a workflow's dataset params (``source``, ``data_dir``,
    ``synthetic``, ``download``, ``normalize``, and the keys :data:`SOURCE_OPTIONS` names for a source of
    your own): :func:`load_dataset` with those arguments."""
    options = {key: spec[key] for key in SOURCE_OPTIONS.get(spec["source"], ())}
    return load_dataset(spec["source"], spec["data_dir"], synthetic=spec["synthetic"],
                        download=spec["download"], normalize=spec["normalize"], device=device, **options)


def load_prepared(spec: Mapping[str, Any], summary: Mapping[str, Any], *,
                  device: str | torch.device = "cpu") -> DatasetSplits:
    """Load the data set a workflow rule was given and check it is the one ``prepare_dataset`` described.

    ``spec`` has ``source``, ``data_dir``, ``synthetic``, ``download`` and ``normalize`` (the
    workflow's dataset params, :func:`load_spec`); ``summary`` is what :func:`summarize` returned when the data set was prepared (the
    rule's ``resources/datasets/<name>.json`` input). A data set whose files changed since then
    (other sizes, other normalisation statistics) raises ``ValueError`` naming the differences:
    rerun ``prepare_dataset`` (delete the summary file) so that everything downstream is rebuilt.
    """
    splits = load_spec(spec, device=device)
    now = summarize(splits)
    changed = sorted(key for key in set(now) | set(summary) if key != "source" and now.get(key) != summary.get(key))
    if changed:
        raise ValueError(f"data set {spec['source']!r} ({now['source']}) differs from the one prepared "
                         f"earlier in {changed}; delete its summary in resources/datasets/ and rerun")
    return splits


def iterate_minibatches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x[idx], y[idx])`` mini-batches, indexing in-memory tensors by a permutation.

    Parameters
    ----------
    x, y : torch.Tensor
        Inputs and labels with the same first dimension, on any device.
    batch_size : int
        Positive; the last batch is smaller unless ``drop_last``.
    shuffle : bool
        Draw one random permutation of ``0 .. N-1`` (``torch.randperm`` with ``generator``);
        otherwise batches are contiguous slices in data order.
    generator : torch.Generator
        Required when ``shuffle``: the run's seed drives the data order (STYLE 2.9). The
        permutation is drawn on the generator's device and moved to ``x``'s device.
    drop_last : bool
        Skip a final partial batch.
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}")
    if batch_size <= 0:
        raise ValueError(f"batch_size={batch_size} must be positive")
    if shuffle and generator is None:
        raise ValueError("shuffle=True needs a torch.Generator (randomness is passed in, never global)")
    n = x.shape[0]
    stop = n - n % batch_size if drop_last else n
    if shuffle:
        order = torch.randperm(n, generator=generator, device=generator.device).to(x.device)
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]
    else:
        for start in range(0, stop, batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


# --------------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------------


def _synthetic_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in, unknown keys and bad values rejected."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(SYNTHETIC_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown synthetic data keys {unknown}; known: {sorted(SYNTHETIC_DEFAULTS)}")
    merged = {**SYNTHETIC_DEFAULTS, **config}
    for key in ("n_train", "n_test", "channels", "size", "grid"):
        if int(merged[key]) != merged[key] or merged[key] < 1:
            raise ValueError(f"synthetic {key}={merged[key]!r} must be a positive integer")
    if int(merged["classes"]) != merged["classes"] or merged["classes"] < 2:
        raise ValueError(f"synthetic classes={merged['classes']!r} must be an integer >= 2")
    if not merged["signal"] >= 0:
        raise ValueError(f"synthetic signal={merged['signal']!r} must be >= 0")
    return merged


def make_synthetic(
    config: Mapping[str, Any] | None = None, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded, learnable image-classification data set: class templates plus noise.

    .. math::
        x_i = s\\,T_{y_i} + \\varepsilon_i, \\qquad \\varepsilon_i \\sim N(0, I),

    where each class template :math:`T_k` (``channels x size x size``) is a random
    ``grid x grid`` standard-normal pattern upsampled by pixel repetition (smooth, image-like,
    so convolutions and dense layers both learn it) and :math:`s` is ``signal``. Labels are
    balanced (``n // classes`` per class, the remainder to the first classes) and shuffled.
    With the defaults the nearest-template classifier is far above chance, so a couple of
    epochs of SGD clearly beat chance.

    Parameters
    ----------
    config : dict, optional
        Keys of :data:`SYNTHETIC_DEFAULTS`; missing keys take the defaults.
    seed : int
        Seed of a ``numpy.random.Generator``; the same seed gives the same arrays.

    Returns
    -------
    train_x, train_y, test_x, test_y : numpy.ndarray
        float32 images ``N x C x H x W`` (not yet normalised) and int64 labels.
    """
    cfg = _synthetic_config(config)
    rng = np.random.default_rng(seed)
    c, size, k, grid = int(cfg["channels"]), int(cfg["size"]), int(cfg["classes"]), int(cfg["grid"])
    coarse = rng.standard_normal((k, c, grid, grid))
    reps = -(-size // grid)  # ceil division, then crop to size
    templates = coarse.repeat(reps, axis=2).repeat(reps, axis=3)[:, :, :size, :size]

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.permutation(np.arange(n) % k).astype(np.int64)
        x = cfg["signal"] * templates[y] + rng.standard_normal((n, c, size, size))
        return x.astype(np.float32), y

    train_x, train_y = draw(int(cfg["n_train"]))
    test_x, test_y = draw(int(cfg["n_test"]))
    return train_x, train_y, test_x, test_y


# --------------------------------------------------------------------------------------------
# file formats
# --------------------------------------------------------------------------------------------


def _open_maybe_gz(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a NumPy array.

    The IDX format [3]_: two zero bytes, a type code (``0x08`` unsigned byte, ``0x09`` signed
    byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of
    dimensions ``d``, then ``d`` big-endian uint32 sizes and the data in C order, big-endian.

    Raises
    ------
    ValueError
        A bad magic number, unknown type code, or a size that does not match the header
        (the message names the file).
    """
    path = Path(path)
    raw = _open_maybe_gz(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX header promises {expected} data bytes, file has {len(raw) - header}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def _idx_file(folder: Path, key: str) -> Path | None:
    for stem in _IDX_STEMS[key]:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _has_idx(folder: Path) -> bool:
    return all(_idx_file(folder, key) is not None for key in _IDX_STEMS)


def read_idx_dataset(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the four MNIST-format IDX files of ``folder`` (each plain or ``.gz``).

    Returns ``train_x, train_y, test_x, test_y`` with images ``N x H x W`` (uint8) and labels.
    """
    folder = Path(folder)
    arrays = {}
    for key in _IDX_STEMS:
        path = _idx_file(folder, key)
        if path is None:
            raise DatasetNotFoundError(f"{folder}: no {_IDX_STEMS[key][0]}[.gz]")
        arrays[key] = read_idx(path)
    for split in ("train", "test"):
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"{folder}: {split} images {x.shape} and labels {y.shape} do not match")
    return arrays["train_x"], arrays["train_y"], arrays["test_x"], arrays["test_y"]


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open("rb") as fh:
        batch = pickle.load(fh, encoding="bytes")  # the official batches are Python-2 pickles
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path}: not a CIFAR-10 batch (no 'data'/'labels' entries)")
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != len(labels):
        raise ValueError(f"{path}: data of shape {data.shape} with {len(labels)} labels is not N x 3072")
    return data.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


def read_cifar10_batches(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read CIFAR-10's python batches [4]_ (``data_batch_1`` ... ``_5``, ``test_batch``) in ``folder``.

    Each batch is a pickled dict with ``data`` (``N x 3072`` uint8, the 1024 red, then green,
    then blue values of each 32 x 32 image in row-major order) and ``labels``. Returns
    ``train_x, train_y, test_x, test_y`` with images ``N x 3 x 32 x 32`` (uint8).
    """
    folder = Path(folder)
    missing = [f for f in (*_CIFAR_TRAIN, _CIFAR_TEST) if not (folder / f).is_file()]
    if missing:
        raise DatasetNotFoundError(f"{folder}: missing CIFAR-10 batches {missing}")
    train = [_read_cifar_batch(folder / f) for f in _CIFAR_TRAIN]
    test_x, test_y = _read_cifar_batch(folder / _CIFAR_TEST)
    train_x = np.concatenate([b[0] for b in train])
    train_y = np.concatenate([b[1] for b in train])
    return train_x, train_y, test_x, test_y


# --------------------------------------------------------------------------------------------
# locating files
# --------------------------------------------------------------------------------------------


def _candidates(name: str, data_dir: str | os.PathLike | None) -> list[Path]:
    """Folders to search for ``name``, in order."""
    found: list[Path] = []
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        if name == "cifar10":
            subdirs = ["", "cifar-10-batches-py", "cifar10", "cifar10/cifar-10-batches-py"]
        else:
            tv = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}[name]
            subdirs = ["", name, name.replace("_", "-"), f"{tv}/raw", f"{name}/{tv}/raw"]
        found += [root / s if s else root for s in subdirs]
    if name == "fashion_mnist":
        found.append(DEBIAN_FASHION_MNIST_DIR)
    return found


def _find(name: str, data_dir: str | os.PathLike | None) -> tuple[Path | None, list[Path]]:
    searched = _candidates(name, data_dir)
    present = (lambda p: all((p / f).is_file() for f in (*_CIFAR_TRAIN, _CIFAR_TEST))) if name == "cifar10" else _has_idx
    for folder in searched:
        if folder.is_dir() and present(folder):
            return folder, searched
    return None, searched


def _not_found_message(name: str, searched: list[Path], data_dir: Any, download: bool) -> str:
    files = ("data_batch_1..5 and test_batch (CIFAR-10 python version)" if name == "cifar10"
             else "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                  "t10k-labels-idx1-ubyte (each plain or .gz)")
    lines = [f"data set {name!r} not found; looked for {files} in:"]
    lines += [f"  - {p}" for p in searched] or ["  - (nowhere: no data_dir given)"]
    lines.append("provide it by one of:")
    lines.append("  - config key data_dir: a folder holding the files (or a subfolder named as above)")
    lines.append("  - config key download: true, to let torchvision download into data_dir "
                 "(needs network access)" + (" -- download was attempted and failed" if download else ""))
    if name == "fashion_mnist":
        lines.append(f"  - apt-get install dataset-fashion-mnist (Debian/Ubuntu; installs into {DEBIAN_FASHION_MNIST_DIR})")
    lines.append("  - or use dataset 'synthetic' for an offline run")
    return "\n".join(lines)


def _find_or_download(name: str, data_dir: str | os.PathLike | None, download: bool) -> Path:
    folder, searched = _find(name, data_dir)
    if folder is not None:
        return folder
    message = _not_found_message(name, searched, data_dir, download)
    if download:
        try:
            _download(name, Path(data_dir))  # type: ignore[arg-type]
        except Exception as err:  # no network, HTTP errors, checksum mismatch: all mean "not found"
            raise DatasetNotFoundError(f"{message}\ndownload failed: {type(err).__name__}: {err}") from err
        folder, searched = _find(name, data_dir)
        if folder is not None:
            return folder
    raise DatasetNotFoundError(message)


def _download(name: str, root: Path) -> None:
    """Fetch the files with torchvision into ``root`` (its own folder layout, then parsed here)."""
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "fashion_mnist": torchvision.datasets.FashionMNIST,
           "cifar10": torchvision.datasets.CIFAR10}[name]
    for train in (True, False):
        cls(root=str(root), train=train, download=True)


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------


def _channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) standard deviation of ``N x C x H x W`` data, in float64.

    uint8 images use a 256-bin histogram per channel (exact, no float64 copy of the data;
    ``torch.bincount`` counts uint8 directly, several times faster than ``np.bincount``).
    """
    c = x.shape[1]
    mean, std = np.empty(c), np.empty(c)
    values = np.arange(256, dtype=np.float64)
    for ch in range(c):
        plane = x[:, ch]
        if x.dtype == np.uint8:
            flat = torch.from_numpy(np.ascontiguousarray(plane)).flatten()
            counts = torch.bincount(flat, minlength=256).numpy().astype(np.float64)
            total = counts.sum()
            mean[ch] = counts @ values / total
            std[ch] = np.sqrt(counts @ (values - mean[ch]) ** 2 / total)
        else:
            flat = plane.astype(np.float64).ravel()
            mean[ch] = flat.mean()
            std[ch] = flat.std()
    return mean, std


def _normalise(
    train_x: np.ndarray, test_x: np.ndarray, mode: str
) -> tuple[torch.Tensor, torch.Tensor, tuple[float, ...], tuple[float, ...]]:
    scale = 255.0 if train_x.dtype == np.uint8 else 1.0
    train_t = torch.from_numpy(np.ascontiguousarray(train_x)).to(torch.float32)
    test_t = torch.from_numpy(np.ascontiguousarray(test_x)).to(torch.float32)
    if mode == "channel":
        mean, std = _channel_stats(train_x)
        std = np.where(std > 0, std, 1.0)  # a constant channel is only centred
        shape = (1, -1, 1, 1)
        m = torch.from_numpy(mean).to(torch.float32).reshape(shape)
        s = torch.from_numpy(std).to(torch.float32).reshape(shape)
        train_t.sub_(m).div_(s)  # per-channel normalisation, Sec. 4 of [1]
        test_t.sub_(m).div_(s)
        return train_t, test_t, tuple(map(float, mean)), tuple(map(float, std))
    if mode == "image":
        for t in (train_t, test_t):
            std_i, mean_i = torch.std_mean(t.flatten(1), dim=1, correction=0)
            shape = (-1,) + (1,) * (t.ndim - 1)
            t.sub_(mean_i.reshape(shape)).div_(std_i.clamp_min(1e-12).reshape(shape))  # App. A of [2]
        return train_t, test_t, (), ()
    train_t.div_(scale)
    test_t.div_(scale)
    return train_t, test_t, (), ()
