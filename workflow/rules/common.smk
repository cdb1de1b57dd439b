import sys
from types import SimpleNamespace
from pathlib import Path

import pandas as pd
from snakemake.utils import validate


# Validate first: the schema fills every default, so nothing below calls config.get(key, fallback).
validate(config, "../schemas/config.schema.yaml")

# Scripts import the library through the link scripts/rmtweights -> ../src/rmtweights: Snakemake puts a
# local script's folder on sys.path, in plain, cluster and conda jobs alike (conda jobs drop PYTHONPATH).
SRC_DIR = str(Path(workflow.basedir) / "src")

RUN_KEYS = "{study}/{dataset}/{model}/{variant}/seed{seed}"  # one run
GROUP_KEYS = "{study}/{dataset}/{model}/{variant}"  # the seeds of one run
RUN_DIR = f"results/{RUN_KEYS}"
GROUP_DIR = f"results/{GROUP_KEYS}"
FIG_DIR = f"results/figures/{RUN_KEYS}"


class ConfigError(ValueError):
    """A configuration that passes the schema but refers to something that does not exist."""


def check_references(cfg):
    """Stop before any job when a study names an unknown dataset or model (message names the key)."""
    for study, spec in cfg["studies"].items():
        for key, known in (("datasets", cfg["datasets"]), ("models", cfg["models"])):
            unknown = [name for name in spec[key] if name not in known]
            if unknown:
                raise ConfigError(
                    f"config error: studies.{study}.{key} names {unknown}, which are not defined "
                    f"under `{key}:` (defined: {sorted(known)})"
                )
        if spec["sweep"] == "spike_count":
            archs = {cfg["models"][name]["arch"] for name in spec["models"]}
            if archs != {"spike_mlp"}:
                raise ConfigError(
                    f"config error: studies.{study}.sweep is spike_count but its models are {sorted(archs)}; "
                    "the spike-count sweep trains spike_mlp only"
                )
            for variant, override in spec["variants"].items():
                if "width" not in override["model"]:
                    raise ConfigError(
                        f"config error: studies.{study}.variants.{variant}.model.width is required "
                        "by the spike-count sweep (N of the NxN layer)"
                    )
    for study, models in cfg["external"].items():
        if study in cfg["studies"]:
            raise ConfigError(f"config error: external.{study} has the name of a training study")
        for name, spec in models.items():
            if spec["dataset"] is not None and spec["dataset"] not in cfg["datasets"]:
                raise ConfigError(f"config error: external.{study}.{name}.dataset names {spec['dataset']!r}, "
                                  f"which is not defined under `datasets:`")
            if spec["prune_layer"] is not None and (spec["dataset"] is None or "checkpoint" not in spec):
                raise ConfigError(f"config error: external.{study}.{name}.prune_layer needs an rmtweights "
                                  "`checkpoint` and a `dataset` to evaluate on")
    for name, sweep in cfg["sweeps"].items():
        if sweep is None:
            continue
        missing = [k for k in {"wigner": ("Ns", "seeds", "interval"), "bbp_table": ("sizes", "thetas")}[name]
                   if k not in sweep]
        if missing:
            raise ConfigError(f"config error: sweeps.{name} needs {missing}")


check_references(config)


def build_runs(cfg):
    """One row per run (study, dataset, model, variant, seed): the workflow's unit of training."""
    rows = [
        dict(study=study, dataset=dataset, model=model, variant=variant, seed=seed)
        for study, spec in cfg["studies"].items()
        for dataset in spec["datasets"]
        for model in spec["models"]
        for variant in spec["variants"]
        for seed in spec["seeds"]
    ]
    rows += [
        dict(study=study, dataset=spec["dataset"] or NO_DATASET, model=model, variant=EXTERNAL_VARIANT, seed=0)
        for study, models in cfg["external"].items()
        for model, spec in models.items()
    ]
    return pd.DataFrame(rows, columns=["study", "dataset", "model", "variant", "seed"])


# External models (config `external`) are runs too: dataset "none" unless one is named, variant "given".
NO_DATASET = "none"
EXTERNAL_VARIANT = "given"
RUNS = build_runs(config)


def is_external(wildcards):
    return wildcards.study in config["external"]


def alternatives(values):
    return "|".join(sorted({str(v) for v in values}))


TRAINED_VARIANTS = alternatives(v for s in config["studies"].values() for v in s["variants"])
TRAINED_STUDIES = alternatives(config["studies"])


wildcard_constraints:
    study=alternatives([*config["studies"], *config["external"]]),
    dataset=alternatives([*config["datasets"], NO_DATASET]),
    model=alternatives([*config["models"], *(m for s in config["external"].values() for m in s)]),
    variant=alternatives([*(v for s in config["studies"].values() for v in s["variants"]), EXTERNAL_VARIANT]),
    seed=r"\d+",
    table=r"table2|training|heavy_tail|universality|correlation|lowrank|compare_[A-Za-z0-9]+(_[A-Za-z0-9]+)*",
    key=r"[A-Za-z0-9_]+",


# ---------------------------------------------------------------- code fingerprints (params)
sys.path.insert(0, SRC_DIR)
from rmtweights.provenance import code_fingerprint  # noqa: E402  (pure Python, no heavy imports)


# Library modules each stage runs (its own module plus what it imports from rmtweights).
RMT_CORE = ["rmtweights.rmt.mp", "rmtweights.rmt.estimators", "rmtweights.rmt.tracy_widom",
            "rmtweights.rmt.threshold", "rmtweights.rmt.bbp", "rmtweights.analyze"]
CODE = {
    "data": ["rmtweights.data"],
    "train": ["rmtweights.data", "rmtweights.models", "rmtweights.train", "rmtweights.io"],
    "spectra": ["rmtweights.layers", "rmtweights.models", "rmtweights.stages"],
    "mp_fit": RMT_CORE + ["rmtweights.stages"],
    "heavy_tail": ["rmtweights.rmt.heavytail", "rmtweights.stages"],
    "universality": ["rmtweights.rmt.universality", "rmtweights.layers", "rmtweights.stages"],
    "metric": RMT_CORE + ["rmtweights.stages"],
    "prune": ["rmtweights.prune", "rmtweights.data", "rmtweights.models", "rmtweights.train",
              "rmtweights.layers", "rmtweights.stages"],
    "correlate": ["rmtweights.stages"],
    "aggregate": ["rmtweights.stages", "rmtweights.sweeps"],
    "plots": ["rmtweights.plots"],
    "wigner": ["rmtweights.rmt.wigner"],
    "external": ["rmtweights.external", "rmtweights.train", "rmtweights.models", "rmtweights.io"],
    "bbp_table": ["rmtweights.sweeps", "rmtweights.rmt.bbp", "rmtweights.rmt.estimators", "rmtweights.rmt.mp"],
}


def get_code(stage):
    """Fingerprint of the library modules a stage runs, for its params ("off" if switched off)."""
    return code_fingerprint(CODE[stage], SRC_DIR) if config["code_fingerprint"] else "off"


# ---------------------------------------------------------------- per-run parameters
def canonical(value):
    """Dicts with sorted keys, recursively: Snakemake compares params by repr, and the order of keys
    in a config file (or the order in which the schema fills defaults) must not trigger reruns."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def get_config(*keys):
    """A config value for params, in canonical form (keys: the path, e.g. "analysis", "heavy_tail")."""
    value = config
    for key in keys:
        value = value[key]
    return canonical(value)

def get_study(wildcards):
    return config["studies"][wildcards.study]


def get_dataset_params(wildcards):
    """Everything that defines a dataset's tensors (plain data: compared by Snakemake's params trigger)."""
    spec = config["datasets"][wildcards.dataset]
    return canonical(dict(
        name=wildcards.dataset,
        source=spec["source"],
        synthetic=spec["synthetic"] if spec["source"] == "synthetic" else None,
        data_dir=config["data_dir"],
        download=config["download"],
    ))


def get_model_params(wildcards):
    """Architecture and widths of a run's model: the model's kwargs updated by the variant's."""
    spec = config["models"][wildcards.model]
    variant = get_study(wildcards)["variants"][wildcards.variant]
    return canonical(dict(arch=spec["arch"], kwargs={**spec["kwargs"], **variant["model"]}))


def get_train_params(wildcards):
    """The study's recipe updated by the variant's overrides."""
    study = get_study(wildcards)
    return canonical({**study["train"], **study["variants"][wildcards.variant]["train"]})


def get_external_spec(wildcards):
    return canonical(config["external"][wildcards.study][wildcards.model])


def get_prune_layer(wildcards):
    if is_external(wildcards):
        return get_external_spec(wildcards)["prune_layer"]
    return config["models"][wildcards.model]["prune_layer"]


def get_batched_run_dir(wildcards, output):
    """The group folder above batched/done.json (derived from the output path)."""
    return str(Path(output.done).parent.parent)


def get_seeds(wildcards):
    return get_study(wildcards)["seeds"]


def get_train_mem_mb(wildcards, attempt):
    """Training memory grows with the data set; doubled on each retry."""
    base = 2000 if config["datasets"][wildcards.dataset]["source"] == "synthetic" else 6000
    return base * 2 ** (attempt - 1)


def get_analysis_mem_mb(wildcards, attempt):
    return 2000 * 2 ** (attempt - 1)


def get_train_runtime(wildcards, attempt):
    """Minutes: one per epoch for small models, doubled on each retry."""
    epochs = get_train_params(wildcards)["epochs"]
    return (10 + 2 * epochs) * attempt


# ---------------------------------------------------------------- targets
def runs_of(study=None, sweep=None):
    runs = RUNS
    if study is not None:
        runs = runs[runs.study == study]
    if sweep is not None:
        names = [s for s, spec in config["studies"].items() if spec["sweep"] == sweep]
        runs = runs[runs.study.isin(names)]
    return runs


def run_files(pattern, runs):
    """`pattern` formatted for every run (rows of RUNS)."""
    return [pattern.format(**row) for row in runs.to_dict("records")]


def get_study_run_files(stage):
    """Input function: the per-run Parquet of `stage` for every run of {study}."""

    def inner(wildcards):
        return run_files(f"{RUN_DIR}/{stage}.parquet", runs_of(study=wildcards.study))

    return inner


def runs_analysed(study, analysis):
    """True when runs of `study` get the optional per-run `analysis` (studies.<study>.analyses; external
    studies get heavy_tail and universality, and prune where their spec names a layer)."""
    return study in config["external"] or analysis in config["studies"][study]["analyses"]


def get_prune_runs(study=None):
    runs = runs_of(study)
    keep = [runs_analysed(s, "prune") and get_prune_layer(SimpleNamespace(study=s, model=m)) is not None
            for s, m in zip(runs.study, runs.model)]
    return runs[keep] if len(runs) else runs


def get_study_prune_files(stage):
    def inner(wildcards):
        return run_files(f"{RUN_DIR}/{stage}.parquet", get_prune_runs(wildcards.study))

    return inner


def get_figure_runs(study=None):
    """Per-run figures for the first seed of every (study, dataset, model, variant)."""
    runs = runs_of(study)
    first = {s: spec["seeds"][0] for s, spec in config["studies"].items()} | {s: 0 for s in config["external"]}
    return runs[[seed == first[s] for s, seed in zip(runs.study, runs.seed)]]


def get_final_output():
    targets = []
    for study, spec in config["studies"].items():
        targets += expand("results/tables/{study}/{table}.parquet", study=study,
                          table=["table2", "training", *(a for a in ("heavy_tail", "universality")
                                                         if runs_analysed(study, a))])
        if len(get_prune_runs(study)):
            targets += expand("results/tables/{study}/{table}.parquet", study=study,
                              table=["correlation", "lowrank"])
            targets += run_files(f"{FIG_DIR}/avew_accuracy.png",
                                 get_figure_runs(study).pipe(lambda r: r[r.index.isin(get_prune_runs(study).index)]))
        targets += run_files(f"{FIG_DIR}/spectrum.png", get_figure_runs(study))
        if runs_analysed(study, "universality"):
            targets += run_files(f"{FIG_DIR}/universality.png", get_figure_runs(study))
        if spec["compare"] is not None:
            targets += [f"results/tables/{study}/compare_{spec['compare']}.parquet",
                        f"results/figures/{study}/compare_{spec['compare']}.png"]
        if spec["sweep"] == "spike_count":
            targets += [f"results/tables/{study}/spike_counts.parquet", f"results/figures/{study}/spike_counts.png"]
    for study in config["external"]:
        targets += expand("results/tables/{study}/{table}.parquet", study=study,
                          table=["table2", "heavy_tail", "universality"])
        targets += run_files(f"{FIG_DIR}/spectrum.png", get_figure_runs(study))
        targets += run_files(f"{FIG_DIR}/universality.png", get_figure_runs(study))
        if len(get_prune_runs(study)):
            targets += expand("results/tables/{study}/{table}.parquet", study=study, table=["correlation", "lowrank"])
            targets += run_files(f"{FIG_DIR}/avew_accuracy.png", get_prune_runs(study))
    if config["sweeps"]["wigner"]:
        targets += ["results/tables/sweeps/wigner_summary.parquet", "results/figures/sweeps/wigner_error.png"]
    if config["sweeps"]["bbp_table"]:
        targets += ["results/tables/sweeps/bbp_table.parquet"]
    return targets


# ---------------------------------------------------------------- aggregation inputs
AGGREGATE_STAGES = {
    "table2": ["mp_fit"],
    "training": ["training"],
    "heavy_tail": ["heavy_tail"],
    "universality": ["universality"],
    "correlation": ["correlation"],
    "lowrank": ["lowrank"],
}


def get_aggregate_inputs(wildcards):
    """Per-run Parquet files a study table is built from (`compare_<key>`: fits and training)."""
    table = wildcards.table
    stages = ["mp_fit", "training"] if table.startswith("compare_") else AGGREGATE_STAGES[table]
    runs = get_prune_runs(wildcards.study) if table in ("correlation", "lowrank") else runs_of(wildcards.study)
    return {stage: run_files(f"{RUN_DIR}/{stage}.parquet", runs) for stage in stages}


def get_variant_widths(wildcards):
    """N of each variant of a spike-count study (variant name -> width)."""
    variants = get_study(wildcards)["variants"]
    return {name: spec["model"]["width"] for name, spec in variants.items()}


