"""Reading a ``.safetensors`` file: its header without torch, one tensor at a time.

The file is read with the safetensors library's ``safe_open``. Its header (names, shapes, dtypes, byte
offsets) is read and checked against the file size when the file is opened, so a truncated file fails
before any analysis. Tensors are read with the ``pread`` backend: each load copies one tensor's bytes
into fresh memory and nothing of the file stays mapped, whereas with a memory map every page read so
far stays in the process's resident set for as long as the file is open. Listing a file's tensors
(:func:`safetensors_tensors`) does not import torch.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError, safe_open

from rmtweights.weights.common import WeightsError, check_tensor, tensor_problem

__all__ = ["open_safetensors", "safetensors_tensors"]

# safetensors dtype codes that rmtweights reads, and their torch names
_SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}


def _safetensors_problem(path: Path, err: Exception) -> WeightsError:
    """A :class:`WeightsError` for a safetensors file that ``safe_open`` rejected.

    The library's messages do not name the tensor at fault, so the header (8-byte little-endian
    length, then JSON) is read here to find it: a tensor of unknown dtype, or the first tensor
    whose data ends past the end of the file.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        length = int.from_bytes(fh.read(8), "little")
        raw = fh.read(length)
    if len(raw) < length:
        return WeightsError(
            f"safetensors file {path} is truncated: its header alone is {length} bytes and the file "
            f"{size} bytes; download it again"
        )
    try:
        header = json.loads(raw)
        tensors = [(k, v) for k, v in header.items() if k != "__metadata__"]
        data = size - 8 - length
        beyond = sorted((v["data_offsets"][1], k) for k, v in tensors if v["data_offsets"][1] > data)
        unknown = [(k, str(v["dtype"])) for k, v in tensors if v["dtype"] not in _SAFETENSORS_DTYPES]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):  # not the JSON layout of a header
        return WeightsError(f"safetensors file {path} has a malformed header ({err}); download it again")
    if beyond:
        end, key = beyond[0]
        return WeightsError(
            f"safetensors file {path} is truncated: tensor {key!r} ends at byte {end} of the data but "
            f"the file holds {data} bytes of data; download it again"
        )
    if unknown:
        return tensor_problem(path, *unknown[0])
    return WeightsError(f"safetensors file {path} is corrupt ({err}); download it again")


def open_safetensors(path: Path, framework: str = "pt"):
    """``safe_open`` with the ``pread`` backend (nothing stays mapped); errors as :class:`WeightsError`.

    ``framework="numpy"`` reads the header without importing torch (its tensors are not loaded).
    """
    try:
        return safe_open(path, framework=framework, backend="pread")
    except SafetensorError as err:
        raise _safetensors_problem(path, err) from err


def safetensors_tensors(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """``(stored name, shape, dtype)`` of every tensor, in file (offset) order; no data read."""
    handle = open_safetensors(path, framework="numpy")
    out = []
    for key in handle.offset_keys():
        view = handle.get_slice(key)
        code = view.get_dtype()
        dtype = _SAFETENSORS_DTYPES.get(code, code)
        check_tensor(path, key, dtype)
        out.append((key, tuple(int(s) for s in view.get_shape()), dtype))
    if not out:
        raise WeightsError(f"safetensors file {path} holds no tensors; pass a checkpoint with weights")
    return out
