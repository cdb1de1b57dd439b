"""Reading a sharded checkpoint's index: a Hugging Face ``*.index.json`` and the shards it names.

The index is ``{"metadata": ..., "weight_map": {tensor: shard}}``, as in
``model.safetensors.index.json`` and ``pytorch_model.bin.index.json``; shards are looked up beside the
index. The shards themselves are read by the readers of their format
(:mod:`rmtweights.weights.safetensors_file`, :mod:`rmtweights.weights.torch_file`).
"""

from __future__ import annotations

import json
from pathlib import Path

from rmtweights.weights.common import WeightsError, shown

__all__ = ["INDEX_SUFFIX", "read_weight_map", "index_shards"]

INDEX_SUFFIX = ".index.json"


def read_weight_map(index: Path) -> dict[str, str]:
    """The ``weight_map`` of a Hugging Face ``*.index.json``, checked."""
    try:
        content = json.loads(index.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise WeightsError(f"index {index} is not a readable JSON file ({err}); download it again") from err
    weight_map = content.get("weight_map") if isinstance(content, dict) else None
    if not isinstance(weight_map, dict) or not weight_map or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()):
        raise WeightsError(
            f"index {index} has no 'weight_map' mapping tensor names to shard files; pass a Hugging Face "
            "*.index.json (model.safetensors.index.json, pytorch_model.bin.index.json) or a weights file"
        )
    return weight_map


def index_shards(index: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """An index's ``weight_map`` and its shards (each with its tensors, both in index order), all present."""
    weight_map = read_weight_map(index)
    shards: dict[str, list[str]] = {}
    for key, shard in weight_map.items():
        shards.setdefault(shard, []).append(key)
    missing = [s for s in shards if not (index.parent / s).is_file()]
    if missing:
        raise WeightsError(
            f"index {index} names shard file(s) {shown(missing)} that are missing from {index.parent}; "
            "download them"
        )
    return weight_map, shards
