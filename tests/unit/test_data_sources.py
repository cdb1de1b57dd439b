"""Data sets you bring (rmtweights.data_sources, through rmtweights.data): .npz arrays, image folders, torchvision
classes; bad data stops with a message naming the file and the array."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rmtweights import data, plan
from rmtweights.data_sources import DataError, check_arrays, read_image_folder, read_npz, read_torchvision


def arrays(n_train=40, n_test=20, shape=(1, 6, 6), classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return dict(x_train=rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
                y_train=np.arange(n_train) % classes,
                x_test=rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
                y_test=np.arange(n_test) % classes)


def write_npz(path, **overrides):
    values = {**arrays(), **overrides}
    np.savez(path, **{k: v for k, v in values.items() if v is not None})
    return path


def test_npz_is_read_and_normalised_like_any_data_set(tmp_path):
    path = write_npz(tmp_path / "mine.npz")
    splits = data.load_dataset("npz", path=path)
    assert splits.input_shape == (1, 6, 6) and splits.num_classes == 4  # the largest label + 1
    assert splits.train_x.shape == (40, 1, 6, 6) and splits.train_y.dtype == torch.int64
    # per-channel normalisation with training statistics (paper 000 Sec. 4): mean 0, SD 1 over the training set
    assert abs(float(splits.train_x.mean())) < 1e-5 and abs(float(splits.train_x.std(correction=0)) - 1) < 1e-5
    assert splits.source == f"npz:{path}" and data.summarize(splits)["n_test"] == 20
    # N x H x W images are one channel; float pixels are kept as given with normalize none; classes may be more
    flat = write_npz(tmp_path / "flat.npz", x_train=np.full((40, 5, 5), 0.25, np.float32),
                     x_test=np.zeros((20, 5, 5), np.float32))
    splits = data.load_dataset("npz", path=flat, normalize="none", classes=7)
    assert splits.input_shape == (1, 5, 5) and splits.num_classes == 7 and float(splits.train_x[0, 0, 0, 0]) == 0.25


def test_load_spec_reads_what_the_plan_passes(tmp_path):
    path = write_npz(tmp_path / "mine.npz")
    spec = {"name": "mine", "source": "npz", "path": str(path), "classes": 5, "synthetic": None, "data_dir": "data",
            "download": False, "normalize": "image"}
    splits = data.load_spec(spec)
    assert splits.num_classes == 5 and splits.normalize == "image"
    assert set(plan.DATASET_OPTIONS["npz"]) == set(data.SOURCE_OPTIONS["npz"])


BAD_NPZ = [
    (dict(y_test=None), "no array y_test"),
    (dict(x_train=np.zeros((40, 36), np.uint8)), "x_train has shape (40, 36); expected images"),
    (dict(x_train=np.zeros((40, 6, 6, 3), np.uint8), x_test=np.zeros((20, 6, 6, 3), np.uint8)),
     "x_train has shape (40, 6, 6, 3), which looks channels-last"),
    (dict(x_test=np.zeros((0, 1, 6, 6), np.uint8), y_test=np.zeros(0, np.int64)), "x_test is empty"),
    (dict(y_train=np.arange(39) % 4), "y_train has 39 labels but x_train has 40 images"),
    (dict(y_test=np.full(20, 9)), "y_test holds label 9 outside 0..3"),
    (dict(y_train=np.r_[-1, np.arange(39) % 4]), "y_train holds label -1 outside"),
    (dict(y_train=np.arange(40) % 4 + 0.5), "y_train holds non-integer labels"),
    (dict(x_test=np.zeros((20, 1, 5, 5), np.uint8)), "x_train images are (1, 6, 6) but x_test images (1, 5, 5)"),
    (dict(y_train=np.zeros(40, np.int64), y_test=np.zeros(20, np.int64)), "y_train has a single class"),
]


@pytest.mark.parametrize("override,needle", BAD_NPZ, ids=[n.split(" ")[0] + "-" + n.split(" ")[1] for _, n in BAD_NPZ])
def test_bad_npz_data_stops_naming_the_file_and_the_array(tmp_path, override, needle):
    path = write_npz(tmp_path / "mine.npz", **override)
    with pytest.raises(DataError) as err:
        data.load_dataset("npz", path=path)
    assert str(path) in str(err.value) and needle in str(err.value), str(err.value)


def test_nan_pixels_name_the_image(tmp_path):
    x = np.zeros((40, 1, 6, 6), np.float32)
    x[17, 0, 2, 3] = np.nan
    x[30, 0, 0, 0] = np.inf
    path = write_npz(tmp_path / "mine.npz", x_train=x, x_test=np.zeros((20, 1, 6, 6), np.float32))
    with pytest.raises(DataError, match=r"mine\.npz: x_train has 2 image\(s\) with NaN or infinite pixels "
                                        r"\(the first: image 17, NaN\)"):
        read_npz(path)


def test_a_missing_or_unreadable_npz_is_named(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_npz(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DataError, match=r"text\.npz: not a readable \.npz file"):
        read_npz(tmp_path / "text.npz")


def test_check_arrays_with_given_classes_refuses_larger_labels():
    a = arrays(classes=4)
    with pytest.raises(DataError, match=r"where: y_train holds label 3 outside 0\.\.2 \(classes;"):
        check_arrays(a["x_train"], a["y_train"], a["x_test"], a["y_test"], where="where", num_classes=3)


def _image_folder(root, sizes, mode="RGB"):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, per_class in (("train", 3), ("test", 2)):
        for label, name in enumerate(["cat", "ant", "bee"]):  # sorted: ant, bee, cat
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                h, w = sizes[i % len(sizes)]
                pixels = np.full((h, w, 3), 40 * label, np.uint8) + rng.integers(0, 10, (h, w, 3), dtype=np.uint8)
                Image.fromarray(pixels).convert(mode).save(folder / f"{i}.png")
    (root / "train" / "cat" / "notes.txt").write_text("not an image: ignored")
    return root


def test_an_image_folder_is_resized_converted_and_labelled_by_sorted_class_names(tmp_path):
    root = _image_folder(tmp_path / "pics", sizes=[(10, 12), (7, 7)])
    x_train, y_train, x_test, y_test, classes = read_image_folder(root, size=(8, 9), channels=3)
    assert x_train.shape == (9, 3, 8, 9) and x_train.dtype == np.uint8 and classes == 3
    assert list(y_train) == [0, 0, 0, 1, 1, 1, 2, 2, 2] and list(y_test) == [0, 0, 1, 1, 2, 2]
    # class "cat" (label 2) was drawn at grey level 0 + noise, "ant" (label 0) at 40
    assert x_train[y_train == 2].mean() < 10 and 40 <= x_train[y_train == 0].mean() < 50
    grey = read_image_folder(root, size=(8, 9), channels=1)[0]
    assert grey.shape == (9, 1, 8, 9)
    splits = data.load_dataset("imagefolder", path=root, size=(8, 9), channels=1)
    assert splits.input_shape == (1, 8, 9) and splits.num_classes == 3


def test_a_bad_image_folder_is_named(tmp_path):
    root = _image_folder(tmp_path / "pics", sizes=[(8, 8)])
    (root / "test" / "dog").mkdir()
    with pytest.raises(DataError, match=r"test: class folder\(s\) \['dog'\] are not in train/"):
        read_image_folder(root, size=(8, 8))
    (root / "test" / "dog").rmdir()
    (root / "train" / "ant" / "broken.png").write_bytes(b"no png")
    with pytest.raises(DataError, match=r"broken\.png is not a readable image"):
        read_image_folder(root, size=(8, 8))
    with pytest.raises(DataError, match="no train/ folder"):
        read_image_folder(tmp_path, size=(8, 8))


class FakeArrays:
    """A torchvision-like data set with `data` and `targets` (MNIST layout: N x H x W)."""

    classes = ["a", "b", "c"]

    def __init__(self, root, train=True, download=False, extra=None):
        n = 12 if train else 6
        self.data = torch.arange(n * 16, dtype=torch.uint8).reshape(n, 4, 4)
        self.targets = torch.arange(n) % 3
        self.extra = extra


class FakeItems:
    """A torchvision-like data set with `split=` and PIL images only (no arrays)."""

    def __init__(self, root, split="train", download=False):
        self.n = 8 if split == "train" else 4

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        from PIL import Image

        return Image.fromarray(np.full((5, 6, 3), index, np.uint8)), index % 2


def test_any_torchvision_class_by_name(tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setattr(torchvision.datasets, "FakeArrays", FakeArrays, raising=False)
    monkeypatch.setattr(torchvision.datasets, "FakeItems", FakeItems, raising=False)
    x, y, xt, yt, classes = read_torchvision("FakeArrays", tmp_path, kwargs={"extra": 1})
    assert x.shape == (12, 4, 4) and classes == 3 and list(yt) == [0, 1, 2, 0, 1, 2]
    x, y, xt, yt, classes = read_torchvision("FakeItems", tmp_path)
    assert x.shape == (8, 3, 5, 6) and xt.shape == (4, 3, 5, 6) and classes == 2 and int(x[3].max()) == 3
    x = read_torchvision("FakeItems", tmp_path, size=(3, 3))[0]
    assert x.shape == (8, 3, 3, 3)
    splits = data.load_dataset("torchvision", tmp_path, torchvision="FakeArrays")
    assert splits.input_shape == (1, 4, 4) and splits.num_classes == 3


def test_a_torchvision_class_without_files_says_to_download(tmp_path):
    with pytest.raises(DataError, match=r"KMNIST .*cannot load the train split: .*set `download: true`"):
        read_torchvision("KMNIST", tmp_path)
    with pytest.raises(DataError, match="has no data set class 'NoSuchSet'"):
        read_torchvision("NoSuchSet", tmp_path)
