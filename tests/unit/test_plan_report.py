"""``rmtweights plan``: the resolved recipes of config/paper.yaml pinned against the papers' stated values, the
layer shapes of Table 2, the cost model's arithmetic, and the command's output and errors."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rmtweights import plan_report
from rmtweights.cli import main
from rmtweights.models import build_model

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "config" / "paper.yaml"

#: What the papers state, with where (docs/paper-recipes.md lists the assumptions and choices).
#: (study, model, column, value, source)
STATED = [
    ("paper000", "mlp", "epochs", 30, "paper 000 Sec. 4: 'All models were trained for 30 epochs'"),
    ("paper000", "mlp", "lr", 0.01, "paper 000 Sec. 4: 'fixing the learning rate at 0.01'"),
    ("paper000", "mlp", "batch_size", 64, "paper 000 Sec. 4: 'Batch size was set to 64 for MLP and LeNet'"),
    ("paper000", "lenet", "batch_size", 64, "paper 000 Sec. 4"),
    ("paper000_alexnet", "alexnet", "batch_size", 128, "paper 000 Sec. 4: '128 for AlexNet'"),
    ("paper000", "mlp", "normalise", "channel", "paper 000 Sec. 4: 'normalized each RGB channel'"),
    ("paper000", "mlp", "momentum", 0.0, "paper 000 Sec. 4: plain SGD"),
    ("paper000", "mlp", "seeds", 10, "paper 000 Sec. 4: 'over 10 independent runs'"),
    ("paper001", "mlp1024", "epochs", 100, "paper 001 App. A: 'for 100 epochs'"),
    ("paper001", "mlp1024", "lr", 0.001, "paper 001 App. A: 'learning rate to 0.001'"),
    ("paper001", "mlp1024", "lr_decay", 0.95, "paper 001 App. A: 'decay constant 0.95'"),
    ("paper001", "mlp1024", "momentum", 0.95, "paper 001 App. A: '0.95 as momentum'"),
    ("paper001", "mlp1024", "batch_size", 32, "paper 001 App. A: 'mini-batch size is 32'"),
    ("paper001", "mlp1024", "weight_decay", 0.0, "paper 001 App. A: MLPs 'without L2 regularization'"),
    ("paper001", "mlp1024", "normalise", "image", "paper 001 App. A: 'standardize each image'"),
    ("paper001_regimes", "mlp512", "weight_decay", 0.0, "paper 001 App. A"),
    ("paper001_regimes", "mlp512", "epochs", 100, "paper 001 App. A"),
    ("paper001_minialexnet", "minialexnet", "weight_decay", 2e-4, "paper 001 App. A: L2 1e-4 (Keras) = 2e-4 (torch)"),
    ("paper001_minialexnet", "minialexnet", "epochs", 100, "paper 001 App. A"),
    ("spikes", "spike_mlp", "epochs", 25, "paper 003 App. A: 'trained for 25 epochs'"),
]

#: min(n, m) of paper 000's Table 2 (MLP: App. C's widths; FC3 350 cannot be reproduced, docs/paper-recipes.md).
TABLE2 = {("lenet", "conv2"): 250, ("lenet", "fc1"): 500, ("alexnet", "conv2"): 320, ("alexnet", "conv3"): 576,
          ("alexnet", "conv4"): 768, ("alexnet", "conv5"): 768, ("alexnet", "fc1"): 1024, ("alexnet", "fc2"): 4096,
          ("mlp", "fc2"): 512}


@pytest.fixture(scope="module")
def paper_config():
    return plan_report.load_config(PAPER)


@pytest.fixture(scope="module")
def recipes(paper_config):
    return plan_report.groups_table(paper_config)


@pytest.mark.parametrize("study, model, column, value, source", STATED, ids=lambda v: str(v)[:30])
def test_paper_config_is_the_papers_recipe(recipes, study, model, column, value, source):
    rows = recipes[(recipes.study == study) & (recipes.model == model)]
    assert len(rows), f"{study}/{model} missing from config/paper.yaml"
    assert (rows[column] == value).all(), f"{column} {rows[column].tolist()} != {value} ({source})"


def test_l2_only_on_minialexnet_and_regimes_only_on_mlp512(recipes):
    decayed = recipes[recipes.weight_decay > 0]
    assert set(decayed.model) == {"minialexnet"}  # paper 001 App. A
    regimes = recipes[recipes.output_scale != 1.0]
    assert set(regimes.model) == {"mlp512"} and set(regimes.output_scale) == {0.5, 5.0}  # paper 001 Sec. 5
    assert set(recipes[recipes.study.str.startswith("paper001")].normalise) == {"image"}


def test_table2_layer_shapes(paper_config):
    layers = plan_report.layers_table(paper_config)
    for (model, layer), expected in TABLE2.items():
        rows = layers[(layers.model == model) & (layers.layer == layer) & (layers.dataset == "cifar10")
                      & layers.study.str.startswith("paper000")]
        assert len(rows) and set(rows.m) == {expected}, (model, layer, rows[["n", "m"]].values.tolist())


def test_cost_model_arithmetic(tmp_path):
    """Training hours = 3 x forward MACs x images x epochs x seeds / rate; an MLP's MACs are the sum of in x out."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["studies"] = {"s": {"datasets": ["synthetic"], "models": ["mlp"], "seeds": [0, 1, 2],
                               "train": {"epochs": 4, "batch_size": 64, "lr": 0.1}, "analyses": []}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    loaded = plan_report.load_config(path, workdir=tmp_path)
    costs = plan_report.cost_table(loaded, workdir=tmp_path)
    syn = loaded["datasets"]["synthetic"]["synthetic"]
    macs = 784 * 1024 + 1024 * 512 + 512 * 512 + 512 * 10  # 28 x 28 x 1 synthetic images, 10 classes
    expected = 3 * macs * syn["n_train"] * 4 * 3 / plan_report.CPU_MACS_PER_SECOND / 3600
    assert costs.train_cpu_h.iloc[0] == pytest.approx(expected, rel=1e-12)
    assert costs.prune_cpu_h.iloc[0] == 0.0  # no prune analysis


def test_conv_multiply_adds_closed_form():
    # LeNet 50-50-500 on 28 x 28: conv1 24*24*50*(1*25), conv2 8*8*50*(50*25), fc1 800*500, fc2 500*10
    model = build_model("lenet", (1, 28, 28), 10, filters=(50, 50), fc=(500,))
    assert plan_report._macs(model, (1, 28, 28)) == 24 * 24 * 50 * 25 + 8 * 8 * 50 * 1250 + 800 * 500 + 500 * 10


def test_command_prints_csv_and_report(capsys):
    assert main(["plan", str(PAPER), "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert {"study", "dataset", "model", "variant", "seeds", "epochs", "lr", "batch_size", "momentum",
            "weight_decay", "lr_decay", "normalise"} <= set(table.columns)
    assert main(["plan", str(ROOT / "config" / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Jobs per rule" in out and "Estimated cost" in out and "Assumptions:" in out


def test_command_names_a_bad_key(tmp_path, capsys):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["studies"]["demo"]["train"]["epochs"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["plan", str(path)]) == 1
    assert "studies.demo.train.epochs" in capsys.readouterr().err
