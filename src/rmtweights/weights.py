"""Pretrained weights files read one tensor at a time: torch, safetensors and sharded checkpoints.

A published checkpoint (Hugging Face BERT, GPT-2, LLaMA, a sentence transformer, a timm CNN) is
analysed from its tensors alone, without building its architecture. :func:`open_weights` lists
every tensor's name, shape and dtype without reading any tensor data, and
:meth:`WeightsFile.load` reads *one* tensor, so that the memory of an analysis is bounded by a
few copies of the largest tensor, never by the size of the model.

Sources (a path given by the user; the format is recognised from the file's first bytes, not
its suffix):

``safetensors``
    One ``.safetensors`` file, read with the safetensors library's ``safe_open``. Its header
    (names, shapes, dtypes, byte offsets) is read and checked against the file size when the
    file is opened, so a truncated file fails before any analysis. Tensors are read with the
    ``pread`` backend: each :meth:`~WeightsFile.load` copies one tensor's bytes into fresh memory
    and nothing of the file stays mapped, whereas with a memory map every page read so far
    stays in the process's resident set for as long as the file is open.
``torch``
    One ``torch.save`` file (``.pt``, ``.pth``, ``.bin``), loaded with ``weights_only=True``
    (no arbitrary unpickling) and ``mmap=True``, which maps the storages instead of reading
    them. Each :meth:`~WeightsFile.load` maps the file again, copies the one tensor and drops
    the map, for the same reason as above. A legacy (pre-zip) file cannot be mapped: it is
    loaded whole, once, and :attr:`WeightsFile.note` says so. A dict that wraps the tensors
    under ``state_dict``, ``model_state``, ``model`` or ``module`` is unwrapped (repeatedly for
    nested wrappers).
``sharded-safetensors``, ``sharded-torch``
    A Hugging Face ``*.index.json`` (``{"metadata": ..., "weight_map": {tensor: shard}}``, as
    in ``model.safetensors.index.json`` and ``pytorch_model.bin.index.json``); shards are
    looked up beside the index, all their headers are read on opening, and at most one
    shard is open at a time afterwards.
a folder
    Holding exactly one ``*.index.json``, or, without an index, exactly one weights file
    (``*.safetensors``, ``*.bin``, ``*.pt``, ``*.pth``).

Tensor names are reported without the ``_orig_mod.`` (``torch.compile``) and ``module.``
(``DataParallel``) prefixes (:func:`strip_wrapper_prefixes`). Floating tensors
(:data:`WEIGHT_DTYPES`) are weights; integer and boolean tensors (:data:`BUFFER_DTYPES`) are
buffers, listed and never analysed; any other dtype (float8, float4, complex, quantised) is an
error, as is a checkpoint whose names show that it is quantised (:data:`QUANTISED_PATTERN`):
such checkpoints must be dequantised first. Every bad input raises :class:`WeightsError`, which
names the file (and the tensor) and says what to do.

Importing this module does not import torch, and neither does listing a safetensors checkpoint
(:func:`list_entries`, :func:`source_files`), so a workflow can read checkpoints' layouts cheaply
when it builds its job graph; torch is imported to read torch files and to load tensors.
"""

from __future__ import annotations

import difflib
import json
import os
import pickle
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError, safe_open

if TYPE_CHECKING:
    import torch

__all__ = [
    "WEIGHT_DTYPES",
    "BUFFER_DTYPES",
    "FORMATS",
    "QUANTISED_PATTERN",
    "WeightsError",
    "TensorEntry",
    "WeightsFile",
    "open_weights",
    "list_entries",
    "source_files",
    "select",
    "strip_wrapper_prefixes",
    "EMBEDDING_PATTERN",
    "classify",
    "plan_parts",
]

#: Dtypes of the tensors that are weights (analysed).
WEIGHT_DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16", "float64")
#: Dtypes of the tensors that are buffers (listed, never analysed).
BUFFER_DTYPES: tuple[str, ...] = ("int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "bool")
#: Values of :attr:`WeightsFile.format`.
FORMATS: tuple[str, ...] = ("torch", "safetensors", "sharded-safetensors", "sharded-torch")

#: Tensor names that only quantised checkpoints have: GPTQ / AWQ packed weights (``qweight``,
#: ``qzeros``), bitsandbytes 8-bit (``SCB``) and 4-bit (``absmax``, ``quant_map``,
#: ``quant_state``) statistics. Their packed integer weights would otherwise pass as buffers and
#: the analysis would silently cover only the unquantised tensors.
QUANTISED_PATTERN = re.compile(r"(^|\.)(qweight|qzeros|SCB|absmax|quant_map)$|(^|\.)quant_state(\.|$)")

# safetensors dtype codes that rmtweights reads, and their torch names
_SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}
# keys under which training scripts wrap a state_dict, in the order they are tried
_WRAPPER_KEYS = ("state_dict", "model_state", "model", "module")
# suffixes of the weights files looked for in a folder without an index
_WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
_INDEX_SUFFIX = ".index.json"
# prefixes that wrappers add to state_dict keys (torch.compile, DataParallel / DDP)
_WRAPPER_PREFIXES = ("_orig_mod.", "module.")
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
        torch's name of its dtype: one of :data:`WEIGHT_DTYPES` or :data:`BUFFER_DTYPES`.
    file : str
        The file (shard) it is stored in.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    file: str

    @property
    def is_weight(self) -> bool:
        """True for a floating tensor (:data:`WEIGHT_DTYPES`), False for a buffer."""
        return self.dtype in WEIGHT_DTYPES


def strip_wrapper_prefixes(name: str) -> str:
    """``name`` without its ``_orig_mod.`` (``torch.compile``) and ``module.`` (``DataParallel``) prefixes."""
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix):], True
    return name


#: Names of 2-d weights that are embedding tables or language-model heads (vocabulary x width):
#: ``*embed*`` (BERT ``word_embeddings``, LLaMA ``embed_tokens``), GPT-2 ``wte``/``wpe``, ``lm_head``,
#: T5 ``shared``, Meta LLaMA ``tok_embeddings`` and its head ``output`` (at the top level only).
EMBEDDING_PATTERN = re.compile(r"embed|(^|\.)(wte|wpe|lm_head|shared|tok_embeddings)\.weight$|^output\.weight$")


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


def plan_parts(path: str | os.PathLike, *, include: Sequence[str] | str | None = None,
               exclude: Sequence[str] | str | None = None, layers_per_job: int = 32) -> list[list[str]]:
    """The tensor names of a weights source split into jobs of at most ``layers_per_job`` layers.

    Reads names, shapes and dtypes only (:func:`list_entries`), applies :func:`select`, and cuts the
    list, in file order, after every ``layers_per_job``-th layer (:func:`classify`); tensors that are
    not layers go with the job of the layer before them (or the first job), so that every tensor
    considered is reported by exactly one job. Raises :class:`WeightsError` for bad input.
    """
    if isinstance(layers_per_job, bool) or int(layers_per_job) != layers_per_job or layers_per_job < 1:
        raise ValueError(f"layers_per_job must be an integer >= 1, got {layers_per_job!r}")
    chosen = select(list_entries(path), include, exclude)
    parts: list[list[str]] = [[]]
    count = 0
    for entry in chosen:
        is_layer = classify(entry.name, entry.shape, entry.dtype)[0] is not None
        if is_layer and count == layers_per_job:
            parts.append([])
            count = 0
        parts[-1].append(entry.name)
        count += is_layer
    return parts


def _shown(names: Sequence[str]) -> str:
    """The first few names, for an error message."""
    more = f", ... ({len(names)} in all)" if len(names) > _SHOW else ""
    return ", ".join(repr(n) for n in names[:_SHOW]) + more


# --------------------------------------------------------------------------- single files

def _sniff(path: Path) -> str:
    """``"safetensors"``, ``"torch"`` (zip) or ``"torch-legacy"`` (pickle) from the first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if not head:
        raise WeightsError(f"weights file {path} is empty; download it again")
    if head.startswith(b"PK\x03\x04"):  # zip local file header: torch.save since torch 1.6
        return "torch"
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:  # pickle protocol 2-5 opcode
        return "torch-legacy"
    # safetensors: 8-byte little-endian header length, then the JSON header
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"
    raise WeightsError(
        f"{path} is not a weights file: it is neither safetensors nor a torch.save file "
        f"(first bytes {head[:8]!r}); pass a .safetensors, .pt, .pth or .bin checkpoint, or its *.index.json"
    )


def _tensor_problem(path: Path, key: str, dtype: str) -> WeightsError | None:
    """The error for a tensor of unsupported dtype or of a quantised checkpoint; ``None`` if it is fine."""
    if dtype not in WEIGHT_DTYPES and dtype not in BUFFER_DTYPES:
        return WeightsError(
            f"tensor {key!r} of {path} has dtype {dtype}, which rmtweights does not read (weights: "
            f"{', '.join(WEIGHT_DTYPES)}; buffers: integer and bool); quantised checkpoints must be "
            "dequantised first (e.g. saved again in float16 or bfloat16)"
        )
    if QUANTISED_PATTERN.search(key):
        return WeightsError(
            f"tensor {key!r} of {path} belongs to a quantised checkpoint (GPTQ, AWQ or bitsandbytes); "
            "quantised checkpoints must be dequantised first (e.g. saved again in float16 or bfloat16)"
        )
    return None


def _check_tensor(path: Path, key: str, dtype: str) -> None:
    """Raise :func:`_tensor_problem`'s error, if any."""
    problem = _tensor_problem(path, key, dtype)
    if problem is not None:
        raise problem


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
        return _tensor_problem(path, *unknown[0])
    return WeightsError(f"safetensors file {path} is corrupt ({err}); download it again")


def _open_safetensors(path: Path, framework: str = "pt"):
    """``safe_open`` with the ``pread`` backend (nothing stays mapped); errors as :class:`WeightsError`.

    ``framework="numpy"`` reads the header without importing torch (its tensors are not loaded).
    """
    try:
        return safe_open(path, framework=framework, backend="pread")
    except SafetensorError as err:
        raise _safetensors_problem(path, err) from err


def _safetensors_tensors(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """``(stored name, shape, dtype)`` of every tensor, in file (offset) order; no data read."""
    handle = _open_safetensors(path, framework="numpy")
    out = []
    for key in handle.offset_keys():
        view = handle.get_slice(key)
        code = view.get_dtype()
        dtype = _SAFETENSORS_DTYPES.get(code, code)
        _check_tensor(path, key, dtype)
        out.append((key, tuple(int(s) for s in view.get_shape()), dtype))
    if not out:
        raise WeightsError(f"safetensors file {path} holds no tensors; pass a checkpoint with weights")
    return out


def _torch_state(path: Path, mmap: bool) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The tensors of a ``torch.save`` file (wrappers unwrapped) and notes on what was done.

    ``torch.load(weights_only=True)``: a file that needs arbitrary unpickling (a pickled
    ``nn.Module``, an ``argparse.Namespace`` beside the weights) is refused, never executed.
    """
    import torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if found is None:
            raise WeightsError(
                f"{path} is not a readable torch checkpoint, or it is corrupt ({type(err).__name__}); "
                "download it again"
            ) from err
        raise WeightsError(
            f"{path} holds a pickled {found.group(1)}, not only tensors, and rmtweights loads torch files "
            "with weights_only=True (it never runs pickled code): save `model.state_dict()` instead "
            "(torch.save(model.state_dict(), path)), or save only the dict of tensors"
        ) from err
    except Exception as err:  # torch raises RuntimeError (zip), EOFError, KeyError, ... for damaged files
        raise WeightsError(
            f"{path} is not a readable torch checkpoint, or it is truncated or corrupt "
            f"({type(err).__name__}: {str(err).split('. ')[0]}); download it again"
        ) from err
    notes, trail = [], []
    while isinstance(obj, Mapping) and not (obj and all(isinstance(v, torch.Tensor) for v in obj.values())):
        key = next((k for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if key is None:
            break
        trail.append(key)
        obj = obj[key]
    if not isinstance(obj, Mapping):
        raise WeightsError(
            f"{path} holds a {type(obj).__name__}, not a dict of tensors: save `model.state_dict()` "
            "instead (torch.save(model.state_dict(), path))"
        )
    tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    others = [str(k) for k in obj if k not in tensors]
    if not tensors:
        raise WeightsError(
            f"{path} holds a dict without tensors (keys {_shown(others)}); save `model.state_dict()`, "
            f"or a dict that holds it under one of {', '.join(map(repr, _WRAPPER_KEYS))}"
        )
    if trail:
        notes.append("tensors under " + " > ".join(repr(k) for k in trail))
    if others:
        notes.append(f"ignored non-tensor entries {_shown(others)}")
    return tensors, notes


def _torch_tensors(path: Path, state: Mapping[str, torch.Tensor]) -> list[tuple[str, tuple[int, ...], str]]:
    """``(stored name, shape, dtype)`` of every tensor of a loaded state dict, in key order."""
    out = []
    for key, tensor in state.items():
        dtype = str(tensor.dtype).removeprefix("torch.")
        _check_tensor(path, key, dtype)
        out.append((key, tuple(int(s) for s in tensor.shape), dtype))
    return out


@dataclass
class _Scan:
    """What opening a source finds: everything :class:`WeightsFile` needs, no tensor data."""

    path: Path
    format: str
    entries: list[TensorEntry]
    where: dict[str, tuple[Path, str, str]]  # name -> (file, stored name, file kind)
    notes: list[str]
    legacy: dict[Path, dict[str, torch.Tensor]]  # legacy torch files, loaded whole


def _scan_file(path: Path, scan: _Scan, keys: Sequence[str] | None = None) -> str:
    """Add one file's tensors to ``scan``; return the file's kind (:func:`_sniff`).

    With ``keys`` (an index's tensors for this shard) those come first, in that order, then any
    tensor of the file that the index does not list, with a note.
    """
    kind = _sniff(path)
    if kind == "safetensors":
        tensors = _safetensors_tensors(path)
    else:
        state, notes = _torch_state(path, mmap=kind == "torch")
        if kind == "torch-legacy":
            notes.insert(0, "legacy torch file: loaded without mmap (the whole file is held in memory)")
            scan.legacy[path] = state
        scan.notes += [f"{path.name}: {n}" if scan.format.startswith("sharded") else n for n in notes]
        tensors = _torch_tensors(path, state)
        del state  # a zip file's map is released here; it is mapped again for each load
    if keys is not None:
        by_key = {t[0]: t for t in tensors}
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise WeightsError(
                f"index {scan.path} puts {_shown(missing)} in shard {path}, which does not hold "
                f"{'it' if len(missing) == 1 else 'them'}; the checkpoint is inconsistent: download it again"
            )
        listed = set(keys)
        extra = [t for t in tensors if t[0] not in listed]
        if extra:
            scan.notes.append(f"{path.name}: {len(extra)} tensor(s) not in the index's weight_map, listed "
                              f"after the indexed ones ({_shown([t[0] for t in extra])})")
        tensors = [by_key[k] for k in keys] + extra
    for key, shape, dtype in tensors:
        name = strip_wrapper_prefixes(key)
        if name in scan.where:
            other = scan.where[name]
            raise WeightsError(
                f"tensors {other[1]!r} ({other[0]}) and {key!r} ({path}) of {scan.path} both have the name "
                f"{name!r} once wrapper prefixes (module., _orig_mod.) are removed; save one state_dict"
            )
        scan.where[name] = (path, key, kind)
        scan.entries.append(TensorEntry(name=name, shape=shape, dtype=dtype, file=str(path)))
    return kind


# --------------------------------------------------------------------------- indexes and folders

def _resolve(path: Path) -> Path:
    """The file to read: ``path`` itself, or the one index / weights file of a folder."""
    if not path.exists():
        raise WeightsError(f"weights path {path} does not exist")
    if not path.is_dir():
        return path
    indexes = sorted(p for p in path.iterdir() if p.name.endswith(_INDEX_SUFFIX) and p.is_file())
    if len(indexes) == 1:
        return indexes[0]
    if len(indexes) > 1:
        raise WeightsError(
            f"folder {path} holds {len(indexes)} checkpoint indexes ({', '.join(p.name for p in indexes)}); "
            "pass the path of the one to read"
        )
    files = sorted(p for p in path.iterdir() if p.suffix in _WEIGHTS_SUFFIXES and p.is_file())
    if len(files) == 1:
        return files[0]
    if not files:
        raise WeightsError(
            f"folder {path} holds no *{_INDEX_SUFFIX} and no weights file "
            f"({', '.join('*' + s for s in _WEIGHTS_SUFFIXES)}); pass the path of a checkpoint"
        )
    raise WeightsError(
        f"folder {path} holds {len(files)} weights files and no *{_INDEX_SUFFIX} "
        f"({_shown([p.name for p in files])}); pass the path of the one to read"
    )


def _weight_map(index: Path) -> dict[str, str]:
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


def _shards(index: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """An index's ``weight_map`` and its shards (each with its tensors, both in index order), all present."""
    weight_map = _weight_map(index)
    shards: dict[str, list[str]] = {}
    for key, shard in weight_map.items():
        shards.setdefault(shard, []).append(key)
    missing = [s for s in shards if not (index.parent / s).is_file()]
    if missing:
        raise WeightsError(
            f"index {index} names shard file(s) {_shown(missing)} that are missing from {index.parent}; "
            "download them"
        )
    return weight_map, shards


def _scan(path: str | os.PathLike) -> _Scan:
    """Open ``path`` (file, index or folder) and describe every tensor; no tensor data is read."""
    target = _resolve(Path(path))
    if not target.name.endswith(".json"):
        scan = _Scan(target, "", [], {}, [], {})
        scan.format = "safetensors" if _scan_file(target, scan) == "safetensors" else "torch"
        return scan
    weight_map, shards = _shards(target)
    kinds = {s: _sniff(target.parent / s) for s in shards}
    fmt = "sharded-safetensors" if set(kinds.values()) == {"safetensors"} else "sharded-torch"
    if fmt == "sharded-torch" and "safetensors" in kinds.values():
        raise WeightsError(f"index {target} mixes safetensors and torch shards; pass a consistent checkpoint")
    scan = _Scan(target, fmt, [], {}, [], {})
    for shard, keys in shards.items():
        _scan_file(target.parent / shard, scan, keys)
    order = {strip_wrapper_prefixes(k): i for i, k in enumerate(weight_map)}
    # index order across shards; tensors the index does not list last (the sort is stable)
    scan.entries.sort(key=lambda e: order.get(e.name, len(order)))
    return scan


# --------------------------------------------------------------------------- public API

class WeightsFile:
    """An open weights file, index or folder: its tensors listed, each loaded on demand.

    Use :func:`open_weights` to create one, preferably as a context manager. Shards and files
    are opened lazily; at most one safetensors shard is open at a time.

    Attributes
    ----------
    path : pathlib.Path
        The path given (for a folder, the index or weights file found in it).
    format : str
        One of :data:`FORMATS`.
    entries : list of TensorEntry
        Every tensor, in file order (offset order in a safetensors file, key order in a torch
        file, ``weight_map`` order for an index); no tensor data is loaded.
    note : str
        What the reader had to do, ``"; "``-separated (a legacy file loaded without mmap, the
        wrapper keys unwrapped, non-tensor entries ignored); empty when nothing.
    """

    def __init__(self, scan: _Scan):
        self.path: Path = scan.path
        self.format: str = scan.format
        self.entries: list[TensorEntry] = scan.entries
        self.note: str = "; ".join(scan.notes)
        self._where = scan.where
        self._legacy = scan.legacy
        self._shard: tuple[Path, Any] | None = None  # the open safetensors shard and its handle
        self._closed = False

    def __repr__(self) -> str:
        return f"WeightsFile({str(self.path)!r}, format={self.format!r}, {len(self.entries)} tensors)"

    def __enter__(self) -> WeightsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, name: str) -> torch.Tensor:
        """One tensor by its (stripped) name, in its stored dtype, on the CPU, owning its memory.

        Only that tensor is read: a safetensors tensor is copied from the file with ``pread``;
        a torch zip file is mapped, the tensor copied and the map dropped. Mapping a torch file
        again unpickles its tensor list each time (about 0.1 ms per tensor of the file: 30 ms
        per load for a file of 300 tensors), small beside the singular values of a layer.
        """
        if self._closed:
            raise WeightsError(f"weights file {self.path} is closed; open it again to load {name!r}")
        if name not in self._where:
            close = difflib.get_close_matches(str(name), list(self._where), n=3)
            hint = f"; did you mean {_shown(close)}?" if close else "; see WeightsFile.entries for the names"
            raise WeightsError(f"{self.path} has no tensor named {name!r}{hint}")
        file, key, kind = self._where[name]
        if kind == "torch-legacy":
            return self._legacy[file][key].clone()
        try:
            if kind == "safetensors":
                if self._shard is None or self._shard[0] != file:
                    self._shard = None  # close the previous shard first: one open at a time
                    self._shard = (file, _open_safetensors(file))
                return self._shard[1].get_tensor(key)
            state, _ = _torch_state(file, mmap=True)
            return state[key].clone()  # the copy outlives `state`, whose map is released on return
        except (SafetensorError, OSError, KeyError) as err:
            raise WeightsError(
                f"tensor {key!r} of {file} could not be read ({type(err).__name__}: {err}); "
                "the file changed since it was opened: open it again"
            ) from err

    def close(self) -> None:
        """Release the open shard and any legacy file held in memory; :meth:`load` then fails."""
        self._shard = None
        self._legacy = {}
        self._closed = True


def open_weights(path: str | os.PathLike) -> WeightsFile:
    """Open a weights file, a ``*.index.json`` or a folder holding one checkpoint.

    Every file's header is read (and, for safetensors, its size checked against the header's
    byte offsets) before this returns, so a truncated, corrupt or unsupported checkpoint fails
    here, before any analysis; no tensor data is read.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.safetensors`` file, a ``torch.save`` file (``.pt``, ``.pth``, ``.bin``), a Hugging
        Face ``*.index.json``, or a folder holding exactly one index or one weights file.

    Returns
    -------
    WeightsFile

    Raises
    ------
    WeightsError
        For every input that cannot be read as given, naming the file (and the tensor).
    """
    return WeightsFile(_scan(path))


def list_entries(path: str | os.PathLike) -> list[TensorEntry]:
    """:attr:`WeightsFile.entries` of ``path`` without keeping anything open (cheap: no tensor data).

    Meant for building a workflow's job graph: it reads safetensors headers, indexes, and the
    pickled part of torch zip files (their storages are mapped, not read). A legacy (non-zip)
    torch file has to be loaded whole.
    """
    return _scan(path).entries


def source_files(path: str | os.PathLike) -> list[Path]:
    """The files that reading ``path`` reads: the weights file, or the index and then its shards.

    Resolves a folder as :func:`open_weights` does and checks that every shard exists; reads
    indexes only, no tensor header (for a workflow rule's inputs).
    """
    target = _resolve(Path(path))
    if not target.name.endswith(".json"):
        return [target]
    return [target, *(target.parent / shard for shard in _shards(target)[1])]


def _patterns(value: Sequence[str] | str | None, role: str, where: str) -> list[re.Pattern[str]]:
    """Compiled patterns of ``include`` or ``exclude``; :class:`WeightsError` on a bad one."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Sequence) or not all(isinstance(v, str) for v in values):
        raise WeightsError(f"{role}={value!r} for {where} must be a regular expression or a list of them")
    compiled = []
    for pattern in values:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise WeightsError(
                f"{role} pattern {pattern!r} for {where} is not a valid regular expression ({err}); "
                "fix it (escape literal dots and brackets with a backslash)"
            ) from err
    return compiled


def select(entries: Sequence[TensorEntry], include: Sequence[str] | str | None = None,
           exclude: Sequence[str] | str | None = None) -> list[TensorEntry]:
    """The entries whose name matches an ``include`` pattern and no ``exclude`` pattern (``re.search``).

    Parameters
    ----------
    entries : sequence of TensorEntry
        Typically :attr:`WeightsFile.entries`; their order is kept.
    include : str or sequence of str, optional
        Regular expressions; ``None`` keeps every entry. Each must match at least one name (a
        pattern that matches nothing is almost always a typo).
    exclude : str or sequence of str, optional
        Regular expressions; ``None`` drops nothing.

    Raises
    ------
    WeightsError
        If a pattern is not a valid regular expression, an ``include`` pattern matches no name,
        or nothing is left; the message names the file and shows a few names.
    """
    files = list(dict.fromkeys(e.file for e in entries))
    if len(files) <= 1:
        where = files[0] if files else "no file"
    else:
        where = f"{len(files)} files in {os.path.commonpath(files)}"
    keep = _patterns(include, "include", where)
    drop = _patterns(exclude, "exclude", where)
    names = [e.name for e in entries]
    unmatched = [p.pattern for p in keep if not any(p.search(n) for n in names)]
    if unmatched:
        raise WeightsError(
            f"include pattern(s) {_shown(unmatched)} match no tensor of {where}; its names are {_shown(names)}"
        )
    out = [e for e in entries
           if (not keep or any(p.search(e.name) for p in keep)) and not any(p.search(e.name) for p in drop)]
    if entries and not out:
        raise WeightsError(
            f"include={include!r} and exclude={exclude!r} leave no tensor of {where}; its names are {_shown(names)}"
        )
    return out
