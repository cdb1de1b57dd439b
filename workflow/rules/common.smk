import sys
from types import SimpleNamespace
from pathlib import Path

import pandas as pd

# The library is pure Python to import here (no torch): its config checks and code fingerprints.
SRC_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC_DIR)
from rmtweights.config import check_config, validate_config  # noqa: E402
from rmtweights.provenance import script_fingerprint  # noqa: E402


# Validate first: the schema fills every default, so nothing below calls config.get(key, fallback).
# A bad config stops here with a few lines naming the key (no job runs).
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
check_config(config)

RUN_KEYS = "{study}/{dataset}/{model}/{variant}/seed{seed}"  # one run
GROUP_KEYS = "{study}/{dataset}/{model}/{variant}"  # the seeds of one run
RUN_DIR = f"results/{RUN_KEYS}"
FIG_DIR = f"results/figures/{RUN_KEYS}"

# External models are runs too: dataset "none" unless one is named; variant "given" for a model with
# an architecture (torchvision, rmtweights checkpoint), "weights" for a weights file analysed alone.
NO_DATASET = "none"
GIVEN = "given"
WEIGHTS = "weights"


def is_weights_source(spec):
    return "weights" in spec and "torchvision" not in spec


def build_runs(cfg):
    """One row per run (study, dataset, model, variant, seed): the workflow's unit of analysis."""
    rows = [
        dict(study=study, dataset=dataset, model=model, variant=variant, seed=seed)
        for study, spec in cfg["studies"].items()
        for dataset in spec["datasets"]
        for model in spec["models"]
        for variant in spec["variants"]
        for seed in spec["seeds"]
    ]
    rows += [
        dict(study=study, dataset=spec["dataset"] or NO_DATASET, model=model,
             variant=WEIGHTS if is_weights_source(spec) else GIVEN, seed=0)
        for study, models in cfg["external"].items()
        for model, spec in models.items()
    ]
    return pd.DataFrame(rows, columns=["study", "dataset", "model", "variant", "seed"])


RUNS = build_runs(config)


def alternatives(values):
    """A wildcard constraint matching exactly these names (and nothing, for an empty list)."""
    values = sorted({str(v) for v in values})
    return "|".join(values) if values else "(?!)"


def runs_analysed(study, analysis):
    """True when runs of `study` get the optional per-run `analysis` (studies.<study>.analyses; external
    studies get heavy_tail and universality, and prune where their spec allows it)."""
    return study in config["external"] or analysis in config["studies"][study]["analyses"]


TRAINED_STUDIES = alternatives(config["studies"])
TRAINED_VARIANTS = alternatives(v for s in config["studies"].values() for v in s["variants"])
# Studies whose layers are decomposed with their singular vectors (for the Porter-Thomas test).
VECTOR_STUDIES = [s for s in [*config["studies"], *config["external"]] if runs_analysed(s, "universality")]


wildcard_constraints:
    study=alternatives([*config["studies"], *config["external"]]),
    dataset=alternatives([*config["datasets"], NO_DATASET]),
    model=alternatives([*config["models"], *(m for s in config["external"].values() for m in s)]),
    variant=alternatives([*(v for s in config["studies"].values() for v in s["variants"]), GIVEN, WEIGHTS]),
    seed=r"\d+",
    part=r"\d+",
    table=r"table2|training|heavy_tail|universality|correlation|lowrank|compare_[A-Za-z0-9]+(_[A-Za-z0-9]+)*",
    key=r"[A-Za-z0-9_]+",


# ---------------------------------------------------------------- code fingerprints (params)
def get_code(script):
    """Fingerprint of the library code `scripts/<script>.py` runs: the import closure of the rmtweights
    modules it imports (rmtweights.provenance), "off" when config code_fingerprint is false."""
    if not config["code_fingerprint"]:
        return "off"
    return script_fingerprint(Path(workflow.basedir) / "scripts" / f"{script}.py", SRC_DIR)


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
        normalize=spec["normalize"],
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
    if wildcards.study in config["external"]:
        return get_external_spec(wildcards)["prune_layer"]
    return config["models"][wildcards.model]["prune_layer"]


def get_porter_thomas_window(wildcards):
    """The Porter-Thomas moving-average window where the study tests universality, else None."""
    return config["analysis"]["universality"]["window"] if wildcards.study in VECTOR_STUDIES else None


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


# ---------------------------------------------------------------- weights files (external, no architecture)
def _weights_layout(study, model):
    """Tensor names of a weights source, split into jobs of `layers_per_job` layers (read from the file's
    header when the workflow is read; no tensor data is loaded)."""
    from rmtweights.weights.parts import plan_parts  # noqa: E402  (torch is imported only for .pt/.bin files)

    spec = config["external"][study][model]
    return plan_parts(spec["weights"], include=spec["include"], exclude=spec["exclude"],
                      layers_per_job=spec["layers_per_job"])


WEIGHTS_PARTS = {(study, model): _weights_layout(study, model)
                 for study, models in config["external"].items()
                 for model, spec in models.items() if is_weights_source(spec)}


def get_weights_part(wildcards):
    """The tensor names one job of a weights source analyses (plain data: a changed file reruns it)."""
    return WEIGHTS_PARTS[(wildcards.study, wildcards.model)][int(wildcards.part)]


def get_weights_files(wildcards):
    """The files a weights source reads (the file, or the index and its shards)."""
    from rmtweights.weights.source import source_files

    return source_files(config["external"][wildcards.study][wildcards.model]["weights"])


def get_weights_part_files(stage):
    def inner(wildcards):
        parts = WEIGHTS_PARTS[(wildcards.study, wildcards.model)]
        return [f"results/{wildcards.study}/{wildcards.dataset}/{wildcards.model}/{WEIGHTS}/seed0/parts/{stage}_{i}.parquet"
                for i in range(len(parts))]

    return inner


# ---------------------------------------------------------------- batched training
def batched_seed_groups():
    """Studies that train seed-batched, grouped by their seed list (one rule per distinct list)."""
    groups = {}
    for study, spec in config["studies"].items():
        groups.setdefault(tuple(spec["seeds"]), []).append(study)
    return sorted(groups.items())


# ---------------------------------------------------------------- targets
def runs_of(study=None):
    return RUNS if study is None else RUNS[RUNS.study == study]


def run_files(pattern, runs):
    """`pattern` formatted for every run (rows of RUNS)."""
    return [pattern.format(**row) for row in runs.to_dict("records")]


def get_study_run_files(stage):
    """Input function: the per-run Parquet of `stage` for every run of {study}."""

    def inner(wildcards):
        return run_files(f"{RUN_DIR}/{stage}.parquet", runs_of(wildcards.study))

    return inner


def prune_reason(study, model):
    """Why the runs of (study, model) get no keep-top-s evaluation, or None when they get one."""
    if study in config["external"]:
        spec = config["external"][study][model]
        if spec["prune_layer"] is None:
            return ("no keep-top-s evaluation: it needs an rmtweights `checkpoint` (an architecture to run), a "
                    "`dataset` and a `prune_layer`" if is_weights_source(spec) or "checkpoint" not in spec
                    else "no keep-top-s evaluation: the spec names no `prune_layer`")
        return None
    if "prune" not in config["studies"][study]["analyses"]:
        return None  # not asked for: no table at all
    if config["models"][model]["prune_layer"] is None:
        return f"no keep-top-s evaluation: models.{model}.prune_layer is null"
    return None


def get_prune_runs(study=None):
    runs = runs_of(study)
    keep = [(s in config["external"] or "prune" in config["studies"][s]["analyses"]) and prune_reason(s, m) is None
            for s, m in zip(runs.study, runs.model)]
    return runs[keep] if len(runs) else runs


def get_unpruned_runs(wildcards):
    """Runs of {study} that asked for (or, external, could have) the keep-top-s evaluation but cannot
    have it, with the reason: reason rows of the correlation and low-rank tables."""
    rows = []
    for run in runs_of(wildcards.study).to_dict("records"):
        reason = prune_reason(run["study"], run["model"])
        if reason is not None:
            rows.append(dict(run, reason=reason))
    return rows


def get_figure_runs(study=None):
    """Per-run figures for the first seed of every (study, dataset, model, variant)."""
    runs = runs_of(study)
    first = {s: spec["seeds"][0] for s, spec in config["studies"].items()} | {s: 0 for s in config["external"]}
    return runs[[seed == first[s] for s, seed in zip(runs.study, runs.seed)]]


def has_prune_tables(study):
    return len(get_prune_runs(study)) > 0 or (study in config["external"])


def get_final_output():
    targets = []
    for study in [*config["studies"], *config["external"]]:
        spec = config["studies"].get(study)
        tables = ["table2"] + (["training"] if spec is not None else [])
        tables += [a for a in ("heavy_tail", "universality") if runs_analysed(study, a)]
        if has_prune_tables(study):
            tables += ["correlation", "lowrank"]
        targets += expand("results/tables/{study}/{table}.parquet", study=study, table=tables)
        figure_runs = get_figure_runs(study)
        targets += run_files(f"{FIG_DIR}/spectrum.png", figure_runs)
        if runs_analysed(study, "universality"):
            targets += run_files(f"{FIG_DIR}/universality.png", figure_runs)
        pruned = get_prune_runs(study)
        targets += run_files(f"{FIG_DIR}/avew_accuracy.png", figure_runs[figure_runs.index.isin(pruned.index)])
        if spec is not None and spec["compare"] is not None:
            targets += [f"results/tables/{study}/compare_{spec['compare']}.parquet",
                        f"results/figures/{study}/compare_{spec['compare']}.png"]
        if spec is not None and spec["sweep"] == "spike_count":
            targets += [f"results/tables/{study}/spike_counts.parquet", f"results/figures/{study}/spike_counts.png"]
    if config["sweeps"]["wigner"]:
        targets += ["results/tables/sweeps/outlier_error.parquet", "results/figures/sweeps/wigner_error.png"]
    if config["sweeps"]["bbp_table"]:
        targets += ["results/tables/sweeps/bbp_table.parquet"]
    return targets + ["results/summary.md"]


def get_summary_tables(wildcards):
    """Every study and sweep table of the run (Parquet), for results/summary.md."""
    tables = [t for t in get_final_output() if t.startswith("results/tables/") and t.endswith(".parquet")]
    tables += [str(Path(t).with_name("spike_growth.parquet")) for t in tables if Path(t).name == "spike_counts.parquet"]
    if config["sweeps"]["wigner"]:
        tables.append("results/tables/sweeps/peche.parquet")
    return tables


# ---------------------------------------------------------------- aggregation inputs
def get_aggregate_inputs(wildcards):
    """Per-run Parquet files a study table is built from (`compare_<key>`: fits and training)."""
    from rmtweights.stages.aggregate import TABLES  # noqa: E402  (pandas only)

    table = wildcards.table
    stages = ["mp_fit", "training"] if table.startswith("compare_") else TABLES[table]
    runs = get_prune_runs(wildcards.study) if table in ("correlation", "lowrank") else runs_of(wildcards.study)
    return {stage: run_files(f"{RUN_DIR}/{stage}.parquet", runs) for stage in stages}


def get_table_reason_rows(wildcards):
    """Reason rows for runs the table has no per-run file for (keep-top-s tables only)."""
    return get_unpruned_runs(wildcards) if wildcards.table in ("correlation", "lowrank") else []


def get_comparison_layer(wildcards):
    """The layer a variant comparison shows: the prune layer of the study's first model (None: the first analysable)."""
    return config["models"][get_study(wildcards)["models"][0]]["prune_layer"]


def get_variant_widths(wildcards):
    """N of each variant of a spike-count study (variant name -> width)."""
    variants = get_study(wildcards)["variants"]
    return {name: spec["model"]["width"] for name, spec in variants.items()}
