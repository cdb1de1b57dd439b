"""Shared pytest fixtures (kept minimal and generic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rmtweights.data import DEBIAN_FASHION_MNIST_DIR

_FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """The folder of Debian's ``dataset-fashion-mnist`` IDX files; skips (with the reason) if absent."""
    folder = DEBIAN_FASHION_MNIST_DIR
    missing = [f for f in _FASHION_FILES
               if not ((folder / f).is_file() or (folder / f"{f}.gz").is_file())]
    if missing:
        pytest.skip(f"Fashion-MNIST IDX files missing in {folder} ({', '.join(missing)}); "
                    "install them with `apt-get install dataset-fashion-mnist` (root), or let `make test` do it: "
                    "RMTW_INSTALL_SYSTEM_PACKAGES=1 (or CI=true)")
    return folder


@pytest.fixture
def one_thread():
    """torch on one thread for the simulations: multithreaded BLAS oversubscribes a shared 2-core
    machine and is ~10x slower."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
