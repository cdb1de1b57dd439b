"""Tests of training: rmtweights.train, train_batched, train_common, checkpoint and evaluate.

Recipe, loss scaling, reproducibility, resume, seed-batched training.

Everything runs on tiny synthetic data (8x8 images, 10 classes) and tiny widths, 1-2 epochs, on
the CPU with one thread (the test machine is shared; OpenMP threads contending with other jobs
made steps 20x slower). Exactness claims (same seed, resume) are checked with ``torch.equal``.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rmtweights import io
from rmtweights.checkpoint import CHECKPOINT_KEYS, load_trained_model
from rmtweights.evaluate import evaluate
from rmtweights.train import train_model
from rmtweights.train_batched import _stacked_dense_forward, train_seeds_batched
from rmtweights.train_common import METRIC_COLUMNS, TrainConfig, index_batches, init_model, lr_at, seed_streams
from rmtweights.data import load_dataset
from rmtweights.models import build_model

MODEL = "spike_mlp"
KWARGS = {"width": 24}
CONFIG = TrainConfig(epochs=2, batch_size=32, lr=0.05, momentum=0.5, weight_decay=1e-4, lr_decay=0.9,
                           eval_batch_size=200)


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def data():
    # signal 1.0: templates clearly above the unit pixel noise, so 2 epochs of SGD reach far above chance
    return load_dataset("synthetic", synthetic={"n_train": 768, "n_test": 400, "size": 8, "signal": 1.0}, seed=0)


def _run(data, tmp_path, name, seed=0, config=CONFIG, log=None, model=MODEL, kwargs=KWARGS):
    return train_model(model, kwargs, data, config, seed, tmp_path / name, device="cpu", log=log)


def _weights(path):
    return io.load_checkpoint(path)["model_state"]


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# ------------------------------------------------------------------------------------------------
# config, recipes, schedule


def test_config_round_trips_through_a_plain_dict():
    # paper 001 App. A, miniAlexNet: lr 0.001 decayed by 0.95 per epoch, momentum 0.95, batch 32, L2 1e-4
    recipe = {"epochs": 100, "batch_size": 32, "lr": 0.001, "momentum": 0.95, "weight_decay": 1e-4, "lr_decay": 0.95}
    config = TrainConfig.from_dict(recipe)
    assert config == TrainConfig(**recipe)
    assert (config.momentum, config.lr, config.lr_decay, config.batch_size, config.weight_decay) == \
        (0.95, 0.001, 0.95, 32, 1e-4)
    # to_dict holds every field (the defaults of the ones not given), and from_dict inverts it
    assert config.to_dict() == {**TrainConfig().to_dict(), **recipe}
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", 2.5), ("lr", -1.0), ("momentum", 1.0),
                                          ("weight_decay", -1e-4), ("lr_decay", 0.0), ("output_scale", 0.0)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_config_from_dict_rejects_unknown_key():
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_lr_at_is_exponential_per_epoch():
    config = TrainConfig(lr=0.001, lr_decay=0.95)
    # closed form lr * decay**epoch, paper 001 App. A; exact up to float rounding of the power
    assert [lr_at(config, e) for e in (0, 1, 10)] == pytest.approx([0.001, 0.00095, 0.001 * 0.95**10],
                                                                        rel=1e-15)
    assert lr_at(TrainConfig(), 29) == 0.01  # paper 000: constant


# ------------------------------------------------------------------------------------------------
# loss and evaluation


@pytest.mark.parametrize("alpha", [0.5, 1.0, 5.0])
def test_evaluate_zero_logits_gives_log_k_over_alpha_squared(data, alpha):
    # closed form: zero logits -> softmax uniform -> CE(alpha * 0) = ln K, loss = ln K / alpha^2 (eq. 3, paper 001)
    model = build_model(MODEL, data.input_shape, data.num_classes, **KWARGS)
    torch.nn.init.zeros_(model.fc3.weight)
    loss, _ = evaluate(model, data.test_x, data.test_y, batch_size=128, output_scale=alpha)
    assert loss == pytest.approx(math.log(10) / alpha**2, rel=1e-6)  # float32 logits, float64 accumulation


@pytest.mark.parametrize("alpha", [0.5, 5.0])
def test_evaluate_matches_scaled_cross_entropy(data, alpha):
    model = init_model(MODEL, KWARGS, data.input_shape, data.num_classes, seed=1)
    model.train()
    with torch.no_grad():
        logits = model(data.test_x)
    expected = F.cross_entropy(alpha * logits, data.test_y).item() / alpha**2
    expected_acc = (logits.argmax(1) == data.test_y).double().mean().item()  # alpha > 0 keeps the argmax
    loss, acc = evaluate(model, data.test_x, data.test_y, batch_size=97, output_scale=alpha)
    assert loss == pytest.approx(expected, rel=1e-5)  # chunked float64 sum vs one float32 mean
    assert acc == expected_acc
    assert model.training  # mode restored


def test_output_scale_controls_laziness(data, tmp_path):
    # paper 001 Sec. 5: alpha > 1 scales the updates down (lazy), alpha < 1 up (rich): the relative
    # weight change ||W - W0|| / ||W0|| of the hidden layer must be ordered rich > typical > lazy
    config = TrainConfig(epochs=1, batch_size=32, lr=0.05)
    change = {}
    for alpha in (0.5, 1.0, 5.0):
        cfg = TrainConfig(**{**config.to_dict(), "output_scale": alpha})
        _run(data, tmp_path, f"a{alpha}", config=cfg)
        w0 = _weights(tmp_path / f"a{alpha}" / "init.pt")["fc2.weight"]
        w1 = _weights(tmp_path / f"a{alpha}" / "final.pt")["fc2.weight"]
        change[alpha] = ((w1 - w0).norm() / w0.norm()).item()
    assert change[0.5] > change[1.0] > change[5.0] > 0


# ------------------------------------------------------------------------------------------------
# training, checkpoints, reproducibility


def test_training_beats_chance_and_writes_checkpoints(data, tmp_path):
    lines = []
    rng_before = torch.get_rng_state()
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    metrics = _run(data, tmp_path, "run", seed=3, log=lines.append)

    # frame: one row per epoch, the documented columns, the decayed learning rate
    assert isinstance(metrics, pd.DataFrame)
    assert tuple(metrics.columns) == METRIC_COLUMNS
    assert metrics["epoch"].tolist() == [1, 2]
    assert metrics["lr"].tolist() == pytest.approx([0.05, 0.045])
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2")
    # 10 balanced classes: chance is 0.1; templates at signal 1.0 are learned within 2 epochs
    assert metrics["test_acc"].iloc[-1] > 0.5
    assert metrics["train_loss"].iloc[1] < metrics["train_loss"].iloc[0]
    # the caller's global RNG and determinism setting are untouched
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.are_deterministic_algorithms_enabled() == deterministic_before

    run = tmp_path / "run"
    # a finished run keeps init.pt and final.pt; last.pt (the same state as final.pt) is gone
    assert sorted(p.name for p in run.iterdir()) == ["final.pt", "init.pt"]
    init, final = (io.load_checkpoint(run / f) for f in ("init.pt", "final.pt"))
    for ckpt in (init, final):
        assert set(ckpt) == set(CHECKPOINT_KEYS)
        assert ckpt["data_generator_state"].dtype == torch.uint8
    assert (init["epoch"], final["epoch"]) == (0, 2)
    assert init["metrics"] == [] and final["metrics"] == metrics.to_dict("records")
    assert final["config"] == CONFIG.to_dict() and final["seed"] == 3
    # init.pt holds the Glorot initialisation drawn from the seed
    glorot = build_model(MODEL, data.input_shape, data.num_classes, generator=torch.Generator().manual_seed(3),
                         **KWARGS)
    _assert_same_weights(init["model_state"], glorot.state_dict())
    assert not torch.equal(init["model_state"]["fc1.weight"], final["model_state"]["fc1.weight"])

    # load_trained_model rebuilds the network; its accuracy is the last epoch's
    model = load_trained_model(run / "final.pt")
    _assert_same_weights(model.state_dict(), final["model_state"])
    assert evaluate(model, data.test_x, data.test_y)[1] == metrics["test_acc"].iloc[-1]


def test_same_seed_identical_different_seed_differs(data, tmp_path):
    _run(data, tmp_path, "a", seed=5)
    _run(data, tmp_path, "b", seed=5)
    _run(data, tmp_path, "c", seed=6)
    a, b, c = (_weights(tmp_path / d / "final.pt") for d in "abc")
    _assert_same_weights(a, b)  # CPU + deterministic algorithms: bit-identical
    assert all(not torch.equal(a[k], c[k]) for k in a if k.endswith("weight"))


class Interrupt(Exception):
    pass


def _interrupt_after(n_epochs):
    seen = []

    def log(line):
        seen.append(line)
        if line.startswith(f"epoch {n_epochs}/") or f": epoch {n_epochs}/" in line:
            raise Interrupt(line)

    return log


def test_resume_after_interrupt_is_exact(data, tmp_path):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 3})
    full = _run(data, tmp_path, "full", seed=2, config=config)
    with pytest.raises(Interrupt):
        _run(data, tmp_path, "cut", seed=2, config=config, log=_interrupt_after(1))
    assert io.load_checkpoint(tmp_path / "cut" / "last.pt")["epoch"] == 1
    assert not (tmp_path / "cut" / "final.pt").exists()
    lines = []
    resumed = _run(data, tmp_path, "cut", seed=2, config=config, log=lines.append)
    assert "resuming" in lines[0] and len(lines) == 3  # resume note + epochs 2 and 3
    _assert_same_weights(_weights(tmp_path / "full" / "final.pt"), _weights(tmp_path / "cut" / "final.pt"))
    columns = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"]  # not the wall time
    pd.testing.assert_frame_equal(full[columns], resumed[columns])
    # the momentum buffers continued too
    opt_full = io.load_checkpoint(tmp_path / "full" / "final.pt")["optimizer_state"]["state"]
    opt_cut = io.load_checkpoint(tmp_path / "cut" / "final.pt")["optimizer_state"]["state"]
    for key in opt_full:
        assert torch.equal(opt_full[key]["momentum_buffer"], opt_cut[key]["momentum_buffer"])


def test_a_finished_run_trains_again_from_scratch(data, tmp_path):
    """No last.pt stays behind, so a rerun (e.g. after a change of the training code) retrains and does not
    just copy the old weights."""
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 1})
    _run(data, tmp_path, "run", seed=1, config=config)
    lines = []
    _run(data, tmp_path, "run", seed=1, config=config, log=lines.append)
    assert len(lines) == 1 and lines[0].startswith("epoch 1/1")  # trained, no "resuming"


def test_incompatible_last_checkpoint_restarts(data, tmp_path):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 2})
    with pytest.raises(Interrupt):
        _run(data, tmp_path, "run", seed=1, config=config, log=_interrupt_after(1))
    lines = []
    other = TrainConfig(**{**CONFIG.to_dict(), "epochs": 1, "lr": 0.02})
    _run(data, tmp_path, "run", seed=1, config=other, log=lines.append)
    assert "not resuming" in lines[0] and "config differs" in lines[0]
    _run(data, tmp_path, "fresh", seed=1, config=other)
    _assert_same_weights(_weights(tmp_path / "run" / "final.pt"), _weights(tmp_path / "fresh" / "final.pt"))


def test_bad_arguments_raise(data, tmp_path):
    with pytest.raises(ValueError, match="seed"):
        _run(data, tmp_path, "x", seed=-1)
    with pytest.raises(ValueError, match="config"):
        train_model(MODEL, KWARGS, data, {"epochs": 1}, 0, tmp_path / "x", log=None)
    with pytest.raises(ValueError, match="model_name"):
        load_trained_model({"model_state": {}})


# ------------------------------------------------------------------------------------------------
# seed-batched training (issue 8)

SEEDS = [11, 12, 13]


@pytest.mark.parametrize("model, kwargs", [
    (MODEL, KWARGS),
    # conv, max-pool and local response normalisation: grouped convolutions under vmap
    ("minialexnet", {"filters": (3, 4), "fc": (12, 8), "kernel_size": 3}),
])
def test_batched_seeds_match_separate_training(data, tmp_path, model, kwargs):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 1})
    dirs = [tmp_path / f"batched{s}" for s in SEEDS]
    frames = train_seeds_batched(model, kwargs, data, config, SEEDS, dirs, device="cpu", log=None)
    assert len(frames) == len(SEEDS)
    for seed, frame, folder in zip(SEEDS, frames, dirs):
        separate = _run(data, tmp_path, f"separate{seed}", seed=seed, config=config, model=model, kwargs=kwargs)
        assert tuple(frame.columns) == METRIC_COLUMNS
        # init.pt: identical, both come from init_model(seed)
        _assert_same_weights(_weights(folder / "init.pt"), _weights(tmp_path / f"separate{seed}" / "init.pt"))
        got, ref = _weights(folder / "final.pt"), _weights(tmp_path / f"separate{seed}" / "final.pt")
        for key in ref:
            # batched matmuls sum in another order: float32 rounding (~1e-7 relative per step) accumulated
            # over one epoch of 24 steps stays below 1e-6 observed; 1e-4 leaves a wide margin
            rel = ((got[key] - ref[key]).norm() / ref[key].norm().clamp_min(1e-12)).item()
            assert rel < 1e-4, (key, rel)
        # a rounding-level weight difference can flip at most a borderline test sample or two
        assert abs(frame["test_acc"].iloc[-1] - separate["test_acc"].iloc[-1]) <= 0.005
        assert abs(frame["train_loss"].iloc[-1] - separate["train_loss"].iloc[-1]) < 1e-4
        ckpt = io.load_checkpoint(folder / "final.pt")
        assert set(ckpt) == set(CHECKPOINT_KEYS) and ckpt["seed"] == seed
        assert torch.equal(ckpt["data_generator_state"],
                           io.load_checkpoint(tmp_path / f"separate{seed}" / "final.pt")["data_generator_state"])


def test_batched_resume_is_exact_and_mixed_epochs_fall_back(data, tmp_path):
    dirs = [tmp_path / f"full{s}" for s in SEEDS]
    train_seeds_batched(MODEL, KWARGS, data, CONFIG, SEEDS, dirs, device="cpu", log=None)
    cut = [tmp_path / f"cut{s}" for s in SEEDS]
    with pytest.raises(Interrupt):
        train_seeds_batched(MODEL, KWARGS, data, CONFIG, SEEDS, cut, device="cpu", log=_interrupt_after(1))
    assert [io.load_checkpoint(d / "last.pt")["epoch"] for d in cut] == [1, 1, 1]
    lines = []
    train_seeds_batched(MODEL, KWARGS, data, CONFIG, SEEDS, cut, device="cpu", log=lines.append)
    assert any("resuming 3 seeds from epoch 1" in line for line in lines)
    for a, b in zip(dirs, cut):
        _assert_same_weights(_weights(a / "final.pt"), _weights(b / "final.pt"))  # same ops, same order

    # seeds at different epochs: each is trained separately, resuming its own last.pt
    mixed = [tmp_path / f"mixed{s}" for s in SEEDS]
    with pytest.raises(Interrupt):
        _run(data, tmp_path, "mixed11", seed=11, log=_interrupt_after(1))
    lines = []
    train_seeds_batched(MODEL, KWARGS, data, CONFIG, SEEDS, mixed, device="cpu", log=lines.append)
    assert any("one after another" in line for line in lines)
    for seed, folder in zip(SEEDS, mixed):
        _run(data, tmp_path, f"ref{seed}", seed=seed)
        _assert_same_weights(_weights(folder / "final.pt"), _weights(tmp_path / f"ref{seed}" / "final.pt"))


def test_batched_rejects_bad_arguments(data, tmp_path):
    with pytest.raises(ValueError, match="distinct"):
        train_seeds_batched(MODEL, KWARGS, data, CONFIG, [1, 1], [tmp_path / "a", tmp_path / "b"], log=None)
    with pytest.raises(ValueError, match="checkpoint dir"):
        train_seeds_batched(MODEL, KWARGS, data, CONFIG, [1, 2], [tmp_path / "a"], log=None)


def test_index_batches_follow_iterate_minibatches(data):
    # training gathers with index_select but must see exactly iterate_minibatches' batches and order
    from rmtweights.data import iterate_minibatches

    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    expected = list(iterate_minibatches(data.train_x, data.train_y, 100, shuffle=True, generator=g1))
    got = list(index_batches(len(data.train_y), 100, g2, torch.device("cpu")))
    assert len(got) == len(expected) == 8  # 768 = 7 * 100 + 68
    for idx, (xb, yb) in zip(got, expected):
        assert torch.equal(data.train_x.index_select(0, idx), xb) and torch.equal(data.train_y[idx], yb)
    assert torch.equal(g1.get_state(), g2.get_state())


def test_seed_streams_are_independent_and_stable():
    streams = seed_streams(7)
    assert streams["init"] == 7
    assert len({streams["init"], streams["data"], streams["torch"]}) == 3
    assert seed_streams(7) == streams and seed_streams(8) != streams
    assert np.all(np.array(list(streams.values())) >= 0)


@pytest.mark.parametrize("model, kwargs, dense", [("mlp", {"hidden": [16, 8]}, True), (MODEL, KWARGS, True),
                                                   ("minialexnet", {"filters": (3, 4), "fc": (12, 8), "kernel_size": 3}, False)])
def test_stacked_dense_forward_equals_vmap_for_mlps_only(data, model, kwargs, dense):
    models = [init_model(model, kwargs, data.input_shape, data.num_classes, s) for s in SEEDS]
    params = {name: torch.stack([dict(m.named_parameters())[name] for m in models]).detach()
              for name, _ in models[0].named_parameters()}
    forward = _stacked_dense_forward(models[0])
    assert (forward is not None) == dense
    if not dense:
        return
    x = data.train_x[:3 * 5].view(3, 5, *data.train_x.shape[1:])
    got = forward(params, x)
    ref = torch.stack([m(xb) for m, xb in zip(models, x)]).detach()
    assert got.shape == ref.shape == (3, 5, data.num_classes)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)  # float32, another summation order


def test_stacked_dense_forward_handles_linear_layers_without_bias():
    torch.manual_seed(0)
    models = [nn.Sequential(OrderedDict(flatten=nn.Flatten(), fc1=nn.Linear(12, 5, bias=False), relu1=nn.ReLU(),
                                        fc2=nn.Linear(5, 3))) for _ in range(2)]
    params = {name: torch.stack([dict(m.named_parameters())[name] for m in models]).detach()
              for name, _ in models[0].named_parameters()}
    assert "fc1.bias" not in params
    x = torch.randn(2, 4, 3, 2, 2)
    ref = torch.stack([m(xb) for m, xb in zip(models, x)]).detach()
    torch.testing.assert_close(_stacked_dense_forward(models[0])(params, x), ref, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# models of your own (rmtweights.factory): per-seed and seed-batched training

OWN_NET = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, input_shape, num_classes, width):
        super().__init__()
        c, h, w = input_shape
        self.conv = nn.Conv2d(c, 2, 3, padding=1)
        self.block = nn.Module()
        self.block.fc = nn.Linear(2 * h * w, width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        h = torch.relu(self.block.fc(torch.relu(self.conv(x)).flatten(1)))
        return self.head(h + h.mean(dim=1, keepdim=True))


class Branchy(Net):
    def forward(self, x):
        if float(x.sum()) > 1e9:  # data-dependent Python control flow: torch.vmap cannot run it
            return super().forward(-x)
        return super().forward(x)


def build(input_shape, num_classes, width=10):
    return Net(input_shape, num_classes, width)


def branchy(input_shape, num_classes, width=10):
    return Branchy(input_shape, num_classes, width)
'''


@pytest.fixture
def own_net(tmp_path):
    path = tmp_path / "own_net.py"
    path.write_text(OWN_NET)
    return path


def _own(path, function="build"):
    return {"factory": f"{path}:{function}", "kwargs": {"width": 10}, "init": "own", "code": None}


def test_batched_training_of_a_factory_model_matches_separate_training(data, tmp_path, own_net):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 1})
    dirs = [tmp_path / f"batched{s}" for s in SEEDS]
    lines = []
    train_seeds_batched("factory", _own(own_net), data, config, SEEDS, dirs, device="cpu", log=lines.append)
    assert not any("one after another" in line for line in lines)  # vmap runs the model: batched
    for seed, folder in zip(SEEDS, dirs):
        _run(data, tmp_path, f"separate{seed}", seed=seed, config=config, model="factory", kwargs=_own(own_net))
        _assert_same_weights(_weights(folder / "init.pt"), _weights(tmp_path / f"separate{seed}" / "init.pt"))
        got, ref = _weights(folder / "final.pt"), _weights(tmp_path / f"separate{seed}" / "final.pt")
        for key in ref:  # the tolerance of test_batched_seeds_match_separate_training
            assert ((got[key] - ref[key]).norm() / ref[key].norm().clamp_min(1e-12)).item() < 1e-4, key
        assert not (folder / "last.pt").exists()


def test_a_factory_model_vmap_cannot_run_is_trained_seed_by_seed(data, tmp_path, own_net):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 1})
    dirs = [tmp_path / f"b{s}" for s in SEEDS[:2]]
    lines = []
    train_seeds_batched("factory", _own(own_net, "branchy"), data, config, SEEDS[:2], dirs, device="cpu",
                        log=lines.append)
    assert any("one after another (the model does not run under torch.vmap" in line for line in lines), lines
    _run(data, tmp_path, "ref", seed=SEEDS[0], config=config, model="factory", kwargs=_own(own_net, "branchy"))
    _assert_same_weights(_weights(dirs[0] / "final.pt"), _weights(tmp_path / "ref" / "final.pt"))


def test_an_interrupted_factory_run_is_not_resumed_after_its_file_changed(data, tmp_path, own_net):
    """The factory's code fingerprint is part of the model's identity in the checkpoint."""
    from rmtweights.factory import factory_fingerprint

    spec = {**_own(own_net), "code": factory_fingerprint(f"{own_net}:build")}
    with pytest.raises(Interrupt):
        _run(data, tmp_path, "run", seed=1, model="factory", kwargs=spec, log=_interrupt_after(1))
    own_net.write_text(OWN_NET.replace("h.mean(dim=1, keepdim=True)", "h.amax(dim=1, keepdim=True)"))
    lines = []
    edited = {**spec, "code": factory_fingerprint(f"{own_net}:build")}
    _run(data, tmp_path, "run", seed=1, model="factory", kwargs=edited, log=lines.append)
    assert "not resuming" in lines[0] and "model_kwargs differs" in lines[0]


# snapshot epochs (issue 22): kept weights change nothing, resume and batching keep them exact

SPEC = dict(source="synthetic", data_dir=None, synthetic={"n_train": 768, "n_test": 400, "size": 8, "signal": 1.0},
            download=False, normalize="channel")  # the `data` fixture's data set, as workflow params


def _snapshot(folder, epoch):
    return io.load_checkpoint(folder / "snapshots" / f"epoch{epoch}.pt")


def test_snapshots_change_nothing_and_hold_each_epochs_weights(data, tmp_path):
    plain = _run(data, tmp_path, "plain", seed=4)
    lines = []
    kept = train_model(MODEL, KWARGS, data, CONFIG, 4, tmp_path / "kept", device="cpu", log=lines.append,
                       snapshot_epochs=[0, 1, 2])
    # the same weights, optimiser state and metrics as without snapshots
    for name in ("init.pt", "final.pt"):
        _assert_same_weights(_weights(tmp_path / "plain" / name), _weights(tmp_path / "kept" / name))
    columns = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"]
    pd.testing.assert_frame_equal(plain[columns], kept[columns])
    assert len(lines) == 2  # no extra log lines
    from rmtweights.checkpoint import SNAPSHOT_KEYS

    snapshots = {e: _snapshot(tmp_path / "kept", e) for e in (0, 1, 2)}
    assert all(set(s) == set(SNAPSHOT_KEYS) and s["epoch"] == e for e, s in snapshots.items())
    _assert_same_weights(snapshots[0]["model_state"], _weights(tmp_path / "kept" / "init.pt"))
    _assert_same_weights(snapshots[2]["model_state"], _weights(tmp_path / "kept" / "final.pt"))
    one = TrainConfig(**{**CONFIG.to_dict(), "epochs": 1})  # the schedule does not depend on `epochs`
    _run(data, tmp_path, "one", seed=4, config=one)
    _assert_same_weights(snapshots[1]["model_state"], _weights(tmp_path / "one" / "final.pt"))
    assert [snapshots[e]["test_acc"] for e in (1, 2)] == kept["test_acc"].tolist()
    assert snapshots[1]["metrics"] == kept.to_dict("records")[:1]
    initial = evaluate(load_trained_model(tmp_path / "kept" / "init.pt"), data.test_x, data.test_y, 200)
    assert (snapshots[0]["test_loss"], snapshots[0]["test_acc"]) == initial
    assert "optimizer_state" not in snapshots[1]  # only what the analyses need


def test_snapshots_of_a_resumed_run_are_exact(data, tmp_path):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 3})
    train_model(MODEL, KWARGS, data, config, 2, tmp_path / "full", device="cpu", log=None, snapshot_epochs=[1, 3])
    with pytest.raises(Interrupt):
        train_model(MODEL, KWARGS, data, config, 2, tmp_path / "cut", device="cpu", log=_interrupt_after(2),
                    snapshot_epochs=[1, 3])
    train_model(MODEL, KWARGS, data, config, 2, tmp_path / "cut", device="cpu", log=None, snapshot_epochs=[1, 3])
    for epoch in (1, 3):
        full, cut = _snapshot(tmp_path / "full", epoch), _snapshot(tmp_path / "cut", epoch)
        _assert_same_weights(full["model_state"], cut["model_state"])
        assert full["test_acc"] == cut["test_acc"]


def test_batched_training_keeps_each_seeds_snapshots(data, tmp_path):
    dirs = [tmp_path / f"b{s}" for s in SEEDS]
    frames = train_seeds_batched(MODEL, KWARGS, data, CONFIG, SEEDS, dirs, device="cpu", log=None,
                                 snapshot_epochs=[0, 2])
    for seed, frame, folder in zip(SEEDS, frames, dirs):
        initial, final = _snapshot(folder, 0), _snapshot(folder, 2)
        _assert_same_weights(initial["model_state"], _weights(folder / "init.pt"))
        _assert_same_weights(final["model_state"], _weights(folder / "final.pt"))
        assert final["seed"] == seed and final["test_acc"] == frame["test_acc"].iloc[-1]
        model = load_trained_model(folder / "init.pt")
        assert initial["test_acc"] == evaluate(model, data.test_x, data.test_y, 200)[1]
        assert not (folder / "snapshots" / "epoch1.pt").exists()


def test_take_snapshot_links_kept_weights_or_takes_them_from_the_checkpoints_or_replays(data, tmp_path):
    from rmtweights.data import summarize
    from rmtweights.stages.take_snapshot import take_snapshot

    model = {"arch": MODEL, "kwargs": KWARGS}
    recipe = {key: value for key, value in CONFIG.to_dict().items() if key != "epochs"}
    folder = tmp_path / "run"
    train_model(MODEL, KWARGS, data, CONFIG, 6, folder, device="cpu", log=None, snapshot_epochs=[1])
    summary = summarize(data)

    def take(epoch, name):
        lines = []
        source = take_snapshot(SPEC, summary, model, recipe, {"seed": 6}, epoch, folder, tmp_path / name,
                               log=lines.append)
        return source, io.load_checkpoint(tmp_path / name), lines

    source, kept, _ = take(1, "kept.pt")
    assert source == "kept by training"
    assert (tmp_path / "kept.pt").stat().st_ino == (folder / "snapshots" / "epoch1.pt").stat().st_ino  # a link
    source, final, _ = take(2, "final.pt")
    assert source == "final.pt" and final["test_acc"] == io.load_checkpoint(folder / "final.pt")["metrics"][-1][
        "test_acc"]
    _assert_same_weights(final["model_state"], _weights(folder / "final.pt"))
    source, initial, _ = take(0, "init.pt")
    assert source == "init.pt"
    _assert_same_weights(initial["model_state"], _weights(folder / "init.pt"))
    # an epoch training did not keep: replayed from the initialisation, bit for bit on the CPU
    (folder / "snapshots" / "epoch1.pt").rename(tmp_path / "moved.pt")
    source, replayed, lines = take(1, "replayed.pt")
    assert source == "replayed" and not any(line.startswith("note") for line in lines)
    _assert_same_weights(replayed["model_state"], kept["model_state"])
    assert replayed["test_acc"] == kept["test_acc"]
    timeless = [{k: v for k, v in row.items() if k != "seconds"} for row in replayed["metrics"]]
    assert timeless == [{k: v for k, v in row.items() if k != "seconds"} for row in kept["metrics"]]
    # weights kept by another run (another learning rate) are not taken
    other = TrainConfig(**{**CONFIG.to_dict(), "lr": 0.02})
    train_model(MODEL, KWARGS, data, other, 6, tmp_path / "other", device="cpu", log=None, snapshot_epochs=[1])
    (tmp_path / "other" / "snapshots" / "epoch1.pt").rename(folder / "snapshots" / "epoch1.pt")
    source, _, lines = take(1, "again.pt")
    assert source == "replayed" and "config differs" in lines[0]
    with pytest.raises(ValueError, match="outside the run's epochs 0..2"):
        take(3, "beyond.pt")
