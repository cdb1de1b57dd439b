"""Opening a weights source (a file, an index or a folder) and loading its tensors one at a time.

A published checkpoint (Hugging Face BERT, GPT-2, LLaMA, a sentence transformer, a timm CNN) is
analysed from its tensors alone, without building its architecture. :func:`open_weights` lists
every tensor's name, shape and dtype without reading any tensor data, and
:meth:`WeightsFile.load` reads *one* tensor, so that the memory of an analysis is bounded by a
few copies of the largest tensor, never by the size of the model.

Sources (a path given by the user; the format is recognised from the file's first bytes, not
its suffix):

``safetensors``
    One ``.safetensors`` file (:mod:`rmtweights.weights.safetensors_file`): its header is checked
    against the file size on opening; each :meth:`~WeightsFile.load` copies one tensor's bytes with
    ``pread``, so nothing of the file stays mapped.
``torch``
    One ``torch.save`` file, ``.pt``, ``.pth``, ``.bin`` (:mod:`rmtweights.weights.torch_file`),
    loaded with ``weights_only=True`` and ``mmap=True``; each :meth:`~WeightsFile.load` maps the file
    again, copies the one tensor and drops the map. A legacy (pre-zip) file cannot be mapped: it is
    loaded whole, once, and :attr:`WeightsFile.note` says so.
``gguf``
    One llama.cpp ``.gguf`` file (:mod:`rmtweights.weights.gguf_file`): its header is parsed on
    opening; each :meth:`~WeightsFile.load` reads one tensor's bytes with ``pread`` and dequantises
    quantised types (``Q8_0``, the k-quants, ...) to float32; :attr:`TensorEntry.quantisation` names the type.
``sharded-safetensors``, ``sharded-torch``
    A Hugging Face ``*.index.json`` (:mod:`rmtweights.weights.sharded`); all the shards' headers are
    read on opening, and at most one shard is open at a time afterwards.
a folder
    Holding exactly one ``*.index.json``, or, without an index, exactly one weights file
    (``*.safetensors``, ``*.bin``, ``*.pt``, ``*.pth``, ``*.gguf``).

Order: torch and GGUF files list their tensors in the order they were saved (a ``state_dict``'s is
the model's); the safetensors library writes tensors sorted by dtype and then name, so the order
in which a model was saved is lost, and safetensors sources are listed in natural name order
(:func:`rmtweights.tensors.natural_key`: block 2 before block 10). int8 weights stored with their
scales are dequantised on loading (:mod:`rmtweights.weights.int8`).

Tensor names are reported without the ``_orig_mod.`` (``torch.compile``) and ``module.``
(``DataParallel``) prefixes (:func:`rmtweights.tensors.strip_wrapper_prefixes`). Every bad input
raises :class:`~rmtweights.weights.common.WeightsError`, which names the file (and the tensor) and
says what to do.

Importing this module does not import torch, and neither does listing a safetensors checkpoint
(:func:`list_entries`, :func:`source_files`), so a workflow can read checkpoints' layouts cheaply
when it builds its job graph; torch is imported to read torch files and to load tensors.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from rmtweights.tensors import natural_key, strip_wrapper_prefixes
from rmtweights.weights.common import TensorEntry, WeightsError, shown
from rmtweights.weights.gguf_file import GGUF_MAGIC, GGUFTensor, gguf_tensors, read_gguf_tensor
from rmtweights.weights.int8 import Int8Scale, dequantise_int8, find_int8_scales
from rmtweights.weights.safetensors_file import open_safetensors, safetensors_tensors
from rmtweights.weights.sharded import INDEX_SUFFIX, index_shards
from rmtweights.weights.torch_file import torch_state, torch_tensors

if TYPE_CHECKING:
    import torch

__all__ = ["FORMATS", "WeightsFile", "open_weights", "list_entries", "source_files"]

#: Values of :attr:`WeightsFile.format`.
FORMATS: tuple[str, ...] = ("torch", "safetensors", "gguf", "sharded-safetensors", "sharded-torch")
# suffixes of the weights files looked for in a folder without an index
_WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def _sniff(path: Path) -> str:
    """``"safetensors"``, ``"gguf"``, ``"torch"`` (zip) or ``"torch-legacy"`` (pickle) from the first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if not head:
        raise WeightsError(f"weights file {path} is empty; download it again")
    if head.startswith(GGUF_MAGIC):
        return "gguf"
    if head.startswith(b"PK\x03\x04"):  # zip local file header: torch.save since torch 1.6
        return "torch"
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:  # pickle protocol 2-5 opcode
        return "torch-legacy"
    # safetensors: 8-byte little-endian header length, then the JSON header
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"
    raise WeightsError(
        f"{path} is not a weights file: it is neither safetensors, GGUF nor a torch.save file "
        f"(first bytes {head[:8]!r}); pass a .safetensors, .gguf, .pt, .pth or .bin checkpoint, or its *.index.json"
    )


@dataclass
class _Scan:
    """What opening a source finds: everything :class:`WeightsFile` needs, no tensor data."""

    path: Path
    format: str
    entries: list[TensorEntry]
    where: dict[str, tuple[Path, str, str]]  # name -> (file, stored name, file kind)
    notes: list[str]
    legacy: dict[Path, dict[str, torch.Tensor]]  # legacy torch files, loaded whole
    gguf: dict[str, GGUFTensor] = field(default_factory=dict)  # name -> where a GGUF tensor lies
    int8: dict[str, Int8Scale] = field(default_factory=dict)  # int8 weights dequantised with their scales
    metadata: dict[str, str] = field(default_factory=dict)


def _scan_file(path: Path, scan: _Scan, keys: Sequence[str] | None = None) -> str:
    """Add one file's tensors to ``scan``; return the file's kind (:func:`_sniff`).

    With ``keys`` (an index's tensors for this shard) those come first, in that order, then any
    tensor of the file that the index does not list, with a note.
    """
    kind = _sniff(path)
    if kind == "safetensors":
        tensors = safetensors_tensors(path)
    elif kind == "gguf":
        found, metadata = gguf_tensors(path)
        scan.metadata.update(metadata)
        scan.gguf.update({strip_wrapper_prefixes(t.name): t for t in found})
        tensors = [(t.name, t.shape, t.dtype, t.quantisation) for t in found]
    else:
        state, notes = torch_state(path, mmap=kind == "torch")
        if kind == "torch-legacy":
            notes.insert(0, "legacy torch file: loaded without mmap (the whole file is held in memory)")
            scan.legacy[path] = state
        scan.notes += [f"{path.name}: {n}" if scan.format.startswith("sharded") else n for n in notes]
        tensors = torch_tensors(path, state)
        del state  # a zip file's map is released here; it is mapped again for each load
    if keys is not None:
        by_key = {t[0]: t for t in tensors}
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise WeightsError(
                f"index {scan.path} puts {shown(missing)} in shard {path}, which does not hold "
                f"{'it' if len(missing) == 1 else 'them'}; the checkpoint is inconsistent: download it again"
            )
        listed = set(keys)
        extra = [t for t in tensors if t[0] not in listed]
        if extra:
            scan.notes.append(f"{path.name}: {len(extra)} tensor(s) not in the index's weight_map, listed "
                              f"after the indexed ones ({shown([t[0] for t in extra])})")
        tensors = [by_key[k] for k in keys] + extra
    for key, shape, dtype, *stored in tensors:
        name = strip_wrapper_prefixes(key)
        if name in scan.where:
            other = scan.where[name]
            raise WeightsError(
                f"tensors {other[1]!r} ({other[0]}) and {key!r} ({path}) of {scan.path} both have the name "
                f"{name!r} once wrapper prefixes (module., _orig_mod.) are removed; save one state_dict"
            )
        scan.where[name] = (path, key, kind)
        scan.entries.append(TensorEntry(name=name, shape=shape, dtype=dtype, file=str(path),
                                        quantisation=stored[0] if stored else ""))
    return kind


def _resolve(path: Path) -> Path:
    """The file to read: ``path`` itself, or the one index / weights file of a folder."""
    if not path.exists():
        raise WeightsError(f"weights path {path} does not exist")
    if not path.is_dir():
        return path
    indexes = sorted(p for p in path.iterdir() if p.name.endswith(INDEX_SUFFIX) and p.is_file())
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
            f"folder {path} holds no *{INDEX_SUFFIX} and no weights file "
            f"({', '.join('*' + s for s in _WEIGHTS_SUFFIXES)}); pass the path of a checkpoint"
        )
    raise WeightsError(
        f"folder {path} holds {len(files)} weights files and no *{INDEX_SUFFIX} "
        f"({shown([p.name for p in files])}); pass the path of the one to read"
    )


def _scan(path: str | os.PathLike) -> _Scan:
    """Open ``path`` (file, index or folder) and describe every tensor; no tensor data is read."""
    target = _resolve(Path(path))
    if not target.name.endswith(".json"):
        scan = _Scan(target, "", [], {}, [], {})
        kind = _scan_file(target, scan)
        scan.format = kind if kind in ("safetensors", "gguf") else "torch"
        return _finish(scan)
    weight_map, shards = index_shards(target)
    kinds = {s: _sniff(target.parent / s) for s in shards}
    fmt = "sharded-safetensors" if set(kinds.values()) == {"safetensors"} else "sharded-torch"
    if "gguf" in kinds.values():
        raise WeightsError(f"index {target} names GGUF shards; pass a single .gguf file")
    if fmt == "sharded-torch" and "safetensors" in kinds.values():
        raise WeightsError(f"index {target} mixes safetensors and torch shards; pass a consistent checkpoint")
    scan = _Scan(target, fmt, [], {}, [], {})
    for shard, keys in shards.items():
        _scan_file(target.parent / shard, scan, keys)
    order = {strip_wrapper_prefixes(k): i for i, k in enumerate(weight_map)}
    # index order across shards; tensors the index does not list last (the sort is stable)
    scan.entries.sort(key=lambda e: order.get(e.name, len(order)))
    return _finish(scan)


def _finish(scan: _Scan) -> _Scan:
    """Natural name order for safetensors sources (their files keep no model order); int8 weights with
    their scales made float entries (:func:`~rmtweights.weights.int8.find_int8_scales`)."""
    if scan.format in ("safetensors", "sharded-safetensors"):
        scan.entries.sort(key=lambda e: natural_key(e.name))
    scan.entries, scan.int8 = find_int8_scales(scan.entries, str(scan.path))
    return scan


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
        Every tensor, in the source's order (key order in a torch file, file order in a GGUF file,
        natural name order for safetensors sources: module docstring); no tensor data is loaded.
    metadata : dict of str to str
        Descriptive strings the file carries (a GGUF file's ``general.name``, ``general.architecture``,
        ...); untrusted text, to be escaped wherever it is shown.
    note : str
        What the reader had to do, ``"; "``-separated (a legacy file loaded without mmap, the
        wrapper keys unwrapped, non-tensor entries ignored); empty when nothing.
    """

    def __init__(self, scan: _Scan):
        self.path: Path = scan.path
        self.format: str = scan.format
        self.entries: list[TensorEntry] = scan.entries
        self.note: str = "; ".join(scan.notes)
        self.metadata: dict[str, str] = dict(scan.metadata)
        self._where = scan.where
        self._gguf = scan.gguf
        self._int8 = scan.int8
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
            hint = f"; did you mean {shown(close)}?" if close else "; see WeightsFile.entries for the names"
            raise WeightsError(f"{self.path} has no tensor named {name!r}{hint}")
        if name in self._int8:
            return dequantise_int8(name, self._int8[name], self._load_stored)
        return self._load_stored(name)

    def _load_stored(self, name: str) -> torch.Tensor:
        """One tensor as stored (int8 weights not dequantised)."""
        file, key, kind = self._where[name]
        if kind == "gguf":
            return read_gguf_tensor(file, self._gguf[name])
        if kind == "torch-legacy":
            return self._legacy[file][key].clone()
        try:
            if kind == "safetensors":
                if self._shard is None or self._shard[0] != file:
                    self._shard = None  # close the previous shard first: one open at a time
                    self._shard = (file, open_safetensors(file))
                return self._shard[1].get_tensor(key)
            state, _ = torch_state(file, mmap=True)
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
    return [target, *(target.parent / shard for shard in index_shards(target)[1])]
