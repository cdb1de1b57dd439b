import sys
from pathlib import Path

# The library is pure Python to import here (no torch): config checks, the plan, code fingerprints.
SRC_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC_DIR)
from rmtweights import plan  # noqa: E402
from rmtweights.config import check_config, config_folder, resolve_paths, validate_config  # noqa: E402
from rmtweights.plan import FIGURE_DIR, GIVEN, GROUP_PATH, RUN_DIR, RUN_PATH, SERIES, WEIGHTS, alternatives  # noqa: E402
from rmtweights.provenance import script_fingerprint  # noqa: E402


# Validate first: the schema fills every default, so nothing below calls config.get(key, fallback).
# A bad config stops here with a few lines naming the key (no job runs).
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
check_config(config)
# Relative file paths in a config file mean files next to that file, wherever Snakemake runs.
resolve_paths(config, config_folder(workflow.overwrite_configfiles, "config/config.yaml"))

# Everything below binds rmtweights.plan (the runs, tables and targets of this config, unit-tested)
# to Snakemake's config and wildcards.
TRAINED_STUDIES = alternatives(config["studies"])
TRAINED_VARIANTS = alternatives(plan.trained_variants(config))
SPECTRA_ONLY_STUDIES = alternatives(plan.spectra_only_studies(config))
VECTOR_STUDIES = alternatives(plan.vector_studies(config))
VECTOR_VARIANTS = alternatives([*plan.trained_variants(config), GIVEN])
BATCHED_TRAINING_RULES = plan.batched_training_rules(config)
# Tensor names per job of each weights source, read from the files' headers when the workflow is read.
WEIGHTS_PARTS = plan.weights_layout(config)
# Code fingerprints of the factory files of models of your own: a missing or broken file stops here.
plan.factory_codes(config)


wildcard_constraints:
    **plan.wildcard_constraints(config),


def get_code(script):
    """Fingerprint of the library code `scripts/<script>.py` runs: the import closure of the rmtweights
    modules it imports (rmtweights.provenance), "off" when config code_fingerprint is false."""
    if not config["code_fingerprint"]:
        return "off"
    return script_fingerprint(Path(workflow.basedir) / "scripts" / f"{script}.py", SRC_DIR)


def get_config(*keys):
    return plan.config_value(config, *keys)


def get_dataset_params(wildcards):
    return plan.dataset_params(config, wildcards.dataset)


def get_dataset_files(wildcards):
    return plan.dataset_files(config, wildcards.dataset)


def get_model_params(wildcards):
    return plan.model_params(config, wildcards.study, wildcards.model, wildcards.variant)


def get_train_params(wildcards):
    return plan.train_recipe(config, wildcards.study, wildcards.variant)


def get_external_spec(wildcards):
    return plan.external_spec(config, wildcards.study, wildcards.model)


def get_prune_layer(wildcards):
    return plan.prune_layer(config, wildcards.study, wildcards.model)


def get_control_layer(wildcards):
    return plan.control_layer(config, wildcards.study, wildcards.model)


def get_porter_thomas_window(wildcards):
    return plan.porter_thomas_window(config, wildcards.study)


def get_train_mem_mb(wildcards, attempt):
    return plan.train_mem_mb(config, wildcards.dataset, attempt)


def get_analysis_mem_mb(wildcards, attempt):
    return plan.analysis_mem_mb(attempt)


def get_train_runtime(wildcards, attempt):
    return plan.train_runtime(config, wildcards.study, wildcards.variant, attempt)


def get_weights_part(wildcards):
    """The tensor names one job of a weights source analyses (plain data: a changed file reruns it)."""
    return WEIGHTS_PARTS[(wildcards.study, wildcards.model)][int(wildcards.part)]


def get_weights_files(wildcards):
    return plan.weights_files(config, wildcards.study, wildcards.model)


def get_weights_part_files(table):
    def inner(wildcards):
        parts = WEIGHTS_PARTS[(wildcards.study, wildcards.model)]
        return plan.weights_part_files(parts, wildcards.study, wildcards.dataset, wildcards.model, table)

    return inner


def get_study_run_files(table):
    def inner(wildcards):
        return plan.study_run_files(config, wildcards.study, table)

    return inner


def get_aggregate_inputs(wildcards):
    return plan.table_inputs(config, wildcards.study, wildcards.table)


def get_table_reason_rows(wildcards):
    return plan.table_reason_rows(config, wildcards.study, wildcards.table)


def get_study_table_inputs(table):
    def inner(wildcards):
        return plan.table_inputs(config, wildcards.study, table)[table]

    return inner


def get_spike_count_inputs(wildcards):
    return plan.table_inputs(config, wildcards.study, "spike_counts")


def get_table_layer(wildcards):
    return plan.table_layer(config, wildcards.study, wildcards.table)


def get_comparison_layer(wildcards):
    return plan.comparison_layer(config, wildcards.study)


def get_variant_widths(wildcards):
    return plan.variant_widths(config, wildcards.study)


def get_summary_tables(wildcards):
    return plan.summary_tables(config)


def get_summary_fits(wildcards):
    return plan.summary_fits(config)


def get_snapshot_epochs(wildcards, output):
    """The epochs training keeps (plan.snapshot_epochs). Deliberately a function of `output`: Snakemake
    neither stores nor compares such params, so a changed list never retrains (rule take_snapshot)."""
    return plan.snapshot_epochs(config, wildcards.study, wildcards.variant)


def get_snapshot_recipe(wildcards):
    return plan.snapshot_recipe(config, wildcards.study, wildcards.variant)


def get_snapshot_analysis_settings(wildcards):
    """The settings of rule analyze_snapshot (read from the group's record), with its code."""
    return dict(plan.snapshot_analysis_settings(config), code=get_code("analyze_snapshot"))


def get_snapshot_weights_identity(wildcards):
    """What determines a snapshot's weights besides its epoch: data, model, recipe and the training code."""
    training = "train_models_batched" if config["training"]["batched"] else "train_model"
    return dict(dataset=get_dataset_params(wildcards), model=get_model_params(wildcards),
                recipe=get_snapshot_recipe(wildcards), code=[get_code("take_snapshot"), get_code(training)])


def get_dynamics_files(kind):
    def inner(wildcards):
        files = plan.dynamics_files(config, wildcards.study, wildcards.dataset, wildcards.model,
                                    wildcards.variant, int(wildcards.seed))
        return files[kind]

    return inner


def get_series_checkpoint(wildcards):
    return plan.series_checkpoint(config, wildcards.study, wildcards.model, int(wildcards.step))


def get_series_checkpoint_files(wildcards):
    return plan.source_files_of(get_series_checkpoint(wildcards))


def get_external_selection(wildcards):
    return plan.external_selection(config, wildcards.study, wildcards.model)


def get_external_weights(wildcards):
    return config["external"][wildcards.study][wildcards.model]["weights"]


def get_base_weights(wildcards):
    return plan.base_weights(config, wildcards.study, wildcards.model)


def get_diff_files(wildcards):
    return plan.weights_files(config, wildcards.study, wildcards.model) + plan.source_files_of(
        get_base_weights(wildcards))


def get_final_output():
    return plan.final_targets(config)
