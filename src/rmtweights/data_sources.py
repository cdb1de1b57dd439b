"""Data sets you bring: arrays in an ``.npz`` file, folders of images, any torchvision data set class; and the
checks every data set passes before a model is trained on it.

Each reader returns ``train_x, train_y, test_x, test_y, num_classes`` as NumPy arrays (images
``N x C x H x W`` or ``N x H x W``, not yet normalised; :mod:`rmtweights.data` normalises them):

* :func:`read_npz`: one ``.npz`` file with the arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``
  (``numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)``);
* :func:`read_image_folder`: ``<root>/train/<class>/*`` and ``<root>/test/<class>/*`` (any format Pillow
  reads), every image converted to 1 or 3 channels and resized to one size; classes are the sorted names
  of the training folder's subfolders;
* :func:`read_torchvision`: any class of ``torchvision.datasets`` taking ``train=`` or ``split=``
  (``KMNIST``, ``SVHN``, ``CIFAR100``, ...), from ``data_dir`` or downloaded into it.

:func:`check_arrays` stops bad data before training with a message naming the file and the array: a
missing array, images of the wrong rank (or channels last), labels that are not integers or lie outside
``0..K-1``, images and labels of different lengths, NaN or infinite pixels, an empty split, train and
test images of different shapes.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ARRAYS", "DataError", "check_arrays", "read_image_folder", "read_npz", "read_torchvision"]

#: The arrays of an ``.npz`` data set, in the order the readers return them.
ARRAYS: tuple[str, ...] = ("x_train", "y_train", "x_test", "y_test")

#: File suffixes of images in an image folder (what Pillow reads).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


class DataError(ValueError):
    """A data set that cannot be trained on; the message names the file and the array."""


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------


def _check_images(x: np.ndarray, name: str, where: str) -> None:
    if x.ndim not in (3, 4):
        raise DataError(f"{where}: {name} has shape {x.shape}; expected images N x C x H x W or N x H x W")
    if x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        raise DataError(f"{where}: {name} has shape {x.shape}, which looks channels-last (N x H x W x C); store it "
                        f"as N x C x H x W, e.g. {name}.transpose(0, 3, 1, 2)")
    if x.shape[0] == 0:
        raise DataError(f"{where}: {name} is empty (0 images)")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating) or x.dtype == bool):
        raise DataError(f"{where}: {name} has dtype {x.dtype}; expected numbers (uint8 pixels or floats)")
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            kind = "NaN" if np.isnan(x[first]).any() else "infinite"
            raise DataError(f"{where}: {name} has {int(bad.sum())} image(s) with NaN or infinite pixels "
                            f"(the first: image {first}, {kind})")


def _check_labels(y: np.ndarray, name: str, where: str, n_images: int, images: str) -> np.ndarray:
    if y.ndim != 1:
        raise DataError(f"{where}: {name} has shape {y.shape}; expected one integer label per image (N,)")
    if len(y) != n_images:
        raise DataError(f"{where}: {name} has {len(y)} labels but {images} has {n_images} images")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise DataError(f"{where}: {name} holds non-integer labels; expected integers 0..K-1")
    elif not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{where}: {name} has dtype {y.dtype}; expected integer labels 0..K-1")
    return y.astype(np.int64)


def check_arrays(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                 where: str, num_classes: int | None = None,
                 names: Sequence[str] = ARRAYS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Check a data set's four arrays; return them (labels as int64) and the number of classes.

    ``where`` names the file or folder in messages; ``names`` the four arrays. ``num_classes`` K: labels
    must lie in ``0..K-1``; ``None`` takes the largest training label + 1 (and test labels must not exceed it).

    Raises
    ------
    DataError
        Naming ``where`` and the array at fault.
    """
    nx_train, ny_train, nx_test, ny_test = names
    for x, name in ((train_x, nx_train), (test_x, nx_test)):
        _check_images(x, name, where)
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DataError(f"{where}: {nx_train} images are {train_x.shape[1:]} but {nx_test} images {test_x.shape[1:]}")
    train_y = _check_labels(train_y, ny_train, where, len(train_x), nx_train)
    test_y = _check_labels(test_y, ny_test, where, len(test_x), nx_test)
    k = int(train_y.max()) + 1 if num_classes is None else int(num_classes)
    for y, name in ((train_y, ny_train), (test_y, ny_test)):
        bad = (y < 0) | (y >= k)
        if bad.any():
            source = "classes" if num_classes is not None else f"the largest label in {ny_train} is {k - 1}"
            raise DataError(f"{where}: {name} holds label {int(y[bad][0])} outside 0..{k - 1} ({source}; "
                            f"{int(bad.sum())} such labels)")
    if k < 2:
        raise DataError(f"{where}: {ny_train} has a single class (label 0); a classifier needs at least two")
    return train_x, train_y, test_x, test_y, k


# --------------------------------------------------------------------------------------------
# readers
# --------------------------------------------------------------------------------------------


def read_npz(path: str | os.PathLike, classes: int | None = None) -> Arrays:
    """Read and check the arrays ``x_train, y_train, x_test, y_test`` of an ``.npz`` file (:func:`check_arrays`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"npz data set {os.path.abspath(path)} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ARRAYS if name not in archive.files]
            if missing:
                raise DataError(f"{path}: no array {', '.join(missing)} (it holds: {', '.join(archive.files) or 'none'});"
                                " expected x_train, y_train, x_test, y_test")
            arrays = [archive[name] for name in ARRAYS]
    except DataError:
        raise
    except Exception as err:  # not a zip, truncated, pickled objects
        raise DataError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from err
    return check_arrays(*arrays, where=str(path), num_classes=classes)


def _resized(image: np.ndarray, size: Sequence[int] | None) -> np.ndarray:
    """A C x H x W array resized to ``size = (H, W)`` (bilinear, antialiased; uint8 stays uint8)."""
    if size is None or tuple(image.shape[1:]) == (int(size[0]), int(size[1])):
        return image
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(torch.float32)[None]
    out = torch.nn.functional.interpolate(tensor, size=(int(size[0]), int(size[1])), mode="bilinear",
                                          align_corners=False, antialias=True)[0].numpy()
    return np.clip(np.round(out), 0, 255).astype(np.uint8) if image.dtype == np.uint8 else out.astype(image.dtype)


def _as_chw(array: np.ndarray, where: str) -> np.ndarray:
    """An H x W or H x W x C picture (Pillow's layout) as C x H x W."""
    if array.ndim == 2:
        return array[None]
    if array.ndim == 3:
        return array.transpose(2, 0, 1)
    raise DataError(f"{where}: an image of shape {array.shape}")


def _pil_array(image, size: Sequence[int] | None, channels: int | None) -> np.ndarray:
    """A Pillow image as a C x H x W array, converted to ``channels`` (1: grey, 3: RGB) and resized to
    ``size = (H, W)`` (bilinear) where asked."""
    from PIL import Image

    if channels is not None:
        image = image.convert("L" if channels == 1 else "RGB")
    if size is not None and image.size != (int(size[1]), int(size[0])):
        image = image.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR)
    return _as_chw(np.asarray(image), "image")


def _read_image(path: Path, size: Sequence[int], channels: int) -> np.ndarray:
    """One image file as a ``channels x H x W`` uint8 array of ``size``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return _pil_array(image, size, channels)
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"image folder: {path} is not a readable image ({err})") from err


def _folder_split(root: Path, split: str, classes: Sequence[str] | None, size: Sequence[int],
                  channels: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    folder = root / split
    if not folder.is_dir():
        raise DataError(f"image folder {root}: no {split}/ folder (expected {split}/<class>/<image files>)")
    found = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if classes is None:
        classes = found
    else:
        unknown = sorted(set(found) - set(classes))
        if unknown:
            raise DataError(f"image folder {folder}: class folder(s) {unknown} are not in train/ ({list(classes)})")
    if not classes:
        raise DataError(f"image folder {folder}: no class subfolders (expected {split}/<class>/<image files>)")
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES) \
            if (folder / name).is_dir() else []
        images += [_read_image(file, size, channels) for file in files]
        labels += [label] * len(files)
    if not images:
        raise DataError(f"image folder {folder}: no images (suffixes {', '.join(IMAGE_SUFFIXES)}) in its class folders")
    return np.stack(images), np.asarray(labels, dtype=np.int64), list(classes)


def read_image_folder(root: str | os.PathLike, size: Sequence[int], channels: int = 3) -> Arrays:
    """Read ``root/train/<class>/*`` and ``root/test/<class>/*``: images converted to ``channels`` (1: grey,
    3: RGB) and resized to ``size = (H, W)`` (bilinear), uint8; labels are the indices of the sorted class
    names of ``train/`` (a class of ``test/`` must be one of them)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"image folder {os.path.abspath(root)} does not exist")
    if channels not in (1, 3):
        raise DataError(f"image folder {root}: channels={channels!r}; choose 1 (grey) or 3 (RGB)")
    train_x, train_y, classes = _folder_split(root, "train", None, size, channels)
    test_x, test_y, _ = _folder_split(root, "test", classes, size, channels)
    return check_arrays(train_x, train_y, test_x, test_y, where=str(root), num_classes=len(classes),
                        names=("train/ images", "train/ labels", "test/ images", "test/ labels"))


def _torchvision_split(cls, root: Path, train: bool, download: bool, kwargs: Mapping[str, Any]):
    """One split of a torchvision data set class: ``train=`` where it takes it, else ``split="train"/"test"``."""
    params = inspect.signature(cls).parameters
    if "train" in params:
        return cls(root=str(root), train=train, download=download, **kwargs)
    if "split" in params:
        return cls(root=str(root), split="train" if train else "test", download=download, **kwargs)
    raise DataError(f"torchvision.datasets.{cls.__name__} has neither a `train` nor a `split` argument: "
                    "save its arrays with numpy.savez and use `source: npz`")


def _torchvision_arrays(dataset, size: Sequence[int] | None, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of a torchvision data set: its ``data`` and ``targets``/``labels`` arrays where it
    has them (MNIST, CIFAR, SVHN), else item by item (PIL images or tensors)."""
    data = getattr(dataset, "data", None)
    labels = getattr(dataset, "targets", getattr(dataset, "labels", None))
    if size is None and data is not None and labels is not None and not isinstance(data, list):
        x = np.asarray(data)
        if x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
            x = x.transpose(0, 3, 1, 2)  # CIFAR stores N x H x W x C
        return x, np.asarray(labels)
    images, targets = [], []
    for index in range(len(dataset)):
        image, target = dataset[index]
        if hasattr(image, "convert"):  # a Pillow image
            images.append(_pil_array(image, size, None))
        else:  # a tensor or array, C x H x W
            array = np.asarray(image)
            images.append(_resized(array[None] if array.ndim == 2 else array, size))
        targets.append(int(target))
    if not images:
        return np.zeros((0, 1, 1, 1), np.uint8), np.zeros(0, np.int64)
    shapes = {a.shape for a in images}
    if len(shapes) > 1:
        raise DataError(f"{where}: images of {len(shapes)} different shapes; set `size: [H, W]` to resize them")
    return np.stack(images), np.asarray(targets)


def read_torchvision(name: str, root: str | os.PathLike, *, download: bool = False,
                     kwargs: Mapping[str, Any] | None = None, size: Sequence[int] | None = None,
                     classes: int | None = None) -> Arrays:
    """Any ``torchvision.datasets`` class by name (both splits), read from ``root`` or downloaded into it.

    ``kwargs`` go to the class (e.g. ``{"split": "balanced"}`` for EMNIST); ``size`` resizes every image;
    ``classes`` K defaults to the length of the data set's ``classes`` list, else the largest label + 1.
    """
    import torchvision

    cls = getattr(torchvision.datasets, str(name), None)
    if not inspect.isclass(cls):
        raise DataError(f"torchvision.datasets has no data set class {name!r} (e.g. MNIST, KMNIST, CIFAR100, SVHN)")
    root = Path(root)
    where = f"torchvision.datasets.{name} in {os.path.abspath(root)}"
    splits = []
    for train in (True, False):
        try:
            splits.append(_torchvision_split(cls, root, train, download, dict(kwargs or {})))
        except DataError:
            raise
        except Exception as err:  # files missing and no download, no network, bad kwargs
            hint = "" if download else " (set `download: true` where the machine has a network)"
            raise DataError(f"{where}: cannot load the {'train' if train else 'test'} split: "
                            f"{type(err).__name__}: {err}{hint}") from err
    (train_x, train_y), (test_x, test_y) = (_torchvision_arrays(s, size, where) for s in splits)
    if classes is None and isinstance(getattr(splits[0], "classes", None), Sequence):
        classes = len(splits[0].classes) or None
    return check_arrays(train_x, train_y, test_x, test_y, where=where, num_classes=classes,
                        names=("train images", "train labels", "test images", "test labels"))
