"""What every weights reader shares: the error, the tensor entry, the dtype and quantisation checks.

Every bad input raises :class:`WeightsError`, which names the file (and the tensor) and says what to
do. A tensor of a dtype that is neither a weight nor a buffer (float8, float4, complex, quantised), or
of a checkpoint whose names show that it is quantised (:data:`rmtweights.tensors.QUANTISED_PATTERN`),
is an error (:func:`tensor_problem`): such checkpoints must be dequantised first (GGUF files and int8
weights stored with their scales are dequantised by rmtweights: :mod:`~rmtweights.weights.gguf_file`,
:mod:`~rmtweights.weights.int8`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rmtweights.tensors import BUFFER_DTYPES, QUANTISED_PATTERN, WEIGHT_DTYPES

__all__ = ["WeightsError", "TensorEntry", "tensor_problem", "check_tensor", "shown"]

_SHOW = 5  # names shown in an error message


class WeightsError(ValueError):
    """A weights file, index, folder, tensor name or name pattern that cannot be used as given."""


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a weights file, described without reading its data.

    Attributes
    ----------
    name : str
        Tensor name, ``_orig_mod.`` / ``module.`` wrapper prefixes stripped.
    shape : tuple of int
        Its shape.
    dtype : str
        torch's name of its dtype: one of :data:`~rmtweights.tensors.WEIGHT_DTYPES` or
        :data:`~rmtweights.tensors.BUFFER_DTYPES`.
    file : str
        The file (shard) it is stored in.
    quantisation : str
        How it is stored when that is not ``dtype`` (the dtype it loads as): a GGUF type (``Q8_0``,
        ``F16``, ...) or ``int8+scale`` (:mod:`rmtweights.weights.int8`); "" otherwise.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    file: str
    quantisation: str = ""

    @property
    def is_weight(self) -> bool:
        """True for a floating tensor (:data:`~rmtweights.tensors.WEIGHT_DTYPES`), False for a buffer."""
        return self.dtype in WEIGHT_DTYPES


def shown(names: Sequence[str]) -> str:
    """The first few names, for an error message."""
    more = f", ... ({len(names)} in all)" if len(names) > _SHOW else ""
    return ", ".join(repr(n) for n in names[:_SHOW]) + more


def tensor_problem(path: Path, key: str, dtype: str) -> WeightsError | None:
    """The error for a tensor of unsupported dtype or of a quantised checkpoint; ``None`` if it is fine."""
    if dtype not in WEIGHT_DTYPES and dtype not in BUFFER_DTYPES:
        return WeightsError(
            f"tensor {key!r} of {path} has dtype {dtype}, which rmtweights does not read (weights: "
            f"{', '.join(WEIGHT_DTYPES)}; buffers: integer and bool); quantised checkpoints must be "
            "dequantised first (e.g. saved again in float16 or bfloat16)"
        )
    if QUANTISED_PATTERN.search(key):
        return WeightsError(
            f"tensor {key!r} of {path} belongs to a quantised checkpoint (GPTQ, AWQ or bitsandbytes 4-bit); "
            "quantised checkpoints must be dequantised first (e.g. saved again in float16 or bfloat16)"
        )
    return None


def check_tensor(path: Path, key: str, dtype: str) -> None:
    """Raise :func:`tensor_problem`'s error, if any."""
    problem = tensor_problem(path, key, dtype)
    if problem is not None:
        raise problem
