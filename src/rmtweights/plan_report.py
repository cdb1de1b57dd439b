"""What a config will run, before it runs: ``rmtweights plan CONFIG [--layers] [--csv]``.

For a person about to hand a config to a cluster: one row per run group with the resolved training
recipe (the study's ``train`` updated by the variant's), optionally one row per analysed layer with its
matrix shape, the jobs per rule of a complete run (:func:`rmtweights.plan.job_counts`, the same
counts ``snakemake -n`` shows), and an estimate of the CPU time and disk it needs.

The estimate is a model, stated here and printed with the numbers:

* **Training** costs ``3 x (multiply-adds of one forward pass) x (training images) x epochs x seeds``
  (forward, and a backward pass of twice the forward's work), at :data:`CPU_MACS_PER_SECOND`, the rate
  measured on the 2-core machine the project is developed on (:data:`CALIBRATION`).
* **Analysis** of a layer costs :data:`LAYER_SECONDS` plus the float64 Gram matrix and its eigenvalues,
  ``n m^2 + m^3 / 3`` multiply-adds at :data:`CPU_FLOPS_EIGEN`, for each decomposed state
  (trained and initial; the Gaussian and shuffled controls of the truncated layer).
* **Keep-top-s evaluation** is bounded by one pass of the test set through the network per candidate
  rank ``s = 1 .. k`` (k = ``prune.k_fraction`` of the layer's min(n, m)); the evaluation reuses the
  layers before the truncated one, so this is an upper bound.
* **Disk**: float32 checkpoints (initial and final weights; with momentum the final one also holds a
  buffer per parameter) plus :data:`PARQUET_BYTES_PER_VALUE` bytes per singular value kept in Parquet.

GPU time is not estimated: the project has no GPU measurement, and small models are bound by data
movement there, not by multiply-adds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rmtweights import plan
from rmtweights.config import check_config, config_folder, resolve_paths, validate_config

__all__ = ["CALIBRATION", "CPU_FLOPS_EIGEN", "CPU_MACS_PER_SECOND", "LAYER_SECONDS", "PARQUET_BYTES_PER_VALUE",
           "cost_table", "groups_table", "layers_table", "load_config", "report"]

#: Multiply-adds per second of training on 2 CPU threads (float32, batch 64), see CALIBRATION. One epoch of
#: Fashion-MNIST on the idle development machine took 18 s for paper 000's MLP (implied rate 1.6e10), 70 s for
#: the widened LeNet (1.3e10) and 5 s for paper 003's N = 1000 network (2.1e10): the median, so an estimate
#: is good to about +-35 % for these models. Seed-batched training (``training.batched``) is faster per seed.
CPU_MACS_PER_SECOND = 1.6e10
#: Floating-point multiply-adds per second of the float64 Gram matrix and its eigenvalues on one thread
#: (``bench_plan_costs.py`` measured 2.1e9 with the machine busy with other jobs, about 2x slower than idle).
CPU_FLOPS_EIGEN = 4.0e9
#: Fixed cost per decomposed layer and state: fits, threshold, tables (seconds).
LAYER_SECONDS = 0.02
#: Bytes per singular value of a layer in the run's Parquet tables (spectra, fits, curves, with compression).
PARQUET_BYTES_PER_VALUE = 40
#: How the rates were measured (printed with every estimate).
CALIBRATION = ("rates measured on the project's 2-core development machine (training: one epoch at batch 64 "
               "of paper 000's MLP, the widened LeNet and paper 003's N = 1000 network, within +-35 % of the "
               "rate used; analysis: the Gram eigenvalues of 1024 x 512 to 4096 x 4096 matrices, "
               "`python benchmarks/bench_plan_costs.py`)")

_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
#: Sizes of the built-in data sets: (input shape, classes, training images, test images).
_KNOWN_DATA = {"mnist": ((1, 28, 28), 10, 60000, 10000), "fashion_mnist": ((1, 28, 28), 10, 60000, 10000),
               "cifar10": ((3, 32, 32), 10, 50000, 10000)}
RECIPE_COLUMNS = ("study", "dataset", "model", "variant", "seeds", "epochs", "lr", "batch_size", "momentum",
                  "weight_decay", "lr_decay", "output_scale", "normalise", "arch", "kwargs", "analyses", "source")


def load_config(path: str | Path, *, workdir: str | Path = ".") -> dict[str, Any]:
    """Read, validate and complete a config file as the workflow does (schema defaults, checks, relative
    paths resolved against the file's folder); raises :class:`rmtweights.config.ConfigError` naming the key."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} not found")
    config = yaml.safe_load(path.read_text()) or {}
    validate_config(config, _SCHEMA)
    check_config(config)
    return resolve_paths(config, config_folder([path], path), workdir)


def _data(config: Mapping[str, Any], dataset: str, workdir: Path) -> tuple[tuple[int, ...], int, int, int] | None:
    """Input shape, classes and split sizes of a data set: from its prepared summary when the workflow has
    run (``resources/datasets/<name>.json``), else from what is known of the source, else None."""
    summary = workdir / "resources" / "datasets" / f"{dataset}.json"
    if summary.is_file():
        info = json.loads(summary.read_text())
        return tuple(info["input_shape"]), int(info["num_classes"]), int(info["n_train"]), int(info["n_test"])
    spec = config["datasets"].get(dataset)
    if spec is None:
        return None
    if spec["source"] == "synthetic":
        syn = spec["synthetic"]
        return (syn["channels"], syn["size"], syn["size"]), syn["classes"], syn["n_train"], syn["n_test"]
    return _KNOWN_DATA.get(spec["source"])


def groups_table(config: Mapping[str, Any]) -> pd.DataFrame:
    """One row per run group: the resolved recipe (:data:`RECIPE_COLUMNS`)."""
    rows = []
    for group in plan.run_groups(config):
        recipe = group.train or {}
        model = group.model_params or {}
        dataset = config["datasets"].get(group.dataset)
        rows.append(dict(
            study=group.study, dataset=group.dataset, model=group.model, variant=group.variant, seeds=len(group.seeds),
            epochs=recipe.get("epochs"), lr=recipe.get("lr"), batch_size=recipe.get("batch_size"),
            momentum=recipe.get("momentum", 0.0) if recipe else None,
            weight_decay=recipe.get("weight_decay", 0.0) if recipe else None,
            lr_decay=recipe.get("lr_decay", 1.0) if recipe else None,
            output_scale=recipe.get("output_scale", 1.0) if recipe else None,
            normalise=dataset["normalize"] if dataset and group.source == plan.TRAINED else None,
            arch=model.get("arch"), kwargs=json.dumps(model.get("kwargs", {}), sort_keys=True) if model else None,
            analyses=",".join(group.analyses) or "none", source=group.source))
    return pd.DataFrame(rows, columns=list(RECIPE_COLUMNS))


def _macs(model: Any, input_shape: Sequence[int]) -> int:
    """Multiply-adds of one forward pass of one image (Linear and Conv layers, by forward hooks)."""
    import torch
    from torch import nn

    total = 0

    def count(module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, nn.modules.conv._ConvNd):
            kernel = math.prod(module.kernel_size) * module.in_channels // module.groups
            total += kernel * output[0].numel()

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for hook in hooks:
        hook.remove()
    return total


def _trained_layers(config: Mapping[str, Any], group: plan.RunGroup, workdir: Path) -> tuple[list[dict], dict]:
    """The analysed layers of a trained run group (name, kind, n, m) and the facts the cost model needs."""
    from rmtweights.layers import layer_matrices
    from rmtweights.models import build_model

    data = _data(config, group.dataset, workdir)
    if data is None:
        return [], {"note": f"input shape of data set {group.dataset!r} unknown before `prepare_dataset` runs"}
    shape, classes, n_train, n_test = data
    model = build_model(group.model_params["arch"], shape, classes, **group.model_params["kwargs"])
    layers = [dict(layer=lm.name, kind=lm.kind, shape="x".join(map(str, lm.shape)), n=lm.n, m=lm.m)
              for lm in layer_matrices(model, config["analysis"]["reshape"])]
    params = sum(p.numel() for p in model.parameters())
    return layers, dict(macs=_macs(model, shape), params=params, n_train=n_train, n_test=n_test, note="")


def _weights_layers(config: Mapping[str, Any], group: plan.RunGroup) -> tuple[list[dict], dict]:
    """The layer tensors of a weights source, from its header (no tensor data is read). A matrix's n and m
    are given; a kernel's follow the conv reshape once it is read (the run's ``spectra.parquet``)."""
    from rmtweights.tensors import classify
    from rmtweights.weights.selection import select
    from rmtweights.weights.source import list_entries

    spec = config["external"][group.study][group.model]
    rows, params = [], 0
    for entry in select(list_entries(spec["weights"]), spec["include"], spec["exclude"]):
        params += math.prod(entry.shape)
        kind, _reason = classify(entry.name, entry.shape, entry.dtype)
        if kind is None:
            continue
        matrix = len(entry.shape) == 2
        rows.append(dict(layer=entry.name, kind=kind, shape="x".join(map(str, entry.shape)),
                         n=max(entry.shape) if matrix else pd.NA, m=min(entry.shape) if matrix else pd.NA))
    return rows, dict(macs=0, params=params, n_train=0, n_test=0, note="weights file: shapes from its header")


def layers_table(config: Mapping[str, Any], *, workdir: str | Path = ".") -> pd.DataFrame:
    """One row per analysed layer of every run group: ``study, dataset, model, variant, layer, kind, shape``
    (the weight tensor's) and ``n, m`` (the oriented matrix's, ``n >= m``, after the conv reshape)."""
    rows = []
    for group in plan.run_groups(config):
        layers, _facts = _group_layers(config, group, Path(workdir))
        keys = dict(study=group.study, dataset=group.dataset, model=group.model, variant=group.variant)
        rows += [{**keys, **layer} for layer in layers]
    return pd.DataFrame(rows, columns=["study", "dataset", "model", "variant", "layer", "kind", "shape", "n", "m"])


def _group_layers(config: Mapping[str, Any], group: plan.RunGroup, workdir: Path) -> tuple[list[dict], dict]:
    if group.source == plan.TRAINED:
        return _trained_layers(config, group, workdir)
    if group.source == plan.WEIGHTS:
        return _weights_layers(config, group)
    return [], {"note": "architecture given (torchvision or checkpoint): shapes known once imported"}


def cost_table(config: Mapping[str, Any], *, workdir: str | Path = ".") -> pd.DataFrame:
    """Per run group, estimated CPU hours of training, analysis and keep-top-s evaluation, and disk (GB),
    by the model of the module docstring; ``note`` says where a number cannot be estimated."""
    rows = []
    k_fraction = config["analysis"]["prune"]["k_fraction"]
    for group in plan.run_groups(config):
        layers, facts = _group_layers(config, group, Path(workdir))
        seeds, recipe = len(group.seeds), group.train or {}
        row = dict(study=group.study, dataset=group.dataset, model=group.model, variant=group.variant, seeds=seeds,
                   train_cpu_h=math.nan, analysis_cpu_h=math.nan, prune_cpu_h=math.nan, disk_gb=math.nan,
                   note=facts.get("note", ""))
        if layers:
            states = 2
            sized = [layer for layer in layers if not pd.isna(layer["n"])]
            eigen = sum(layer["n"] * layer["m"] ** 2 + layer["m"] ** 3 / 3 for layer in sized)
            row["analysis_cpu_h"] = seeds * states * (eigen / CPU_FLOPS_EIGEN + len(layers) * LAYER_SECONDS) / 3600
            values = sum(layer["m"] for layer in sized) * states
            checkpoints = facts["params"] * 4 * (2 + (1 if recipe.get("momentum") else 0))
            row["disk_gb"] = seeds * (checkpoints + values * PARQUET_BYTES_PER_VALUE) / 1e9
        if group.source == plan.TRAINED and facts.get("macs"):
            work = 3 * facts["macs"] * facts["n_train"] * recipe["epochs"]
            row["train_cpu_h"] = seeds * work / CPU_MACS_PER_SECOND / 3600
            if "prune" in group.analyses:
                pruned = next((layer for layer in layers if layer["layer"] == plan.prune_layer(config, group.study,
                                                                                            group.model)), None)
                k = max(1, int(k_fraction * pruned["m"])) if pruned else 0
                row["prune_cpu_h"] = seeds * k * facts["macs"] * facts["n_test"] / CPU_MACS_PER_SECOND / 3600
            else:
                row["prune_cpu_h"] = 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def report(path: str | Path, *, layers: bool = False, csv: bool = False, workdir: str | Path = ".") -> str:
    """The text ``rmtweights plan`` prints: the run groups (or layers) and, unless ``csv``, the jobs per
    rule and the cost estimate with its assumptions."""
    config = load_config(path, workdir=workdir)
    table = layers_table(config, workdir=workdir) if layers else groups_table(config)
    if csv:
        return table.to_csv(index=False)
    jobs = plan.job_counts(config)
    costs = cost_table(config, workdir=workdir)
    totals = costs[["train_cpu_h", "analysis_cpu_h", "prune_cpu_h", "disk_gb"]].sum(min_count=1)
    groups = plan.run_groups(config)
    shown = table if layers else table.drop(columns=["arch", "kwargs", "source"])  # the full recipe: --csv
    lines = [f"# {path}: {len(groups)} run groups, {sum(len(g.seeds) for g in groups)} runs", "",
             shown.to_string(index=False, na_rep="-"), "", "Jobs per rule (as `snakemake -n` counts them):"]
    width = max(map(len, jobs)) if jobs else 0
    lines += [f"  {rule:<{width}}  {count:>6}" for rule, count in jobs.items() if rule != "all"]
    lines += [f"  {'total':<{width}}  {sum(c for r, c in jobs.items() if r != 'all'):>6}", "",
              "Estimated cost per run group (CPU hours on 2 threads; GPU time is not estimated):",
              costs.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3g}"), "",
              f"Total: training {totals['train_cpu_h']:.3g} h, analysis {totals['analysis_cpu_h']:.3g} h, "
              f"keep-top-s {totals['prune_cpu_h']:.3g} h of CPU; disk {totals['disk_gb']:.3g} GB.",
              "Assumptions: training = 3 x forward multiply-adds x images x epochs at "
              f"{CPU_MACS_PER_SECOND:.2g} MAC/s; a layer's analysis = {LAYER_SECONDS:g} s + (n m^2 + m^3/3) at "
              f"{CPU_FLOPS_EIGEN:.2g} /s per state; keep-top-s <= k full test-set passes (the evaluation reuses the "
              "layers before the truncated one, so it is faster); disk = float32 checkpoints "
              f"(initial, final, momentum buffers) + {PARQUET_BYTES_PER_VALUE} B per singular value; {CALIBRATION}."]
    return "\n".join(lines) + "\n"
