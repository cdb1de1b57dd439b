"""data.load_prepared: the data set a rule loads is the one prepare_dataset described, or a ValueError
naming what changed."""

from __future__ import annotations

import copy

import pytest
import torch

from rmtweights.data import load_dataset, load_prepared, summarize

SYNTHETIC = {"n_train": 200, "n_test": 100, "size": 8}
SPEC = {"source": "synthetic", "data_dir": None, "synthetic": SYNTHETIC, "download": False, "normalize": "channel"}


@pytest.fixture(scope="module")
def prepared():
    splits = load_dataset("synthetic", synthetic=SYNTHETIC)
    return splits, summarize(splits)


def test_matches_summarize_and_load_dataset(prepared):
    splits, summary = prepared
    loaded = load_prepared(SPEC, summary)
    assert summarize(loaded) == summary
    assert (summary["n_train"], summary["n_test"], summary["input_shape"]) == (200, 100, [1, 8, 8])
    for name in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(loaded, name), getattr(splits, name)), name


@pytest.mark.parametrize("key, value", [("n_train", 300), ("num_classes", 5), ("input_shape", [1, 28, 28])])
def test_a_changed_summary_names_the_key(prepared, key, value):
    _, summary = prepared
    changed = {**copy.deepcopy(summary), key: value}
    with pytest.raises(ValueError, match=rf"differs from the one prepared earlier in \['{key}'\]"):
        load_prepared(SPEC, changed)


def test_other_data_names_every_changed_statistic(prepared):
    _, summary = prepared
    other = {**SPEC, "synthetic": {**SYNTHETIC, "signal": 2.0}}  # other templates: other channel mean and SD
    with pytest.raises(ValueError, match=r"\['mean', 'std'\]") as err:
        load_prepared(other, summary)
    assert "'synthetic'" in str(err.value) and "resources/datasets" in str(err.value)


def test_a_moved_source_is_not_a_change(prepared):
    _, summary = prepared
    moved = {**summary, "source": "idx:/somewhere/else"}  # the folder may move; the data are what counts
    assert summarize(load_prepared(SPEC, moved))["n_train"] == 200


def test_normalize_key_is_applied_and_recorded(prepared):
    """normalize: image standardises every image by its own mean and SD (paper 001 App. A) and is part of
    the summary, so a data set prepared with another normalisation is refused."""
    _, summary = prepared
    spec = {**SPEC, "normalize": "image"}
    with pytest.raises(ValueError, match="normalize"):
        load_prepared(spec, summary)
    loaded = load_prepared(spec, {**summary, "normalize": "image", "mean": [], "std": []})
    flat = loaded.train_x.flatten(1).double()
    assert torch.allclose(flat.mean(dim=1), torch.zeros(len(flat), dtype=torch.float64), atol=1e-5)
    assert torch.allclose(flat.std(dim=1, correction=0), torch.ones(len(flat), dtype=torch.float64), atol=1e-4)
