"""GGUF files for the tests, written with the ``gguf`` package's own writer (as llama.cpp's converters do)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, quants


def write_gguf(path: Path, tensors: Mapping[str, tuple[np.ndarray, str]], name: str = "test model") -> Path:
    """A GGUF file holding ``tensors`` (name -> (array, GGML type name)), in that order.

    Plain types (F32, F16, F64, I32, ...) store the array as it is; BF16 and Q8_0 are encoded with
    ``gguf.quants.quantize``; ``Q4_K`` (which the package can decode but not encode) takes the array as
    its raw blocks (uint8, ``rows x cols / 256 * 144``).
    """
    writer = GGUFWriter(str(path), arch="llama")
    writer.add_name(name)
    for key, (array, kind) in tensors.items():
        qtype = GGMLQuantizationType[kind]
        if kind in ("F32", "F16", "F64", "I8", "I16", "I32", "I64"):
            writer.add_tensor(key, array)
        elif kind == "Q4_K":  # the writer takes the blocks' byte shape and derives the logical one
            writer.add_tensor(key, array, raw_dtype=qtype)
        else:
            writer.add_tensor(key, quants.quantize(array.astype(np.float32), qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def q4_k_blocks(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """Random but valid Q4_K blocks for a ``rows x cols`` tensor (finite scales d = 0.01, dmin = 0.005)."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, size=(rows, cols // 256 * 144), dtype=np.uint8)
    blocks = raw.reshape(rows, -1, 144)
    blocks[:, :, 0:2] = np.frombuffer(np.float16(0.01).tobytes(), np.uint8)
    blocks[:, :, 2:4] = np.frombuffer(np.float16(0.005).tobytes(), np.uint8)
    return raw
