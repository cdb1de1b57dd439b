"""int8 weights stored with their scales: found by name, dequantised on loading.

Two layouts are recognised, for a weight ``<prefix>weight`` of dtype int8 with at least 2 dimensions:

``<prefix>weight_scale`` (and optionally ``<prefix>weight_zero_point``)
    compressed-tensors / llm-compressor "W8A8" checkpoints: :math:`W = (Q - z)\\,s`, the scale per
    tensor (a scalar), per output channel (``(out,)`` or ``(out, 1)``) or per group of columns
    (``(out, in / g)``: each scale covers ``g`` consecutive inputs);
``<prefix>SCB``
    bitsandbytes' LLM.int8 (``Linear8bitLt``): row-wise absolute maxima, :math:`W = Q\\,\\mathrm{SCB} / 127`.

The dequantised weight is float32 and its entry says ``quantisation = "int8+scale"``. An int8 weight
with neither is refused (:class:`~rmtweights.weights.common.WeightsError` naming the tensor): its
scale is not in the file, so its singular values are only known up to a factor per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rmtweights.weights.common import TensorEntry, WeightsError

if TYPE_CHECKING:
    import torch

__all__ = ["QUANTISATION", "Int8Scale", "find_int8_scales", "dequantise_int8"]

#: The ``quantisation`` of a dequantised int8 weight.
QUANTISATION = "int8+scale"


@dataclass(frozen=True)
class Int8Scale:
    """The tensors that dequantise one int8 weight."""

    scale: str
    zero_point: str | None = None
    layout: str = "weight_scale"  # or "SCB"


def _is_int8_weight(entry: TensorEntry) -> bool:
    return entry.dtype == "int8" and len(entry.shape) >= 2 and entry.name.endswith("weight")


def find_int8_scales(entries: Sequence[TensorEntry], where: str) -> tuple[list[TensorEntry], dict[str, Int8Scale]]:
    """The entries with each scaled int8 weight made a float32 entry, and how to dequantise each.

    Raises :class:`WeightsError` naming the first int8 weight of ``where`` (a file) without a scale.
    """
    names = {entry.name for entry in entries}
    scales: dict[str, Int8Scale] = {}
    out = []
    for entry in entries:
        if not _is_int8_weight(entry):
            out.append(entry)
            continue
        prefix = entry.name[: -len("weight")]
        if f"{entry.name}_scale" in names:
            zero = f"{entry.name}_zero_point"
            scales[entry.name] = Int8Scale(f"{entry.name}_scale", zero if zero in names else None)
        elif f"{prefix}SCB" in names:
            scales[entry.name] = Int8Scale(f"{prefix}SCB", layout="SCB")
        else:
            raise WeightsError(
                f"tensor {entry.name!r} of {where} is an int8 weight without its scale (no "
                f"{entry.name + '_scale'!r} or {prefix + 'SCB'!r} in the file), so its values are not known; "
                "pass the checkpoint with its scales, or dequantise it first (e.g. save it in float16 or bfloat16)")
        out.append(replace(entry, dtype="float32", quantisation=QUANTISATION))
    return out, scales


def dequantise_int8(name: str, scale: Int8Scale, load: Callable[[str], torch.Tensor]) -> torch.Tensor:
    """The float32 weight ``name``, from its int8 values and ``scale``'s tensors (module docstring)."""
    import torch

    q = load(name).to(torch.float32)
    s = load(scale.scale).to(torch.float32)
    if scale.layout == "SCB":
        return q * (s.reshape(-1, *([1] * (q.ndim - 1))) / 127.0)  # LLM.int8: row-wise absmax / 127
    if scale.zero_point is not None:
        zero = load(scale.zero_point).to(torch.float32)
        q = q - _expand_groups(zero.reshape(_broadcast_shape(zero, q, name)), q, name)
    return q * _expand_groups(s.reshape(_broadcast_shape(s, q, name)), q, name)


def _broadcast_shape(s: torch.Tensor, q: torch.Tensor, name: str) -> tuple[int, ...]:
    """The scale's shape made to broadcast against the weight (scalar, per row, per group)."""
    if s.numel() == 1:
        return (1,) * q.ndim
    if s.ndim == 1 and s.shape[0] == q.shape[0]:
        return (q.shape[0],) + (1,) * (q.ndim - 1)
    if s.ndim == q.ndim and s.shape[0] == q.shape[0]:
        return tuple(s.shape)
    raise WeightsError(f"the scale of int8 weight {name!r} has shape {tuple(s.shape)}, which does not fit the "
                       f"weight's {tuple(q.shape)} (expected a scalar, one per row, or one per group of columns)")


def _expand_groups(s: torch.Tensor, q: torch.Tensor, name: str) -> torch.Tensor:
    """Per-group scales ``(out, in / g)`` repeated over their ``g`` columns."""
    if s.ndim < 2 or s.shape[1] in (1, q.shape[1]):
        return s
    if q.shape[1] % s.shape[1]:
        raise WeightsError(f"the scale of int8 weight {name!r} has {s.shape[1]} groups, which do not divide its "
                           f"{q.shape[1]} columns")
    return s.repeat_interleave(q.shape[1] // s.shape[1], dim=1)
