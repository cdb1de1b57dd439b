"""Tests of the rmtweights.weights readers: round trips of every source format, every bad input, bounded memory."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gguf import GGMLQuantizationType, quants
from gguf_files import q4_k_blocks, write_gguf
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import rmtweights
from rmtweights.tensors import WEIGHT_DTYPES, natural_key
from rmtweights.weights.common import TensorEntry, WeightsError
from rmtweights.weights.selection import select
from rmtweights.weights.source import list_entries, open_weights, source_files


def _state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Small tensors of every supported kind: weights in four float dtypes, an int64 buffer, a bool mask."""
    g = torch.Generator().manual_seed(seed)
    return {
        "embed.weight": torch.randn(7, 4, generator=g),
        "fc1.weight": torch.randn(5, 4, generator=g).to(torch.float16),
        "fc1.bias": torch.randn(5, generator=g).to(torch.bfloat16),
        "conv.weight": torch.randn(3, 2, 3, 3, generator=g).to(torch.bfloat16),
        "head.weight": torch.randn(2, 5, generator=g, dtype=torch.float64),
        "bn.num_batches_tracked": torch.tensor(12, dtype=torch.int64),
        "attn.mask": torch.rand(4, 4, generator=g) > 0.5,
    }


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _check_round_trip(wf, expected: dict[str, torch.Tensor], files: dict[str, Path], order: list[str]) -> None:
    """Entries list every tensor (name, shape, dtype, file) in ``order``; each load equals the original."""
    assert [e.name for e in wf.entries] == order
    for entry in wf.entries:
        original = expected[entry.name]
        assert entry == TensorEntry(entry.name, tuple(original.shape), _dtype(original), str(files[entry.name]))
        loaded = wf.load(entry.name)
        assert loaded.dtype == original.dtype
        assert torch.equal(loaded, original)  # exact: the bytes are copied, never converted
    assert list_entries(wf.path) == wf.entries


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("wrapper", [None, "state_dict", "model", "model_state", "module"])
def test_torch_state_dict_round_trip(tmp_path, wrapper):
    sd = _state_dict()
    path = tmp_path / "model.pt"
    torch.save(sd if wrapper is None else {wrapper: sd, "epoch": 3}, path)
    with open_weights(path) as wf:
        assert wf.format == "torch"
        assert wf.note == ("" if wrapper is None else f"tensors under {wrapper!r}")
        _check_round_trip(wf, sd, dict.fromkeys(sd, path), list(sd))  # torch files: key order


def test_torch_nested_wrappers_and_prefixes(tmp_path):
    sd = _state_dict()
    stored = {("module._orig_mod." if i % 2 else "module.") + k: v for i, (k, v) in enumerate(sd.items())}
    path = tmp_path / "ckpt.pth"
    torch.save({"model": {"state_dict": stored}, "optimizer": {"lr": 0.1}}, path)
    with open_weights(path) as wf:
        assert "'model' > 'state_dict'" in wf.note
        _check_round_trip(wf, sd, dict.fromkeys(sd, path), list(sd))
        assert [e.is_weight for e in wf.entries] == [_dtype(v) in WEIGHT_DTYPES for v in sd.values()]


def test_torch_non_tensor_entries_are_noted(tmp_path):
    sd = _state_dict()
    path = tmp_path / "model.pt"
    torch.save({**sd, "step": 10}, path)
    with open_weights(path) as wf:
        assert "ignored non-tensor entries 'step'" in wf.note
        _check_round_trip(wf, sd, dict.fromkeys(sd, path), list(sd))


def test_legacy_torch_file_loads_without_mmap(tmp_path):
    sd = _state_dict()
    path = tmp_path / "old.pt"
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    with open_weights(path) as wf:
        assert wf.note.startswith("legacy torch file: loaded without mmap")
        _check_round_trip(wf, sd, dict.fromkeys(sd, path), list(sd))


def test_loaded_tensor_owns_its_memory(tmp_path):
    """Writing into a loaded tensor changes neither the file nor the next load."""
    sd = _state_dict()
    torch.save(sd, tmp_path / "m.pt")
    save_file(sd, tmp_path / "m.safetensors")
    for name in ("m.pt", "m.safetensors"):
        with open_weights(tmp_path / name) as wf:
            first = wf.load("embed.weight")
            first.zero_()
            assert torch.equal(wf.load("embed.weight"), sd["embed.weight"])


def test_safetensors_round_trip(tmp_path):
    sd = _state_dict()
    path = tmp_path / "model.safetensors"
    save_file({"module." + k: v for k, v in sd.items()}, path, metadata={"format": "pt"})
    with safe_open(path, framework="pt") as f:  # the file's order is the dtype, then the name
        assert [k.removeprefix("module.") for k in f.offset_keys()] != sorted(sd, key=natural_key)
    order = sorted(sd, key=natural_key)  # listed in natural name order: the file keeps no model order
    with open_weights(path) as wf:
        assert wf.format == "safetensors" and wf.note == ""
        _check_round_trip(wf, sd, dict.fromkeys(sd, path), order)


def _shard_names(sd: dict[str, torch.Tensor], n_shards: int) -> dict[str, int]:
    """Tensor -> shard number, round robin, so that index order interleaves the shards."""
    return {k: i % n_shards + 1 for i, k in enumerate(sd)}


def _write_sharded(folder: Path, sd: dict[str, torch.Tensor], n_shards: int, kind: str) -> tuple[Path, dict[str, Path]]:
    """A Hugging Face sharded checkpoint (shards + index) in ``folder``; returns the index and tensor -> shard."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = ("model", "safetensors") if kind == "safetensors" else ("pytorch_model", "bin")
    assign = _shard_names(sd, n_shards)
    files = {k: folder / f"{stem}-{s:05d}-of-{n_shards:05d}.{suffix}" for k, s in assign.items()}
    for shard in set(files.values()):
        part = {k: v for k, v in sd.items() if files[k] == shard}
        save_file(part, shard) if kind == "safetensors" else torch.save(part, shard)
    index = folder / f"{stem}.{suffix}.index.json"
    weight_map = {k: files[k].name for k in reversed(list(sd))}  # an order that is neither key nor file order
    index.write_text(json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    return index, files


@pytest.mark.parametrize("kind", ["safetensors", "torch"])
def test_sharded_round_trip_index_and_folder(tmp_path, kind):
    sd = _state_dict()
    index, files = _write_sharded(tmp_path / "ckpt", sd, 3, kind)
    assert len(set(files.values())) == 3
    # torch shards: index order; safetensors: natural name order (the library sorts by dtype, then name)
    order = list(reversed(list(sd))) if kind == "torch" else sorted(sd, key=natural_key)
    for path in (index, index.parent):
        with open_weights(path) as wf:
            assert wf.format == f"sharded-{kind}"
            assert wf.path == index
            _check_round_trip(wf, sd, files, order)


def test_sharded_loads_in_any_order(tmp_path):
    """Loading jumps between shards (one open at a time) and still returns the right tensors."""
    sd = _state_dict()
    index, _ = _write_sharded(tmp_path, sd, 3, "safetensors")
    with open_weights(index) as wf:
        for name in ["attn.mask", "embed.weight", "attn.mask", "fc1.bias", "head.weight", "embed.weight"]:
            assert torch.equal(wf.load(name), sd[name])


def test_index_lists_unindexed_shard_tensors_last(tmp_path):
    sd = _state_dict()
    index, files = _write_sharded(tmp_path, sd, 3, "torch")
    content = json.loads(index.read_text())
    del content["weight_map"]["fc1.bias"]
    index.write_text(json.dumps(content))
    with open_weights(index) as wf:
        assert wf.entries[-1].name == "fc1.bias"
        assert "not in the index's weight_map" in wf.note and "fc1.bias" in wf.note
        assert torch.equal(wf.load("fc1.bias"), sd["fc1.bias"])


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
def test_folder_with_one_weights_file(tmp_path, name):
    sd = _state_dict()
    path = tmp_path / name
    save_file(sd, path) if name.endswith("safetensors") else torch.save(sd, path)
    (tmp_path / "config.json").write_text("{}")  # other files of a model folder are ignored
    with open_weights(tmp_path) as wf:
        assert wf.path == path
        assert wf.format == ("safetensors" if name.endswith("safetensors") else "torch")
        assert {e.name for e in wf.entries} == set(sd)
        assert torch.equal(wf.load("conv.weight"), sd["conv.weight"])


def test_format_comes_from_content_not_suffix(tmp_path):
    sd = _state_dict()
    path = tmp_path / "weights.bin"
    save_file(sd, path)
    with open_weights(path) as wf:
        assert wf.format == "safetensors"
        assert torch.equal(wf.load("attn.mask"), sd["attn.mask"])


@pytest.mark.parametrize("kind", ["safetensors", "torch"])
def test_source_files(tmp_path, kind):
    index, files = _write_sharded(tmp_path / "ckpt", _state_dict(), 3, kind)
    shards = list(dict.fromkeys(files[k] for k in reversed(list(_state_dict()))))  # index order
    assert source_files(index) == source_files(index.parent) == [index, *shards]
    assert source_files(shards[0]) == [shards[0]]
    shards[1].unlink()
    with pytest.raises(WeightsError, match=re.escape(shards[1].name)):
        source_files(index)


def test_listing_safetensors_does_not_import_torch(tmp_path):
    """A workflow lists safetensors checkpoints when it builds its job graph: no torch import (~2 s, 0.5 GB)."""
    index, _ = _write_sharded(tmp_path, _state_dict(), 3, "safetensors")
    code = ("import sys; from rmtweights.weights.source import list_entries, source_files; "
            f"n = len(list_entries({str(index)!r})); source_files({str(index)!r}); print(n, 'torch' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(Path(rmtweights.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(len(_state_dict())), "False"]


# --------------------------------------------------------------------------- select

def _entries(names):
    return [TensorEntry(n, (2, 2), "float32", "/ckpt/model.safetensors") for n in names]


def test_select_include_exclude():
    entries = _entries(["embed.weight", "layers.0.q.weight", "layers.0.q.bias", "layers.1.q.weight", "lm_head.weight"])
    names = lambda es: [e.name for e in es]  # noqa: E731
    assert select(entries) == entries
    assert names(select(entries, include=r"layers\.\d+\.q\.weight$")) == ["layers.0.q.weight", "layers.1.q.weight"]
    assert names(select(entries, include=["^embed", "^lm_head"])) == ["embed.weight", "lm_head.weight"]
    assert names(select(entries, exclude=[r"bias$", "embed|lm_head"])) == ["layers.0.q.weight", "layers.1.q.weight"]
    assert names(select(entries, include="layers", exclude=r"\.1\.")) == ["layers.0.q.weight", "layers.0.q.bias"]
    assert select([], exclude="x") == []


@pytest.mark.parametrize("kwargs, message", [
    ({"include": "layers.(0"}, "include pattern 'layers.(0' for /ckpt/model.safetensors is not a valid regular"),
    ({"exclude": ["ok", "[bias"]}, "exclude pattern '[bias' for /ckpt/model.safetensors is not a valid regular"),
    ({"include": ["embed", "decoder"]}, "include pattern(s) 'decoder' match no tensor of /ckpt/model.safetensors; "
                                        "its names are 'embed.weight', 'fc.weight'"),
    ({"include": "fc", "exclude": "weight"}, "leave no tensor of /ckpt/model.safetensors"),
    ({"include": 3}, "must be a regular expression"),
])
def test_select_bad_patterns(kwargs, message):
    with pytest.raises(WeightsError, match=re.escape(message)):
        select(_entries(["embed.weight", "fc.weight"]), **kwargs)


def test_select_names_the_shard_folder(tmp_path):
    index, _ = _write_sharded(tmp_path / "llama", _state_dict(), 3, "safetensors")
    with pytest.raises(WeightsError, match=r"3 files in .*llama"):
        select(list_entries(index), include="nothing")


# --------------------------------------------------------------------------- bad input

def _raises(path, *fragments):
    """open_weights(path) and list_entries(path) raise a WeightsError whose message holds every fragment."""
    for call in (open_weights, list_entries):
        with pytest.raises(WeightsError) as info:
            call(path)
        for fragment in fragments:
            assert str(fragment) in str(info.value), (fragment, str(info.value))
    return str(info.value)


def test_missing_path(tmp_path):
    _raises(tmp_path / "nope.safetensors", "nope.safetensors", "does not exist")


@pytest.mark.parametrize("name", ["model.pt", "model.safetensors", "model.bin"])
@pytest.mark.parametrize("content", [b"hello, this is text\n" * 20, bytes(range(256)) * 8, b""])
def test_not_a_checkpoint(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _raises(path, name)


def test_random_bytes_that_look_like_a_pickle(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x02" + bytes(range(256)) * 4)
    _raises(path, "model.pt", "not a readable torch checkpoint")


def test_truncated_safetensors_names_the_first_cut_tensor(tmp_path):
    sd = {"a.weight": torch.ones(4, 4), "b.weight": torch.ones(8, 8), "c.weight": torch.ones(8, 8)}
    path = tmp_path / "model.safetensors"
    save_file(sd, path)
    with safe_open(path, framework="pt") as f:
        last = f.offset_keys()[-1]
    data = path.read_bytes()
    path.write_bytes(data[:-4])  # the last tensor loses its last float
    _raises(path, "model.safetensors", "truncated", repr(last))
    path.write_bytes(data[:20])  # the header itself is cut
    _raises(path, "model.safetensors", "truncated")


def test_truncated_torch_zip(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(_state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    _raises(path, "model.pt", "truncated or corrupt")


def test_truncated_shard_fails_on_opening(tmp_path):
    index, files = _write_sharded(tmp_path, _state_dict(), 3, "safetensors")
    shard = files["head.weight"]
    shard.write_bytes(shard.read_bytes()[:-8])
    _raises(index, shard.name, "truncated")


@pytest.mark.parametrize("kind", ["safetensors", "torch"])
def test_index_with_missing_shard(tmp_path, kind):
    index, files = _write_sharded(tmp_path, _state_dict(), 3, kind)
    files["fc1.weight"].unlink()
    _raises(index, files["fc1.weight"].name, "missing", "download")


def test_index_naming_a_tensor_its_shard_lacks(tmp_path):
    index, files = _write_sharded(tmp_path, _state_dict(), 3, "safetensors")
    content = json.loads(index.read_text())
    content["weight_map"]["ghost.weight"] = files["fc1.weight"].name
    index.write_text(json.dumps(content))
    _raises(index, "ghost.weight", files["fc1.weight"].name)


@pytest.mark.parametrize("text", ["not json", json.dumps({"metadata": {}}), json.dumps({"weight_map": {"a": 1}})])
def test_bad_index(tmp_path, text):
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(text)
    _raises(index, "model.safetensors.index.json")


def test_unknown_safetensors_dtype(tmp_path):
    """A dtype code the safetensors library does not know: the header is rewritten with "Q4"."""
    path = tmp_path / "model.safetensors"
    save_file({"a.weight": torch.ones(2, 2), "b.weight": torch.ones(2, 2)}, path)
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    header["b.weight"]["dtype"] = "Q4"
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length:])
    _raises(path, "model.safetensors", "'b.weight'", "Q4", "dequantised first")


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
def test_float8_tensor_is_refused(tmp_path, fmt):
    sd = {"a.weight": torch.ones(2, 2), "b.weight": torch.ones(2, 2).to(torch.float8_e4m3fn)}
    path = tmp_path / f"model.{'safetensors' if fmt == 'safetensors' else 'pt'}"
    save_file(sd, path) if fmt == "safetensors" else torch.save(sd, path)
    _raises(path, path.name, "'b.weight'", "F8_E4M3" if fmt == "safetensors" else "float8_e4m3fn", "dequantised")


def test_complex_tensor_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"a.weight": torch.ones(2, 2), "z": torch.zeros(3, dtype=torch.complex64)}, path)
    _raises(path, "model.pt", "'z'", "complex64")


def test_quantised_checkpoint_is_refused(tmp_path):
    """GPTQ packs weights into int32 ``qweight`` tensors, which would otherwise pass as buffers."""
    path = tmp_path / "gptq.safetensors"
    save_file({"q_proj.qweight": torch.zeros(4, 8, dtype=torch.int32), "q_proj.scales": torch.ones(1, 8).half()}, path)
    _raises(path, "gptq.safetensors", "'q_proj.qweight'", "dequantised first")


def test_pickled_module_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(nn.Linear(3, 2), path)
    _raises(path, "model.pt", "torch.nn.modules.linear.Linear", "model.state_dict()")


def test_torch_file_without_a_dict_of_tensors(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([torch.ones(2)], path)
    _raises(path, "list.pt", "list", "model.state_dict()")
    path = tmp_path / "dict.pt"
    torch.save({"epoch": 3, "model": {"lr": 0.1}}, path)
    _raises(path, "dict.pt", "without tensors", "model.state_dict()")


def test_empty_safetensors_file(tmp_path):
    path = tmp_path / "empty.safetensors"
    save_file({}, path)
    _raises(path, "empty.safetensors", "no tensors")


def test_names_clashing_after_prefix_stripping(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"fc.weight": torch.ones(2, 2), "module.fc.weight": torch.zeros(2, 2)}, path)
    _raises(path, "model.pt", "'module.fc.weight'", "'fc.weight'")


@pytest.mark.parametrize("names, message", [
    ([], "no *.index.json and no weights file"),
    (["model.safetensors", "pytorch_model.bin"], "2 weights files"),
    (["model.safetensors.index.json", "pytorch_model.bin.index.json"], "2 checkpoint indexes"),
])
def test_ambiguous_or_empty_folder(tmp_path, names, message):
    folder = tmp_path / "bert"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(b"")
    _raises(folder, "bert", message)


def test_unknown_name_and_closed_file(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(_state_dict(), path)
    wf = open_weights(path)
    with pytest.raises(WeightsError, match=r"model\.safetensors has no tensor named 'fc1.weigth'; "
                                           r"did you mean 'fc1.weight'"):
        wf.load("fc1.weigth")
    wf.close()
    with pytest.raises(WeightsError, match=r"model\.safetensors is closed"):
        wf.load("fc1.weight")


# --------------------------------------------------------------------------- memory

# The child process reads every tensor of a checkpoint one at a time, as an analysis does (float64
# NumPy copy, singular values), and prints its peak resident set size in KiB: VmHWM of
# /proc/self/status, not getrusage's ru_maxrss, which is preserved across execve (getrusage(2),
# NOTES) and so starts at the peak of the pytest process that forked the child (~650 MiB here,
# which hid every difference). glibc's malloc raises its mmap threshold after large frees, so freed
# 4-8 MiB blocks may stay in the heap and the peak varies by ~30 MiB from run to run; a fixed
# threshold (1 MiB) makes it reproducible to ~1 MiB.
_CHILD = """
import re, sys
import scipy.linalg, torch
from rmtweights.weights.source import open_weights
kept = []
if sys.argv[2] == "analyze":  # the whole per-layer analysis: spectra, bema fit, heavy tail, one tensor at a time
    from rmtweights.api import analyze_model
    table = analyze_model(sys.argv[1], methods=["bema"], n_bootstrap=0)
    assert (table.status == "ok").all()
with open_weights(sys.argv[1]) as wf:
    for entry in wf.entries if sys.argv[2] != "analyze" else []:
        tensor = wf.load(entry.name)
        if sys.argv[2] == "keep":
            kept.append(tensor)
        else:
            scipy.linalg.svdvals(tensor.to(torch.float64).numpy())
        del tensor
print(len(wf.entries), re.search(r"VmHWM:\\s*(\\d+) kB", open("/proc/self/status").read()).group(1))
"""
_LAYER_MIB = 4  # a 1024 x 1024 float32 layer
# Allowed growth of the peak for 24 extra layers (96 MiB of weights): a quarter of them. Measured:
# within 1 MiB; holding a whole 64 MiB shard mapped (safetensors' default mmap backend) or the torch
# file's map grows it by 48 and 96 MiB.
_MARGIN_MIB = 24


def _peak_mib(path: Path, mode: str) -> tuple[int, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MALLOC_MMAP_THRESHOLD_": str(1 << 20), "PYTHONPATH": str(Path(rmtweights.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), mode], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]) / 1024


def _layers(n: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(n)
    return {f"layers.{i}.weight": torch.randn(1024, 1024, generator=g) for i in range(n)}


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status; the malloc tuning is glibc's")
@pytest.mark.parametrize("fmt", ["sharded-safetensors", "torch", "gguf"])
def test_peak_memory_does_not_grow_with_model_size(tmp_path, fmt):
    """Peak RSS of reading 32 layers exceeds that of 8 layers by far less than the 96 MiB of extra weights.

    Control: keeping every loaded tensor makes the same measurement grow by the extra weights, so
    the measurement resolves the effect it bounds.
    """
    paths = {}
    for n in (8, 32):
        sd = _layers(n)
        if fmt == "torch":
            paths[n] = tmp_path / f"m{n}.pt"
            torch.save(sd, paths[n])
        elif fmt == "gguf":  # Q8_0: each load reads one tensor's blocks and dequantises them to float32
            paths[n] = write_gguf(tmp_path / f"m{n}.gguf", {k: (v.numpy(), "Q8_0") for k, v in sd.items()})
        else:
            shards = {k: 2 * i // n for i, k in enumerate(sd)}  # two shards, as large as the model allows
            folder = tmp_path / f"m{n}"
            folder.mkdir()
            for s in set(shards.values()):
                save_file({k: v for k, v in sd.items() if shards[k] == s}, folder / f"model-{s}.safetensors")
            paths[n] = folder / "model.safetensors.index.json"
            paths[n].write_text(json.dumps({"weight_map": {k: f"model-{s}.safetensors" for k, s in shards.items()}}))
        del sd
    try:
        (n8, small), (n32, large) = _peak_mib(paths[8], "svd"), _peak_mib(paths[32], "svd")
        assert (n8, n32) == (8, 32)
        assert large - small < _MARGIN_MIB, (small, large)
        # the same for the whole analysis of rmtweights.api.analyze_model (rmtweights.stages.spectra etc.)
        small, large = _peak_mib(paths[8], "analyze")[1], _peak_mib(paths[32], "analyze")[1]
        assert large - small < _MARGIN_MIB, ("analyze", small, large)
        _, kept_small = _peak_mib(paths[8], "keep")
        _, kept_large = _peak_mib(paths[32], "keep")
        assert kept_large - kept_small > 0.9 * 24 * _LAYER_MIB, (kept_small, kept_large)
    finally:  # 320 MiB of checkpoints: do not leave them to pytest's kept temporary folders
        for path in paths.values():
            for file in (path.parent.glob("*") if fmt == "sharded-safetensors" else [path]):
                file.unlink()


# --------------------------------------------------------------------------- GGUF and int8 weights


def test_gguf_round_trip_every_type(tmp_path):
    """Plain types load as stored; BF16 bit-exact; quantised types as gguf's own dequantisation; shapes in
    torch order (the file stores ggml's innermost-first dims); the type in ``quantisation``; file order kept."""
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal((48, 64)).astype(np.float32)
    f16 = rng.standard_normal((32, 64)).astype(np.float16)
    bf = rng.standard_normal((16, 64)).astype(np.float32)
    q8 = rng.standard_normal((40, 64)).astype(np.float32)
    q4 = q4_k_blocks(8, 512)
    ids = np.arange(12, dtype=np.int32)
    path = write_gguf(tmp_path / "model.gguf", {"token_embd.weight": (f32, "F32"), "blk.0.attn_q.weight": (f16, "F16"),
                                                "blk.0.attn_k.weight": (bf, "BF16"), "blk.0.ffn_up.weight": (q8, "Q8_0"),
                                                "blk.0.ffn_down.weight": (q4, "Q4_K"), "ids": (ids, "I32")})
    with open_weights(path) as wf:
        assert wf.format == "gguf" and wf.metadata["general.name"] == "test model"
        assert [(e.name, e.shape, e.dtype, e.quantisation) for e in wf.entries] == [
            ("token_embd.weight", (48, 64), "float32", "F32"), ("blk.0.attn_q.weight", (32, 64), "float16", "F16"),
            ("blk.0.attn_k.weight", (16, 64), "bfloat16", "BF16"), ("blk.0.ffn_up.weight", (40, 64), "float32", "Q8_0"),
            ("blk.0.ffn_down.weight", (8, 512), "float32", "Q4_K"), ("ids", (12,), "int32", "I32")]
        assert np.array_equal(wf.load("token_embd.weight").numpy(), f32)
        assert np.array_equal(wf.load("blk.0.attn_q.weight").numpy(), f16)
        assert torch.equal(wf.load("blk.0.attn_k.weight"), torch.from_numpy(bf).to(torch.bfloat16))  # round to nearest
        q8_ref = quants.dequantize(quants.quantize(q8, GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0)
        assert np.array_equal(wf.load("blk.0.ffn_up.weight").numpy(), q8_ref)
        assert np.array_equal(wf.load("blk.0.ffn_down.weight").numpy(), quants.dequantize(q4, GGMLQuantizationType.Q4_K))
        assert np.array_equal(wf.load("ids").numpy(), ids)
    # a folder holding one .gguf file, and the format from the content, not the name
    assert open_weights(tmp_path).format == "gguf"
    (tmp_path / "model.gguf").rename(tmp_path / "model.bin")
    assert open_weights(tmp_path / "model.bin").format == "gguf"


def test_truncated_gguf_is_refused_on_opening(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", {"a.weight": (np.ones((64, 64), np.float32), "F32"),
                                            "b.weight": (np.ones((64, 64), np.float32), "F32")})
    data = path.read_bytes()
    path.write_bytes(data[:-1000])
    _raises(path, "m.gguf", "truncated or corrupt", "download it again")


def _int8_state(layout: str) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    q = torch.randint(-127, 128, (24, 32), generator=g, dtype=torch.int8)
    if layout == "row":
        scale = torch.rand(24, 1, generator=g) * 0.01
        return {"fc.weight": q, "fc.weight_scale": scale, "fc.bias": torch.zeros(24)}, q.float() * scale
    if layout == "group":  # 4 groups of 8 columns, with a zero point
        scale, zero = torch.rand(24, 4, generator=g) * 0.01, torch.randint(-3, 3, (24, 4), generator=g, dtype=torch.int8)
        expand = lambda t: t.float().repeat_interleave(8, dim=1)  # noqa: E731
        return ({"fc.weight": q, "fc.weight_scale": scale, "fc.weight_zero_point": zero},
                (q.float() - expand(zero)) * expand(scale))
    scb = torch.rand(24, generator=g) * 3  # bitsandbytes LLM.int8: row absmax
    return {"fc.weight": q, "fc.SCB": scb, "fc.weight_format": torch.tensor(0, dtype=torch.uint8)}, \
        q.float() * scb[:, None] / 127


@pytest.mark.parametrize("layout", ["row", "group", "SCB"])
@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
def test_int8_weights_with_scales_are_dequantised(tmp_path, layout, fmt):
    state, expected = _int8_state(layout)
    path = tmp_path / ("m.safetensors" if fmt == "safetensors" else "m.pt")
    save_file(state, path) if fmt == "safetensors" else torch.save(state, path)
    with open_weights(path) as wf:
        entry = next(e for e in wf.entries if e.name == "fc.weight")
        assert (entry.dtype, entry.quantisation) == ("float32", "int8+scale")
        torch.testing.assert_close(wf.load("fc.weight"), expected, rtol=1e-6, atol=0)


def test_int8_weight_without_scale_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    save_file({"fc.weight": torch.zeros(4, 4, dtype=torch.int8), "ids": torch.zeros(3, dtype=torch.int8)}, path)
    _raises(path, "m.safetensors", "'fc.weight'", "int8 weight without its scale", "fc.weight_scale")
