"""Which tensors are layers, and of which kind: the one place that classifies a named tensor.

A model given as a ``state_dict`` or a weights file has no architecture, so a tensor is classified
from its name, shape and dtype alone (:func:`classify`). Floating tensors (:data:`WEIGHT_DTYPES`) are
weights; integer and boolean tensors (:data:`BUFFER_DTYPES`) are buffers, listed and never analysed.
A weight whose name ends in ``weight`` is a layer when it has 2 dimensions (a matrix: ``Linear``, and
GPT-2's transposed ``Conv1D``, which has the same singular values), 3 (a ``Conv1d`` kernel) or 4 (a
``Conv2d`` kernel); 2-d embedding tables and language-model heads get ``kind = "embedding"`` (by name,
:data:`EMBEDDING_PATTERN`) so that tables can keep or drop them. Every other tensor is skipped with a
reason, never silently dropped. Names are matched after :func:`strip_wrapper_prefixes`. A checkpoint
whose names show that it is quantised (:data:`QUANTISED_PATTERN`) cannot be classified at all: the
weights readers (:mod:`rmtweights.weights`) refuse it.

Importing this module imports neither torch nor NumPy: the workflow classifies the tensors of a
weights file when it builds its job graph (:func:`rmtweights.weights.parts.plan_parts`), and
:mod:`rmtweights.layers` makes the layers it finds into matrices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "WEIGHT_DTYPES",
    "BUFFER_DTYPES",
    "KINDS",
    "EMBEDDING_PATTERN",
    "QUANTISED_PATTERN",
    "strip_wrapper_prefixes",
    "classify",
]

#: Dtypes of the tensors that are weights (analysed).
WEIGHT_DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16", "float64")
#: Dtypes of the tensors that are buffers (listed, never analysed).
BUFFER_DTYPES: tuple[str, ...] = ("int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "bool")

#: Values of the ``kind`` column: a linear layer's matrix, an embedding table or language-model head,
#: a 1-d or a 2-d convolution kernel.
KINDS: tuple[str, ...] = ("linear", "embedding", "conv1d", "conv")

#: Names of 2-d weights that are embedding tables or language-model heads (vocabulary x width):
#: ``*embed*`` (BERT ``word_embeddings``, LLaMA ``embed_tokens``), GPT-2 ``wte``/``wpe``, ``lm_head``,
#: T5 ``shared``, Meta LLaMA ``tok_embeddings`` and its head ``output`` (at the top level only).
EMBEDDING_PATTERN = re.compile(r"embed|(^|\.)(wte|wpe|lm_head|shared|tok_embeddings)\.weight$|^output\.weight$")

#: Tensor names that only quantised checkpoints have: GPTQ / AWQ packed weights (``qweight``,
#: ``qzeros``), bitsandbytes 8-bit (``SCB``) and 4-bit (``absmax``, ``quant_map``,
#: ``quant_state``) statistics. Their packed integer weights would otherwise pass as buffers and
#: the analysis would silently cover only the unquantised tensors.
QUANTISED_PATTERN = re.compile(r"(^|\.)(qweight|qzeros|SCB|absmax|quant_map)$|(^|\.)quant_state(\.|$)")

# prefixes that wrappers add to state_dict keys (torch.compile, DataParallel / DDP)
_WRAPPER_PREFIXES = ("_orig_mod.", "module.")


def strip_wrapper_prefixes(name: str) -> str:
    """``name`` without its ``_orig_mod.`` (``torch.compile``) and ``module.`` (``DataParallel``) prefixes."""
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix):], True
    return name


def classify(name: str, shape: Sequence[int], dtype: Any) -> tuple[str | None, str]:
    """Whether a named tensor of a state_dict or weights file is a layer, and of which kind.

    Returns ``(kind, "")`` for a layer (``"linear"``, ``"embedding"``, ``"conv1d"`` or ``"conv"``)
    and ``(None, reason)`` otherwise. Only floating tensors (:data:`WEIGHT_DTYPES`) whose name ends in
    ``weight`` with 2 (matrix), 3 (``Conv1d`` kernel) or 4 (``Conv2d`` kernel) dimensions are layers;
    2-d ones whose name matches :data:`EMBEDDING_PATTERN` are embeddings (GPT-2's transposed
    ``Conv1D`` weights are matrices like any other: same singular values). ``dtype`` is a torch
    dtype or its name; names are matched after :func:`strip_wrapper_prefixes`. No torch needed.
    """
    name = strip_wrapper_prefixes(name)
    dims = len(shape)
    dtype = str(dtype).replace("torch.", "")
    if dtype not in WEIGHT_DTYPES:
        return None, f"{dtype} buffer, not a floating-point weight"
    if dims <= 1:
        what = "scalar" if dims == 0 else "1-d tensor (a bias or a normalisation scale)"
        return None, f"{what}: not a matrix"
    if not name.endswith("weight"):
        return None, "not a weight (its name does not end in 'weight')"
    if dims == 2:
        return ("embedding" if EMBEDDING_PATTERN.search(name) else "linear"), ""
    if dims in (3, 4):
        return ("conv1d" if dims == 3 else "conv"), ""
    return None, f"{dims}-d tensor: no matrix reshape is defined"
