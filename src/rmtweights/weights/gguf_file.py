"""Reading a GGUF file (llama.cpp's format): its header with the ``gguf`` package, one tensor at a time.

The header (metadata, tensor names, shapes, types and offsets) is parsed by ``gguf.GGUFReader`` when
the file is opened, and the reader is dropped at once: it memory-maps the whole file, and every page
read through a map stays in the process's resident set. A tensor is then read with one positioned
read of its bytes into fresh memory (:func:`read_gguf_tensor`), as the safetensors reader does, and
decoded:

* ``F32``, ``F16``, ``BF16``, ``F64`` and the integer types keep their dtype;
* the quantised types that ``gguf.quants`` can dequantise (``Q8_0``, ``Q4_0`` ... ``Q5_1``, the
  k-quants ``Q2_K`` ... ``Q6_K``, and more) become float32, and the entry's ``quantisation`` names
  the type (``Q8_0``), so that every table says which weights were quantised and how;
* a type it cannot dequantise is refused when the file is opened, naming the tensor.

GGUF lists a tensor's dimensions innermost first (ggml's ``ne``); they are reversed here, so a
``Linear`` weight has torch's ``out x in`` shape, as the converters that write GGUF intend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rmtweights.weights.common import WeightsError

if TYPE_CHECKING:
    import torch

__all__ = ["GGUF_MAGIC", "GGUFTensor", "gguf_tensors", "read_gguf_tensor"]

#: The first four bytes of every GGUF file.
GGUF_MAGIC = b"GGUF"

# GGML types stored as plain numbers: their dtype (torch's name)
_PLAIN = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64",
          "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64"}
# metadata keys shown in reports (strings only)
_METADATA = ("general.architecture", "general.name", "general.basename", "general.size_label",
             "general.quantized_by", "general.file_type")


@dataclass(frozen=True)
class GGUFTensor:
    """Where one tensor of a GGUF file lies and how it is stored."""

    name: str
    shape: tuple[int, ...]  # torch order (outermost first)
    dtype: str  # torch's name of the loaded tensor's dtype
    quantisation: str  # the GGML type name (F32, F16, Q8_0, Q4_K, ...)
    offset: int  # absolute byte offset in the file
    n_bytes: int


def _dequantisable() -> set[str]:
    from gguf import quants

    return {qtype.name for qtype in quants._type_traits} | {"F32", "F16"}


def gguf_tensors(path: Path) -> tuple[list[GGUFTensor], dict[str, str]]:
    """Every tensor of a GGUF file (in file order) and its string metadata; no tensor data is read.

    Raises :class:`~rmtweights.weights.common.WeightsError` for a file that is not a readable GGUF
    file (truncated, another byte order) or that holds a tensor of a type that cannot be dequantised.
    """
    from gguf import GGUFReader, GGUFValueType

    try:
        reader = GGUFReader(path)
    except Exception as err:  # the reader raises ValueError, IndexError, ... for damaged headers
        raise WeightsError(f"GGUF file {path} cannot be read, it is truncated or corrupt ({type(err).__name__}: "
                           f"{err}); download it again") from err
    try:
        if reader.byte_order != "I":
            raise WeightsError(f"GGUF file {path} is in the other byte order than this machine's; convert it first")
        size = path.stat().st_size
        dequantisable = _dequantisable()
        tensors = []
        for t in reader.tensors:
            qtype = t.tensor_type.name
            name = str(t.name)
            if qtype not in _PLAIN and qtype not in dequantisable:
                raise WeightsError(
                    f"tensor {name!r} of {path} is stored as {qtype}, which the gguf package cannot dequantise; "
                    "convert the model to another type (F16, BF16, Q8_0 or a k-quant)")
            if t.data_offset + t.n_bytes > size:
                raise WeightsError(f"GGUF file {path} is truncated: tensor {name!r} ends past the end of the file; "
                                   "download it again")
            tensors.append(GGUFTensor(name=name, shape=tuple(int(s) for s in reversed(t.shape.tolist())),
                                      dtype=_PLAIN.get(qtype, "float32"), quantisation=qtype,
                                      offset=int(t.data_offset), n_bytes=int(t.n_bytes)))
        metadata = {}
        for key in _METADATA:
            field = reader.fields.get(key)
            if field is not None and field.types and field.types[0] == GGUFValueType.STRING:
                metadata[key] = str(field.contents())
        if not tensors:
            raise WeightsError(f"GGUF file {path} holds no tensors; pass a model file")
        return tensors, metadata
    finally:
        del reader  # drop the map of the whole file: tensors are read one by one with pread


def read_gguf_tensor(path: Path, tensor: GGUFTensor) -> torch.Tensor:
    """One tensor's bytes read into fresh memory and decoded (plain types keep their dtype; quantised
    ones are dequantised to float32 with ``gguf.quants.dequantize``)."""
    import numpy as np
    import torch

    data = bytearray(tensor.n_bytes)
    with open(path, "rb") as fh:
        got = os.preadv(fh.fileno(), [data], tensor.offset)
    if got != tensor.n_bytes:
        raise WeightsError(f"tensor {tensor.name!r} of {path} could not be read in full (the file changed since "
                           "it was opened: open it again)")
    if tensor.quantisation in _PLAIN:
        dtype = getattr(torch, tensor.dtype)
        return torch.frombuffer(data, dtype=dtype).reshape(tensor.shape)
    from gguf import GGMLQuantizationType, quants

    qtype = GGMLQuantizationType[tensor.quantisation]
    raw = np.frombuffer(data, dtype=np.uint8).reshape(quants.quant_shape_to_byte_shape(tensor.shape, qtype))
    return torch.from_numpy(np.ascontiguousarray(quants.dequantize(raw, qtype), dtype=np.float32))

