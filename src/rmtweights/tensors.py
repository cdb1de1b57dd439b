"""Which tensors are layers, and of which kind: the one place that classifies a named tensor.

A model given as a ``state_dict`` or a weights file has no architecture, so a tensor is classified
from its name, shape and dtype alone (:func:`classify`), and cut into the matrices that are analysed
(:func:`plan_tensors`). Floating tensors (:data:`WEIGHT_DTYPES`) are weights; integer and boolean
tensors (:data:`BUFFER_DTYPES`) are buffers, listed and never analysed. Names are matched after
:func:`strip_wrapper_prefixes`. The rules, in the order they are tried:

1. **Expert stacks** (``kind = "expert"``): a 3-d weight ``(E, a, b)`` whose name matches
   :data:`EXPERT_PATTERN` (``experts``, ``moe``, llama.cpp's ``*_exps``: Hugging Face's
   ``mlp.experts.gate_up_proj``, ``experts.down_proj``) or a pattern the caller declares
   (``experts=``) is E matrices ``a x b``, named ``name[e]``.
2. Every other weight must be named ``...weight``. **2-d weights** are matrices: ``linear``
   (``Linear``, and GPT-2's transposed ``Conv1D``, which has the same singular values),
   ``embedding`` (by name, :data:`EMBEDDING_PATTERN`: tables and language-model heads, so that tables
   can keep or drop them) or ``attention`` (fused query/key/value projections, by name,
   :data:`ATTENTION_PATTERN`: ``in_proj_weight``, ``c_attn``, ``qkv_proj``, ``query_key_value``,
   ``Wqkv``, ``qkv``, llama.cpp's ``attn_qkv``).
3. **Convolution kernels** ``(d, c, k_1, ..., k_K)`` of any K >= 1: ``conv1d`` (K = 1), ``conv``
   (K = 2, torch's ``Conv2d``), ``conv3d``, ``conv4d``, ... (:func:`conv_kind`); they become
   matrices by the reshapes of :mod:`rmtweights.layers`, and a kernel of spatial size 1 (``1x1x1``) is
   the plain ``d x c`` matrix under every reshape.

Every other tensor is skipped with a reason, never silently dropped. Two options cut fused matrices
further (:func:`plan_tensors`): ``split_qkv`` splits a fused attention matrix whose one side is three
times the other into its query, key and value thirds (``name[q]``, ``name[k]``, ``name[v]``; the
stacked layout ``[q; k; v]`` of PyTorch's ``MultiheadAttention``, GPT-2, timm and Phi-3;
``query_key_value`` of GPT-NeoX and BLOOM interleaves the heads and stays fused), and
``split_gate_up`` splits a fused ``gate_up`` projection into halves (``name[gate]``, ``name[up]``,
:func:`gate_up_axis`). A checkpoint whose names show that it is quantised in a way rmtweights cannot
undo (:data:`QUANTISED_PATTERN`) is refused by the weights readers (:mod:`rmtweights.weights`).

Importing this module imports neither torch nor NumPy: the workflow classifies the tensors of a
weights file when it builds its job graph (:func:`rmtweights.weights.parts.plan_parts`), and
:mod:`rmtweights.layers` makes the parts it plans into matrices.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "WEIGHT_DTYPES",
    "BUFFER_DTYPES",
    "KINDS",
    "EMBEDDING_PATTERN",
    "ATTENTION_PATTERN",
    "EXPERT_PATTERN",
    "QUANTISED_PATTERN",
    "TensorPart",
    "SkippedTensor",
    "strip_wrapper_prefixes",
    "conv_kind",
    "classify",
    "gate_up_axis",
    "plan_tensors",
    "natural_key",
    "shape_text",
    "skip_group",
]

#: Dtypes of the tensors that are weights (analysed).
WEIGHT_DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16", "float64")
#: Dtypes of the tensors that are buffers (listed, never analysed).
BUFFER_DTYPES: tuple[str, ...] = ("int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "bool")

#: Values of the ``kind`` column: a linear layer's matrix, an embedding table or language-model head,
#: a fused attention projection, one expert of an expert stack, a 1-d or 2-d convolution kernel; k-d
#: kernels for k >= 3 are ``conv3d``, ``conv4d``, ... (:func:`conv_kind`).
KINDS: tuple[str, ...] = ("linear", "embedding", "attention", "expert", "conv1d", "conv", "conv3d")

#: Names of 2-d weights that are embedding tables or language-model heads (vocabulary x width):
#: ``*embed*`` (BERT ``word_embeddings``, LLaMA ``embed_tokens``), GPT-2 ``wte``/``wpe``, ``lm_head``,
#: T5 ``shared``, Meta LLaMA ``tok_embeddings`` and its head ``output`` (at the top level only),
#: llama.cpp's ``token_embd``.
EMBEDDING_PATTERN = re.compile(
    r"embed|token_embd|(^|\.)(wte|wpe|lm_head|shared|tok_embeddings)\.weight$|^output\.weight$")

#: Names of 2-d weights that are fused query/key/value projections.
ATTENTION_PATTERN = re.compile(
    r"(^|\.)(in_proj_weight|(c_attn|qkv_proj|query_key_value|Wqkv|qkv|attn_qkv)\.weight)$")

#: Names of 3-d tensors that are stacks of expert matrices (mixture-of-experts layers).
EXPERT_PATTERN = re.compile(r"experts?(\.|_|$)|(^|[._])moe([._]|$)|_exps(\.|$)")

# fused attention projections whose heads are interleaved ([head, 3, head_dim]): never split in thirds
_INTERLEAVED_QKV = re.compile(r"(^|\.)query_key_value\.weight$")
_QKV = ("q", "k", "v")
_GATE_UP = ("gate", "up")

#: Tensor names that only quantised checkpoints have and rmtweights cannot dequantise: GPTQ / AWQ
#: packed weights (``qweight``, ``qzeros``) and bitsandbytes 4-bit statistics (``absmax``,
#: ``quant_map``, ``quant_state``). Their packed integer weights would otherwise pass as buffers and
#: the analysis would silently cover only the unquantised tensors. (int8 weights with their scales,
#: bitsandbytes' ``SCB`` among them, are dequantised: :mod:`rmtweights.weights.int8`.)
QUANTISED_PATTERN = re.compile(r"(^|\.)(qweight|qzeros|absmax|quant_map)$|(^|\.)quant_state(\.|$)")

# prefixes that wrappers add to state_dict keys (torch.compile, DataParallel / DDP)
_WRAPPER_PREFIXES = ("_orig_mod.", "module.")


@dataclass(frozen=True)
class TensorPart:
    """One matrix to analyse, and how it is cut from its tensor (no data: a plan).

    Attributes
    ----------
    layer : str
        The layer's name: the tensor's without ``.weight`` (``fc1``, ``h.0.attn.in_proj_weight``),
        with ``[e]`` for an expert and ``[q]``/``[k]``/``[v]`` or ``[gate]``/``[up]`` for a split part.
    kind : str
        One of :data:`KINDS` (or ``conv<k>d``).
    tensor : str
        The tensor's name as the loader knows it.
    shape : tuple of int
        The tensor's shape (the whole stack for an expert).
    expert : int or None
        Index along axis 0 of an expert stack.
    split : tuple of int or None
        ``(axis, index, parts)``: the matrix (after taking the expert) is cut into ``parts`` equal
        pieces along ``axis`` (0 or 1) and piece ``index`` kept.
    quantisation : str
        How the tensor is stored when that is not its dtype (a GGUF type such as ``Q8_0``; ``int8+scale``).
    """

    layer: str
    kind: str
    tensor: str
    shape: tuple[int, ...]
    expert: int | None = None
    split: tuple[int, int, int] | None = None
    quantisation: str = ""


@dataclass(frozen=True)
class SkippedTensor:
    """A tensor that was considered and is not analysed, with the reason (a row, never silence)."""

    name: str
    shape: tuple[int, ...]
    reason: str
    kind: str = "other"
    quantisation: str = ""


def strip_wrapper_prefixes(name: str) -> str:
    """``name`` without its ``_orig_mod.`` (``torch.compile``) and ``module.`` (``DataParallel``) prefixes."""
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix):], True
    return name


def conv_kind(dims: int) -> str:
    """The kind of a ``dims``-d convolution kernel: ``conv1d`` (3-d), ``conv`` (4-d), ``conv3d`` (5-d), ..."""
    if dims < 3:
        raise ValueError(f"a convolution kernel has at least 3 dimensions, got {dims}")
    return {3: "conv1d", 4: "conv"}.get(dims, f"conv{dims - 2}d")


def _matches(name: str, patterns: str | Iterable[str] | None) -> bool:
    """Whether a regular expression of ``patterns`` (one, several or None) is found in ``name``."""
    if not patterns:
        return False
    return any(re.search(pattern, name) for pattern in ([patterns] if isinstance(patterns, str) else patterns))


def classify(name: str, shape: Sequence[int], dtype: Any, *,
             experts: str | Sequence[str] | None = ()) -> tuple[str | None, str]:
    """Whether a named tensor of a state_dict or weights file is a layer, and of which kind.

    Returns ``(kind, "")`` for a layer and ``(None, reason)`` otherwise, by the rules of the module
    docstring. ``dtype`` is a torch dtype or its name; ``experts`` are regular expressions
    (``re.search``) naming further 3-d tensors that are expert stacks. Names are matched after
    :func:`strip_wrapper_prefixes`. No torch needed.
    """
    name = strip_wrapper_prefixes(name)
    dims = len(shape)
    dtype = str(dtype).replace("torch.", "")
    if dtype not in WEIGHT_DTYPES:
        return None, f"{dtype} buffer, not a floating-point weight"
    if dims <= 1:
        what = "scalar" if dims == 0 else "1-d tensor (a bias or a normalisation scale)"
        return None, f"{what}: not a matrix"
    if dims == 3 and not name.endswith("bias") and (EXPERT_PATTERN.search(name) or _matches(name, experts)):
        return "expert", ""
    if not name.endswith("weight"):
        return None, "not a weight (its name does not end in 'weight')"
    if dims == 2:
        if EMBEDDING_PATTERN.search(name):
            return "embedding", ""
        return ("attention" if ATTENTION_PATTERN.search(name) else "linear"), ""
    return conv_kind(dims), ""


def gate_up_axis(shape: Sequence[int], down: Sequence[int] | None = None) -> int | None:
    """The axis (0 or 1) along which a fused ``gate_up`` matrix ``a x b`` holds its two halves.

    With the matching ``down`` projection ``c x d`` (same layout): ``a = 2d, b = c`` is torch's
    ``out x in`` layout (``nn.Linear``; Phi-3, Hugging Face's fused experts ``(E, 2i, h)``), halves
    along axis 0; ``b = 2c, a = d`` is the ``in x out`` layout (Llama 4 and gpt-oss experts
    ``(E, h, 2i)``), halves along axis 1. Without ``down`` (or when neither fits): the last axis of
    even size; ``None`` when no side is even (no split).
    """
    a, b = (int(s) for s in shape[-2:])
    if down is not None:
        c, d = (int(s) for s in down[-2:])
        if a == 2 * d and b == c:
            return 0
        if b == 2 * c and a == d:
            return 1
    return 1 if b % 2 == 0 else (0 if a % 2 == 0 else None)


def _layer_name(name: str) -> str:
    """``encoder.fc.weight`` -> ``encoder.fc``; ``in_proj_weight`` keeps its name."""
    return name[: -len(".weight")] if name.endswith(".weight") else name


def _qkv_axis(name: str, shape: Sequence[int]) -> int | None:
    """The axis holding q, k and v as stacked thirds, or None (interleaved heads, or sides not 1 : 3)."""
    if _INTERLEAVED_QKV.search(name):
        return None
    a, b = (int(s) for s in shape[-2:])
    return 0 if a == 3 * b else (1 if b == 3 * a else None)


def plan_tensors(entries: Iterable[Sequence[Any]], *, experts: str | Sequence[str] | None = (), split_qkv: bool = False,
                 split_gate_up: bool = False) -> list[TensorPart | SkippedTensor]:
    """Every entry as the matrices it is analysed as (:class:`TensorPart`), or a :class:`SkippedTensor`.

    Parameters
    ----------
    entries : iterable of (name, shape, dtype) or (name, shape, dtype, quantisation)
        In the order they are to be analysed (a file's order); ``name`` is what the loader is called with.
    experts : sequence of str
        Regular expressions naming further 3-d tensors that are expert stacks (:func:`classify`).
    split_qkv, split_gate_up : bool
        Cut fused attention projections into q, k, v and fused ``gate_up`` projections into gate and up
        (module docstring); a matrix that cannot be cut is analysed fused.

    Returns
    -------
    list of TensorPart or SkippedTensor
        In entry order; an expert stack gives its E experts in order (each split if asked).
    """
    entries = [tuple(entry) for entry in entries]
    shapes = {strip_wrapper_prefixes(entry[0]): tuple(int(s) for s in entry[1]) for entry in entries}
    out: list[TensorPart | SkippedTensor] = []
    for entry in entries:
        name, shape, dtype = entry[0], tuple(int(s) for s in entry[1]), entry[2]
        quantisation = str(entry[3]) if len(entry) > 3 and entry[3] else ""
        clean = strip_wrapper_prefixes(name)
        kind, reason = classify(clean, shape, dtype, experts=experts)
        if kind is None:
            out.append(SkippedTensor(name=clean, shape=shape, reason=reason, quantisation=quantisation))
            continue
        base = _layer_name(clean)
        axis, labels = None, ()
        if split_qkv and kind == "attention":
            axis, labels = _qkv_axis(clean, shape), _QKV
        elif split_gate_up and "gate_up" in clean and kind in ("linear", "expert"):
            axis, labels = gate_up_axis(shape, shapes.get(clean.replace("gate_up", "down", 1))), _GATE_UP
        pieces = [(None, "")] if axis is None else [((axis, i, len(labels)), f"[{label}]")
                                                    for i, label in enumerate(labels)]
        stack = range(shape[0]) if kind == "expert" else [None]
        for expert in stack:
            prefix = base if expert is None else f"{base}[{expert}]"
            out.extend(TensorPart(layer=prefix + suffix, kind=kind, tensor=name, shape=shape, expert=expert,
                                  split=split, quantisation=quantisation) for split, suffix in pieces)
    return out


def natural_key(name: str) -> tuple:
    """Sort key ordering tensor names as a model's blocks are numbered: ``layers.2`` before ``layers.10``
    (numbers compare as numbers), and a module's ``weight`` before its other tensors (``bias``)."""
    prefix, dot, last = name.rpartition(".")
    parts = tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", prefix if dot else name))
    return parts, (0 if last == "weight" else 1) if dot else 1, last if dot else ""


def shape_text(shape: str | Sequence[int], n: int, m: int, kind: str = "linear", reshape: str = "spatial") -> str:
    """A layer's shape in words, the same everywhere (tables, figures, the report, the CLI).

    ``"80×40 matrix"`` for a weight that is its matrix; otherwise the tensor and the matrix it gives,
    ``"8×1×5×5 kernel → 40×5 matrix"``, ``"8×256×1024 expert stack → 1024×256 matrix"``,
    ``"64×192 fused q,k,v → 64×64 matrix"``, ``"8×1×5×5 kernel → 25 slices 8×1"``. ``shape`` is a
    tuple or the tables' label (``"8x1x5x5"``); ``n x m`` the (oriented) matrix.
    """
    if isinstance(shape, str):
        dims = tuple(int(s) for s in shape.replace("×", "x").split("x") if s.strip())
    else:
        dims = tuple(int(s) for s in shape)
    tensor = "×".join(str(s) for s in dims)
    n, m = int(n), int(m)
    if n <= 0 or m <= 0:
        return tensor
    if len(dims) == 2 and sorted(dims) == sorted((n, m)):
        return f"{tensor} matrix"
    if kind.startswith("conv") and len(dims) >= 3:
        if reshape == "slices" and math.prod(dims[2:]) > 1:
            return f"{tensor} kernel → {math.prod(dims[2:])} slices {n}×{m}"
        return f"{tensor} kernel → {n}×{m} matrix"
    noun = {"expert": "expert stack", "attention": "fused q,k,v"}.get(kind, "tensor")
    return f"{tensor} {noun} → {n}×{m} matrix"


# (substring of a reason, the group it belongs to), tried in order
_SKIP_GROUPS = (
    ("1-d tensor", "biases and norms"),
    ("scalar", "scalars"),
    ("buffer", "integer and bool buffers"),
    ("not a weight", "tensors not named as weights"),
    ("min_dim", "too few singular values"),
    ("all-zero", "all-zero matrices"),
    ("cannot decompose", "matrices with NaN or Inf"),
    ("no decomposition", "decompositions that failed"),
)


def skip_group(reason: str) -> str:
    """The group a skip reason belongs to, for a summary line ("591 biases and norms, 2 ..."); an
    unknown reason is its own group."""
    return next((group for needle, group in _SKIP_GROUPS if needle in reason), reason)
