"""Disk I/O: Parquet tables and torch checkpoints, always written atomically.

With :mod:`rmtweights.weights` (which reads weights files), the only module of the library that touches
disk (``docs/architecture.md``, "Data contracts"): a write goes to
a temporary file in the target's folder and is renamed over the target, so a killed job never leaves
a half-written output behind. Checkpoints load with ``weights_only=True``; a corrupt or truncated
file raises :class:`CheckpointError` naming the file. Study tables (Parquet, CSV and a Markdown view) are
written by :func:`rmtweights.table_files.write_table`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "CheckpointError",
    "atomic_path",
    "write_parquet",
    "read_parquet",
    "read_parquets",
    "save_checkpoint",
    "load_checkpoint",
    "save_figure",
]


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated or not a checkpoint written by rmtweights."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file lives in the same folder (same filesystem), so ``os.replace`` is atomic.
    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` to ``path`` as Parquet (pyarrow), atomically, without the index."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, engine="pyarrow", index=False)


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a Parquet table written by :func:`write_parquet`."""
    return pd.read_parquet(path, engine="pyarrow")


def read_parquets(paths) -> pd.DataFrame:
    """The concatenation of several Parquet tables (an empty frame for no paths)."""
    frames = [read_parquet(path) for path in paths]
    frames = [frame for frame in frames if len(frame.columns)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Save a checkpoint dict (tensors, numbers, strings, lists, dicts) atomically with torch.save."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; raise :class:`CheckpointError` naming the file."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError, zipfile errors
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(err).__name__}: {err}); "
            "delete it and rerun the training rule"
        ) from err
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, not a dict")
    return state


def save_figure(fig, png: str | os.PathLike, pdf: str | os.PathLike | None = None) -> None:
    """Write a matplotlib figure as PNG (150 dpi) and optionally PDF, atomically; then close it."""
    import matplotlib.pyplot as plt

    with atomic_path(png, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    if pdf is not None:
        with atomic_path(pdf, suffix=".pdf") as tmp:
            fig.savefig(tmp, format="pdf")
    plt.close(fig)
