"""Tests of rmtweights.data: IDX and CIFAR parsing, normalisation, synthetic data, mini-batches."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from rmtweights import data
from rmtweights.data import (
    DATASETS,
    DatasetNotFoundError,
    iterate_minibatches,
    load_dataset,
    make_synthetic,
    read_cifar10_batches,
    read_idx,
)

# float32 rounding of values of order 1 summed in float32 by torch.mean over <= 1e6 entries:
# a mean of |.| ~ 1e-6, a std within ~1e-5 of 1; 1e-4 leaves room.
F32_TOL = 1e-4


# ---------------------------------------------------------------------------------------------
# helpers writing tiny files in the official formats
# ---------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """IDX encoding: 0, 0, type code, ndim, big-endian uint32 dims, big-endian data."""
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[code]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.asarray(array, dtype=dtype).tobytes()


def write_idx_dir(folder: Path, rng: np.random.Generator, *, gz: bool, n_train=12, n_test=5, h=4, w=3):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, h, w), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, h, w), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for stem, array in arrays.items():
        raw = idx_bytes(array)
        if gz:
            with gzip.open(folder / f"{stem}.gz", "wb") as fh:
                fh.write(raw)
        else:
            (folder / stem).write_bytes(raw)
    return arrays


def write_cifar_dir(folder: Path, rng: np.random.Generator, per_batch=3, n_test=4):
    """Batches like the official python version: Python-2 style dicts with bytes keys."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = {}
    for fname, n in [*((f"data_batch_{i}", per_batch) for i in range(1, 6)), ("test_batch", n_test)]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, n)], b"batch_label": fname.encode()}
        with (folder / fname).open("wb") as fh:
            pickle.dump(batch, fh, protocol=2)
        rows[fname] = batch
    return rows


# ---------------------------------------------------------------------------------------------
# IDX
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_roundtrip(tmp_path, gz):
    rng = np.random.default_rng(0)
    arrays = write_idx_dir(tmp_path, rng, gz=gz)
    for stem, array in arrays.items():
        got = read_idx(tmp_path / (f"{stem}.gz" if gz else stem))
        assert got.dtype == np.uint8 and got.shape == array.shape
        np.testing.assert_array_equal(got, array)


def test_read_idx_other_types_and_errors(tmp_path):
    a = np.arange(-6, 6, dtype=np.int16).reshape(3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(a, 0x0B))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)
    f = np.linspace(-1, 1, 6, dtype=np.float32)
    (tmp_path / "f.idx").write_bytes(idx_bytes(f, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), f)
    (tmp_path / "bad").write_bytes(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(a, 0x0B)[:-2])
    with pytest.raises(ValueError, match="promises"):
        read_idx(tmp_path / "short")


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_dataset_from_data_dir(tmp_path, gz):
    arrays = write_idx_dir(tmp_path, np.random.default_rng(1), gz=gz)
    ds = load_dataset("mnist", tmp_path, normalize="none")
    assert ds.input_shape == (1, 4, 3) and ds.num_classes == 10 and ds.name == "mnist"
    assert ds.train_x.shape == (12, 1, 4, 3) and ds.test_x.shape == (5, 1, 4, 3)
    assert ds.train_x.dtype == torch.float32 and ds.train_y.dtype == torch.int64
    # normalize="none" is pixel / 255, exactly representable comparisons in float32
    np.testing.assert_allclose(ds.train_x[:, 0].numpy(), arrays["train-images-idx3-ubyte"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.test_y.numpy(), arrays["t10k-labels-idx1-ubyte"])
    assert ds.source == f"idx:{tmp_path}"


def test_torchvision_folder_layout_is_found(tmp_path):
    write_idx_dir(tmp_path / "FashionMNIST" / "raw", np.random.default_rng(2), gz=False)
    ds = load_dataset("fashion_mnist", tmp_path)
    assert ds.source == f"idx:{tmp_path / 'FashionMNIST' / 'raw'}"


# ---------------------------------------------------------------------------------------------
# CIFAR-10
# ---------------------------------------------------------------------------------------------


def test_cifar_batches_pixel_layout(tmp_path):
    rows = write_cifar_dir(tmp_path / "cifar-10-batches-py", np.random.default_rng(3))
    train_x, train_y, test_x, test_y = read_cifar10_batches(tmp_path / "cifar-10-batches-py")
    assert train_x.shape == (15, 3, 32, 32) and test_x.shape == (4, 3, 32, 32)
    # a row holds 1024 red, then 1024 green, then 1024 blue values, each image row-major
    row = rows["data_batch_2"][b"data"][1]
    image = train_x[3 + 1]
    for c, i, j in [(0, 0, 0), (1, 5, 7), (2, 31, 30), (0, 31, 0)]:
        assert image[c, i, j] == row[c * 1024 + i * 32 + j]
    np.testing.assert_array_equal(test_y, rows["test_batch"][b"labels"])
    ds = load_dataset("cifar10", tmp_path)  # finds the cifar-10-batches-py subfolder
    assert ds.input_shape == (3, 32, 32) and ds.train_x.shape == (15, 3, 32, 32)
    assert len(ds.mean) == 3 and len(ds.std) == 3


# ---------------------------------------------------------------------------------------------
# normalisation
# ---------------------------------------------------------------------------------------------


def test_channel_normalisation_uses_training_statistics(tmp_path):
    write_cifar_dir(tmp_path, np.random.default_rng(4), per_batch=40)
    ds = load_dataset("cifar10", tmp_path)
    x = ds.train_x.double()
    np.testing.assert_allclose(x.mean(dim=(0, 2, 3)).numpy(), 0.0, atol=F32_TOL)
    np.testing.assert_allclose(x.std(dim=(0, 2, 3), correction=0).numpy(), 1.0, atol=F32_TOL)
    # the stored statistics are those of the raw training pixels (exact histogram computation)
    raw, _, raw_test, _ = read_cifar10_batches(tmp_path)
    np.testing.assert_allclose(ds.mean, raw.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(ds.std, raw.std(axis=(0, 2, 3)), rtol=1e-12)
    # the test split is transformed with the training statistics, not its own
    expected = (raw_test - np.array(ds.mean)[:, None, None]) / np.array(ds.std)[:, None, None]
    np.testing.assert_allclose(ds.test_x.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_per_image_standardisation_and_flatten():
    ds = load_dataset("synthetic", synthetic={"n_train": 64, "n_test": 16, "channels": 3, "size": 8},
                      normalize="image", flatten=True)
    assert ds.train_x.shape == (64, 3 * 8 * 8) and ds.input_shape == (3, 8, 8)
    np.testing.assert_allclose(ds.train_x.mean(dim=1).numpy(), 0.0, atol=F32_TOL)
    np.testing.assert_allclose(ds.train_x.std(dim=1, correction=0).numpy(), 1.0, atol=F32_TOL)


# ---------------------------------------------------------------------------------------------
# synthetic data
# ---------------------------------------------------------------------------------------------


def test_synthetic_is_seeded_and_normalised():
    cfg = {"n_train": 300, "n_test": 100, "channels": 3, "size": 32, "classes": 10}
    a = load_dataset("synthetic", synthetic=cfg, seed=5)
    b = load_dataset("synthetic", synthetic=cfg, seed=5)
    c = load_dataset("synthetic", synthetic=cfg, seed=6)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert not torch.equal(a.train_x, c.train_x)
    assert a.train_x.shape == (300, 3, 32, 32) and a.input_shape == (3, 32, 32) and a.num_classes == 10
    np.testing.assert_allclose(a.train_x.double().mean(dim=(0, 2, 3)).numpy(), 0.0, atol=F32_TOL)
    np.testing.assert_allclose(a.train_x.double().std(dim=(0, 2, 3), correction=0).numpy(), 1.0, atol=F32_TOL)
    # balanced labels: 300 = 30 per class
    assert torch.bincount(a.train_y, minlength=10).tolist() == [30] * 10


def test_synthetic_is_learnable():
    # Nearest class mean (fitted on train) must be far above chance (0.1) on test: the classes are
    # separable templates plus unit noise (signal 0.5, 784 pixels => template distance ~ 20 noise sd).
    train_x, train_y, test_x, test_y = make_synthetic({"n_train": 500, "n_test": 200}, seed=0)
    means = np.stack([train_x[train_y == k].reshape(-1, 784).mean(0) for k in range(10)])
    d2 = ((test_x.reshape(-1, 1, 784) - means[None]) ** 2).sum(-1)
    accuracy = (d2.argmin(1) == test_y).mean()
    assert accuracy > 0.9


def test_synthetic_config_is_ignored_for_real_data(tmp_path):
    write_idx_dir(tmp_path, np.random.default_rng(8), gz=False)
    ds = load_dataset("mnist", tmp_path, synthetic={"n_train": 3, "channels": 3})
    assert ds.source.startswith("idx:") and ds.train_x.shape == (12, 1, 4, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown data set"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="unknown synthetic"):
        load_dataset("synthetic", synthetic={"pixels": 3})
    with pytest.raises(ValueError, match="download=True needs a data_dir"):
        load_dataset("mnist", download=True)
    with pytest.raises(ValueError, match="normalize"):
        load_dataset("synthetic", normalize="minmax")
    assert DATASETS == ("mnist", "fashion_mnist", "cifar10", "synthetic", "npz", "imagefolder", "torchvision")


# ---------------------------------------------------------------------------------------------
# missing data
# ---------------------------------------------------------------------------------------------


def test_missing_dataset_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion_mnist", tmp_path / "empty")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for place in (tmp_path / "empty", tmp_path / "empty" / "FashionMNIST" / "raw", tmp_path / "no-debian"):
        assert str(place) in message
    for hint in ("data_dir", "download: true", "apt-get install dataset-fashion-mnist"):
        assert hint in message
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        load_dataset("cifar10", tmp_path)
    with pytest.raises(DatasetNotFoundError, match="no data_dir given"):
        load_dataset("mnist")


def test_download_fills_data_dir_in_torchvision_layout(tmp_path, monkeypatch):
    # no network in tests: a stand-in for torchvision writes the files where torchvision would
    def fake_download(name, root):
        assert name == "mnist" and root == tmp_path
        write_idx_dir(root / "MNIST" / "raw", np.random.default_rng(9), gz=True)

    monkeypatch.setattr(data, "_download", fake_download)
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist", tmp_path)  # download defaults to False
    ds = load_dataset("mnist", tmp_path, download=True)
    assert ds.source == f"idx:{tmp_path / 'MNIST' / 'raw'}"


def test_failed_download_is_dataset_not_found(tmp_path, monkeypatch):
    def offline(name, root):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_download", offline)
    with pytest.raises(DatasetNotFoundError, match="download failed: OSError: network unreachable"):
        load_dataset("cifar10", tmp_path, download=True)


# ---------------------------------------------------------------------------------------------
# mini-batches
# ---------------------------------------------------------------------------------------------


def test_iterate_minibatches_permutes_and_is_seeded():
    x = torch.arange(23.0).reshape(23, 1)
    y = torch.arange(23)
    batches = list(iterate_minibatches(x, y, 5, shuffle=True, generator=torch.Generator().manual_seed(1)))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    assert all(torch.equal(bx[:, 0].long(), by) for bx, by in batches)  # rows stay paired
    again = torch.cat([b[1] for b in iterate_minibatches(x, y, 5, shuffle=True,
                                                         generator=torch.Generator().manual_seed(1))])
    assert torch.equal(seen, again)
    ordered = list(iterate_minibatches(x, y, 5, shuffle=False, drop_last=True))
    assert torch.equal(torch.cat([b[1] for b in ordered]), torch.arange(20))
    with pytest.raises(ValueError, match="Generator"):
        next(iterate_minibatches(x, y, 5, shuffle=True))


# ---------------------------------------------------------------------------------------------
# the real Fashion-MNIST (Debian package dataset-fashion-mnist)
# ---------------------------------------------------------------------------------------------


@pytest.mark.fashion_mnist
def test_fashion_mnist_from_debian_package(fashion_mnist_dir):
    ds = load_dataset("fashion_mnist")  # no data_dir: the Debian location is found automatically
    assert ds.source == f"idx:{fashion_mnist_dir}"
    assert ds.train_x.shape == (60000, 1, 28, 28) and ds.test_x.shape == (10000, 1, 28, 28)
    assert ds.input_shape == (1, 28, 28) and ds.num_classes == 10
    # Fashion-MNIST is balanced: 6000 training and 1000 test images per class (Xiao et al., 2017)
    assert torch.bincount(ds.train_y, minlength=10).tolist() == [6000] * 10
    assert torch.bincount(ds.test_y, minlength=10).tolist() == [1000] * 10
    # the widely quoted Fashion-MNIST training statistics on [0, 1] pixels: mean 0.2860, std 0.3530
    # (4 decimals, so 1e-4 plus rounding)
    assert ds.mean[0] / 255 == pytest.approx(0.2860, abs=1.5e-4)
    assert ds.std[0] / 255 == pytest.approx(0.3530, abs=1.5e-4)
    # spot check of the transform on the first image (raw pixels re-read from the package file)
    raw = read_idx(next(fashion_mnist_dir.glob("train-images-idx3-ubyte*")))[0].astype(np.float64)
    np.testing.assert_allclose(ds.train_x[0, 0].numpy(), (raw - ds.mean[0]) / ds.std[0], rtol=1e-5, atol=1e-5)
