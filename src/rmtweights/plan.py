"""The workflow's plan: which runs, jobs and files a validated config asks for.

Pure Python (no torch, no pandas), so the Snakefile imports it when the workflow is read, like
:mod:`rmtweights.config`; ``workflow/rules/common.smk`` only binds these functions to Snakemake's
``config`` and ``wildcards``, and the other rule files wire the rules. Every function takes the
config as :func:`rmtweights.config.validate_config` leaves it (defaults filled in).

The units:

* a **run** (:class:`Run`): study, dataset, model, variant, seed; its files live under
  :data:`RUN_DIR`. Trained studies have the variants named in the config; a model analysed without
  training is a run of an ``external`` study, variant :data:`GIVEN` (an architecture: torchvision or
  an rmtweights checkpoint) or :data:`WEIGHTS` (a weights file alone), dataset :data:`NO_DATASET`
  unless one is named, seed 0;
* a **run group** (:class:`RunGroup`): the seeds of one (study, dataset, model, variant), with its
  resolved training recipe and the optional analyses its runs get (:func:`run_groups`);
* **dynamics** (:func:`dynamics_groups`): the snapshot epochs of a trained run (``train.snapshot_epochs``)
  or the checkpoints of an external series (variant :data:`SERIES`), one job per (run, epoch or step),
  and the differences of an external model from its ``base`` (:func:`diff_runs`);
* a **study table** (:data:`TABLES`): the one registry of the tables of ``results/tables/<study>/``,
  the per-run tables each aggregates and which studies have it. The ``table`` wildcard constraint
  (:func:`table_pattern`), the aggregation rules' inputs (:func:`table_inputs`) and the final
  targets (:func:`final_targets`) are all derived from it.

:func:`job_counts` and :func:`group_jobs` count the jobs per rule the workflow will run for a
config (what ``snakemake -n`` reports on a fresh directory, without building the DAG).
"""

from __future__ import annotations

import glob
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "ANALYSES", "DYNAMICS_FIGURE", "FIGURE_DIR", "external_selection", "GIVEN", "GROUP_PATH", "NO_DATASET", "RUN_DIR", "RUN_PATH", "SERIES",
    "SWEEP_FIGURES", "base_weights", "diff_runs", "dynamics_files", "dynamics_groups", "dynamics_runs", "is_series",
    "series_checkpoint", "series_checkpoints", "snapshot_analysis_settings", "snapshot_epochs", "snapshot_recipe", "source_files_of",
    "SWEEP_TABLES", "TABLES", "TABLE_DIR", "TRAINED", "WEIGHTS", "Run", "RunGroup", "StudyTable", "alternatives",
    "analysis_mem_mb", "batched_training_rules", "canonical", "comparison_layer", "config_value", "control_layer",
    "dataset_files", "dataset_params", "DATASET_OPTIONS", "external_spec", "factory_code", "factory_codes",
    "figure_runs", "final_targets", "group_jobs", "is_weights_source", "job_counts", "model_params",
    "porter_thomas_window", "prune_layer", "prune_reason", "pruned_runs", "run_analyses", "run_files", "run_groups",
    "runs", "spectra_only_studies", "studies", "study_analyses", "study_run_files", "study_tables", "summary_fits",
    "summary_tables", "table_inputs", "table_layer", "table_pattern", "table_reason_rows", "train_mem_mb",
    "train_recipe", "train_runtime", "trained_variants", "variant_widths", "vector_studies", "weights_files",
    "weights_layout", "weights_part_files", "wildcard_constraints", "dynamics_jobs",
]

#: One run's folder below ``results/`` (and below ``logs/<rule>/``): the run keys separated by ``/``.
RUN_PATH = "{study}/{dataset}/{model}/{variant}/seed{seed}"
#: The seeds of one run group share this prefix.
GROUP_PATH = "{study}/{dataset}/{model}/{variant}"
#: Where a run's checkpoints and per-run tables are written.
RUN_DIR = f"results/{RUN_PATH}"
#: Where a run's figures are written.
FIGURE_DIR = f"results/figures/{RUN_PATH}"
#: Where a study's tables are written.
TABLE_DIR = "results/tables/{study}"

#: Source of a run: trained by the workflow, given with an architecture, or a weights file alone.
TRAINED, GIVEN, WEIGHTS = "trained", "given", "weights"
#: Variant of an external run whose ``weights`` are a series of checkpoints (analysed for its dynamics only).
SERIES = "series"
#: The dynamics figure of a run group (snapshot epochs or a checkpoint series).
DYNAMICS_FIGURE = f"results/figures/{GROUP_PATH}/dynamics.png"
#: The dataset of an external run that names none.
NO_DATASET = "none"
#: Optional per-run analyses (``studies.<study>.analyses``), in the order the rules run them.
ANALYSES: tuple[str, ...] = ("heavy_tail", "universality", "prune")


class Run(NamedTuple):
    """One run: the workflow's unit of analysis (the run keys)."""

    study: str
    dataset: str
    model: str
    variant: str
    seed: int


@dataclass(frozen=True)
class RunGroup:
    """The seeds of one (study, dataset, model, variant) and what their runs get.

    ``source`` is :data:`TRAINED`, :data:`GIVEN` or :data:`WEIGHTS`; ``train`` the resolved training
    recipe (the study's ``train`` updated by the variant's) and ``model_params`` the architecture and
    its kwargs, both None for external runs (their spec: :func:`external_spec`); ``analyses`` the
    optional per-run analyses of :data:`ANALYSES` its runs get (:func:`run_analyses`).
    """

    study: str
    dataset: str
    model: str
    variant: str
    seeds: tuple[int, ...]
    source: str
    train: dict[str, Any] | None
    model_params: dict[str, Any] | None
    analyses: tuple[str, ...]

    @property
    def runs(self) -> list[Run]:
        return [Run(self.study, self.dataset, self.model, self.variant, seed) for seed in self.seeds]


@dataclass(frozen=True)
class StudyTable:
    """A table of ``results/tables/<study>/`` and where it comes from.

    Attributes
    ----------
    name : str
        The table's name; ``compare_{key}`` stands for one table per compared train key.
    rule : str
        The rule that writes it.
    inputs : tuple of str
        The per-run tables it aggregates (``<run dir>/<input>.parquet`` of every run it covers).
    needs : str
        Which studies have it: ``"all"``, ``"trained"``, an analysis of :data:`ANALYSES` (``"prune"``:
        studies with a keep-top-s evaluation, or external ones, whose tables say why not), ``"compare"``
        (``studies.<study>.compare`` set) or ``"spike_count"`` (``studies.<study>.sweep``).
    pruned_only : bool
        Built from the runs that have a keep-top-s evaluation only (the others become reason rows,
        :func:`table_reason_rows`); otherwise from every run of the study.
    files : tuple of str
        The Parquet files (names without ``.parquet``) the rule writes for it; default ``(name,)``.
    """

    name: str
    rule: str
    inputs: tuple[str, ...]
    needs: str
    pruned_only: bool = False
    files: tuple[str, ...] = field(default=())

    def file_names(self, key: str | None = None) -> tuple[str, ...]:
        """The Parquet file names (without suffix); ``key`` fills ``compare_{key}``."""
        names = self.files or (self.name,)
        return tuple(name.format(key=key) for name in names) if key is not None else names


#: The one registry of study tables (name -> :class:`StudyTable`), in the order they are listed.
TABLES: dict[str, StudyTable] = {table.name: table for table in (
    StudyTable("table2", "aggregate_table", ("mp_fit",), "all"),
    StudyTable("training", "aggregate_table", ("training",), "trained"),
    StudyTable("heavy_tail", "aggregate_table", ("heavy_tail",), "heavy_tail"),
    StudyTable("universality", "aggregate_table", ("universality",), "universality"),
    StudyTable("correlation", "aggregate_table", ("correlation",), "prune", pruned_only=True),
    StudyTable("lowrank", "aggregate_table", ("lowrank",), "prune", pruned_only=True),
    StudyTable("compare_{key}", "aggregate_table", ("mp_fit", "training"), "compare"),
    StudyTable("spike_counts", "aggregate_spike_counts", ("mp_fit", "training"), "spike_count",
               files=("spike_counts", "spike_growth")),
    StudyTable("dynamics", "aggregate_dynamics", ("dynamics",), "dynamics"),
    StudyTable("diff", "aggregate_table", ("diff",), "diff"),
)}

#: Tables of ``results/tables/sweeps/`` per sweep of ``sweeps:`` (written when the sweep is not null).
SWEEP_TABLES: dict[str, tuple[str, ...]] = {"wigner": ("outlier_error", "peche"), "bbp_table": ("bbp_table",)}
#: Figures of ``results/figures/sweeps/`` per sweep.
SWEEP_FIGURES: dict[str, tuple[str, ...]] = {"wigner": ("wigner_error",), "bbp_table": ()}


# ---------------------------------------------------------------- config values
def canonical(value: Any) -> Any:
    """Dicts with sorted keys, recursively: Snakemake compares params by ``repr``, and the order of keys
    in a config file (or the order in which the schema fills defaults) must not trigger reruns."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def config_value(config: Mapping[str, Any], *keys: str) -> Any:
    """The config value at ``keys`` (e.g. ``"analysis", "heavy_tail"``), in :func:`canonical` form."""
    value: Any = config
    for key in keys:
        value = value[key]
    return canonical(value)


def alternatives(values: Iterable[Any]) -> str:
    """A wildcard constraint matching exactly these names (and nothing, for none)."""
    names = sorted({str(v) for v in values})
    return "|".join(names) if names else "(?!)"


def is_weights_source(spec: Mapping[str, Any]) -> bool:
    """True for an external spec that is a weights file without an architecture (not a series)."""
    return "weights" in spec and "torchvision" not in spec and not is_series(spec)


def is_series(spec: Mapping[str, Any]) -> bool:
    """True for an external spec whose ``weights`` are a series of checkpoints: a list, or a glob pattern."""
    weights = spec.get("weights")
    return isinstance(weights, list) or (isinstance(weights, str) and any(c in weights for c in "*?["))


# ---------------------------------------------------------------- studies and their analyses
def studies(config: Mapping[str, Any]) -> list[str]:
    """Every study: the trained ones, then the external ones."""
    return [*config["studies"], *config["external"]]


def trained_variants(config: Mapping[str, Any]) -> list[str]:
    """The variant names of the trained studies."""
    return [variant for spec in config["studies"].values() for variant in spec["variants"]]


def study_analyses(config: Mapping[str, Any], study: str) -> tuple[str, ...]:
    """The optional analyses of :data:`ANALYSES` a study asks for (external studies: all three; the
    keep-top-s evaluation then needs a ``prune_layer``, see :func:`prune_reason`)."""
    if study in config["external"]:
        return ANALYSES
    asked = config["studies"][study]["analyses"]
    return tuple(analysis for analysis in ANALYSES if analysis in asked)


def prune_layer(config: Mapping[str, Any], study: str, model: str) -> str | None:
    """The layer whose keep-top-s accuracy is measured for runs of (study, model), or None."""
    if study in config["external"]:
        return config["external"][study][model]["prune_layer"]
    return config["models"][model]["prune_layer"]


def prune_reason(config: Mapping[str, Any], study: str, model: str) -> str | None:
    """Why runs of (study, model) get no keep-top-s evaluation although their study asks for one
    (external studies always do); None when they get it or when the study does not ask."""
    if "prune" not in study_analyses(config, study):
        return None
    if study in config["external"]:
        spec = config["external"][study][model]
        if spec["prune_layer"] is not None:
            return None
        if is_weights_source(spec) or "checkpoint" not in spec:
            return ("no keep-top-s evaluation: it needs an rmtweights `checkpoint` (an architecture to run), a "
                    "`dataset` and a `prune_layer`")
        return "no keep-top-s evaluation: the spec names no `prune_layer`"
    if config["models"][model]["prune_layer"] is None:
        return f"no keep-top-s evaluation: models.{model}.prune_layer is null"
    return None


def control_layer(config: Mapping[str, Any], study: str, model: str) -> str | None:
    """The layer whose random controls (:mod:`rmtweights.controls`) rule ``extract_spectra`` decomposes for
    runs of (study, model): the prune layer of runs whose Ave_w curve is correlated with the keep-top-s
    accuracy, None for the others (no controls)."""
    return prune_layer(config, study, model) if "prune" in run_analyses(config, study, model) else None


def run_analyses(config: Mapping[str, Any], study: str, model: str) -> tuple[str, ...]:
    """The optional analyses runs of (study, model) get: the study's, less ``prune`` where
    :func:`prune_reason` gives a reason."""
    return tuple(analysis for analysis in study_analyses(config, study)
                 if analysis != "prune" or prune_reason(config, study, model) is None)


def vector_studies(config: Mapping[str, Any]) -> list[str]:
    """Studies whose layers are decomposed with their singular vectors (the universality tests)."""
    return [study for study in studies(config) if "universality" in study_analyses(config, study)]


def spectra_only_studies(config: Mapping[str, Any]) -> list[str]:
    """Trained studies whose layers are decomposed without singular vectors."""
    vectors = set(vector_studies(config))
    return [study for study in config["studies"] if study not in vectors]


# ---------------------------------------------------------------- runs
def runs(config: Mapping[str, Any], study: str | None = None) -> list[Run]:
    """Every run of the config (or of ``study``), in config order: trained, then external."""
    return [run for group in run_groups(config) if study is None or group.study == study for run in group.runs]


def run_groups(config: Mapping[str, Any]) -> list[RunGroup]:
    """One :class:`RunGroup` per (study, dataset, model, variant), in config order."""
    groups = []
    for study, spec in config["studies"].items():
        for dataset in spec["datasets"]:
            for model in spec["models"]:
                for variant in spec["variants"]:
                    groups.append(RunGroup(study, dataset, model, variant, tuple(spec["seeds"]), TRAINED,
                                           train_recipe(config, study, variant),
                                           model_params(config, study, model, variant),
                                           run_analyses(config, study, model)))
    for study, models in config["external"].items():
        for model, spec in models.items():
            if is_series(spec):  # analysed for its dynamics only: dynamics_groups
                continue
            weights = is_weights_source(spec)
            groups.append(RunGroup(study, spec["dataset"] or NO_DATASET, model, WEIGHTS if weights else GIVEN, (0,),
                                   WEIGHTS if weights else GIVEN, None, None, run_analyses(config, study, model)))
    return groups


def pruned_runs(config: Mapping[str, Any], study: str | None = None) -> list[Run]:
    """The runs with a keep-top-s evaluation (of ``study``, or all)."""
    return [run for run in runs(config, study) if "prune" in run_analyses(config, run.study, run.model)]


def figure_runs(config: Mapping[str, Any], study: str | None = None) -> list[Run]:
    """The runs that get per-run figures: the first seed of every run group."""
    return [group.runs[0] for group in run_groups(config) if study is None or group.study == study]


def run_files(pattern: str, selected: Iterable[Run]) -> list[str]:
    """``pattern`` (with run-key fields) formatted for every run of ``selected``."""
    return [pattern.format(**run._asdict()) for run in selected]


def study_run_files(config: Mapping[str, Any], study: str, table: str) -> list[str]:
    """``<run dir>/<table>.parquet`` of every run of ``study``."""
    return run_files(f"{RUN_DIR}/{table}.parquet", runs(config, study))


# ---------------------------------------------------------------- per-run parameters
#: Config keys of a dataset of your own that define its tensors, per source, and their names in the params
#: (:data:`rmtweights.data.SOURCE_OPTIONS`; the torchvision class is ``name`` in the config).
DATASET_OPTIONS: dict[str, dict[str, str]] = {
    "npz": {"path": "path", "classes": "classes"},
    "imagefolder": {"path": "path", "size": "size", "channels": "channels"},
    "torchvision": {"torchvision": "name", "kwargs": "kwargs", "size": "size", "classes": "classes"},
}


def dataset_params(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """Everything that defines a dataset's tensors (plain data: compared by Snakemake's params trigger)."""
    spec = config["datasets"][dataset]
    options = {param: spec.get(key) for param, key in DATASET_OPTIONS.get(spec["source"], {}).items()}
    return canonical(dict(name=dataset, source=spec["source"],
                          synthetic=spec["synthetic"] if spec["source"] == "synthetic" else None,
                          data_dir=config["data_dir"], download=config["download"], normalize=spec["normalize"],
                          **options))


def dataset_files(config: Mapping[str, Any], dataset: str) -> list[str]:
    """The files (or folder) a dataset of your own is read from: inputs of rule ``prepare_dataset``, so a
    missing one stops the workflow before any job and a changed one prepares it (and retrains) again."""
    spec = config["datasets"][dataset]
    return [spec["path"]] if spec["source"] in ("npz", "imagefolder") else []


def factory_code(config: Mapping[str, Any], model: str) -> str:
    """The code fingerprint of a factory model's file ("off" with ``code_fingerprint: false``), in the
    training params of that model's runs only: editing the file retrains them and nothing else.

    Raises :class:`rmtweights.factory.FactoryError` naming the config key and the resolved path.
    """
    from rmtweights.factory import FactoryError, factory_fingerprint  # pure Python: ast and hashlib

    if not config["code_fingerprint"]:
        return "off"
    reference = config["models"][model]["factory"]
    try:
        return factory_fingerprint(reference)
    except (FactoryError, OSError, SyntaxError) as err:
        raise FactoryError(f"config error at models.{model}.factory ({reference}): {err}") from None


def factory_codes(config: Mapping[str, Any]) -> dict[str, str]:
    """:func:`factory_code` of every factory model (the workflow calls it when it is read: a missing or
    broken factory file stops it before any job)."""
    return {model: factory_code(config, model) for model, spec in config["models"].items() if "factory" in spec}


def model_params(config: Mapping[str, Any], study: str, model: str, variant: str) -> dict[str, Any]:
    """Architecture and widths of a trained run's model: the model's kwargs updated by the variant's.

    A model of :mod:`rmtweights.models`: ``{arch, kwargs}``. A factory model: ``arch`` is
    :data:`rmtweights.models.FACTORY` and ``kwargs`` hold the reference, the factory's own kwargs, ``init``
    and the file's code fingerprint (:func:`factory_code`), the arguments of
    :func:`rmtweights.factory.build_factory_model`.
    """
    spec = config["models"][model]
    override = config["studies"][study]["variants"][variant]["model"]
    kwargs = {**spec["kwargs"], **override}
    if "factory" in spec:
        from rmtweights.factory import FACTORY

        return canonical(dict(arch=FACTORY, kwargs=dict(factory=spec["factory"], kwargs=kwargs, init=spec["init"],
                                                          code=factory_code(config, model))))
    return canonical(dict(arch=spec["arch"], kwargs=kwargs))


def train_recipe(config: Mapping[str, Any], study: str, variant: str) -> dict[str, Any]:
    """The study's training recipe updated by the variant's overrides."""
    spec = config["studies"][study]
    recipe = {**spec["train"], **spec["variants"][variant]["train"]}
    recipe.pop("snapshot_epochs", None)  # what training keeps, not how it trains: snapshot_epochs()
    return canonical(recipe)


def external_spec(config: Mapping[str, Any], study: str, model: str) -> dict[str, Any]:
    """The spec of an external run's model."""
    return canonical(config["external"][study][model])


def porter_thomas_window(config: Mapping[str, Any], study: str) -> int | None:
    """The Porter-Thomas moving-average window where the study tests universality, else None."""
    return config["analysis"]["universality"]["window"] if study in vector_studies(config) else None


def comparison_layer(config: Mapping[str, Any], study: str) -> str | None:
    """The layer a variant comparison shows (``studies.<study>.compare_layer``; paper 000 Fig. 3: fc1);
    None for a study without a comparison."""
    spec = config["studies"].get(study)
    return spec["compare_layer"] if spec is not None and spec["compare"] is not None else None


def table_layer(config: Mapping[str, Any], study: str, table: str) -> str | None:
    """The layer a study table flags: the comparison layer in ``compare_<key>`` tables, else None."""
    return comparison_layer(config, study) if _table(table)[0].needs == "compare" else None


def variant_widths(config: Mapping[str, Any], study: str) -> dict[str, int]:
    """N of each variant of a spike-count study (variant name -> width)."""
    return {name: spec["model"]["width"] for name, spec in config["studies"][study]["variants"].items()}


def train_mem_mb(config: Mapping[str, Any], dataset: str, attempt: int) -> int:
    """Training (and pruning-evaluation) memory: grows with the data set, doubled on each retry."""
    base = 2000 if config["datasets"][dataset]["source"] == "synthetic" else 6000
    return base * 2 ** (attempt - 1)


def analysis_mem_mb(attempt: int) -> int:
    """Memory of a per-run analysis job: 2 GB, doubled on each retry."""
    return 2000 * 2 ** (attempt - 1)


def train_runtime(config: Mapping[str, Any], study: str, variant: str, attempt: int) -> int:
    """Training minutes: 10 plus 2 per epoch, times the attempt."""
    return (10 + 2 * train_recipe(config, study, variant)["epochs"]) * attempt


def batched_training_rules(config: Mapping[str, Any]) -> list[tuple[str, tuple[int, ...], list[str]]]:
    """Seed-batched training: one rule per distinct seed list, ``(rule name, seeds, studies)``.

    Each rule's outputs are every seed's checkpoints and metrics, so each file is written once, by
    the job that trains it. Rule names: ``train_models_batched``, ``train_models_batched_2``, ...
    """
    groups: dict[tuple[int, ...], list[str]] = {}
    for study, spec in config["studies"].items():
        groups.setdefault(tuple(spec["seeds"]), []).append(study)
    return [("train_models_batched" if index == 0 else f"train_models_batched_{index + 1}", seeds, names)
            for index, (seeds, names) in enumerate(sorted(groups.items()))]


# ---------------------------------------------------------------- weights files (external, no architecture)
def weights_layout(config: Mapping[str, Any]) -> dict[tuple[str, str], list[list[str]]]:
    """Per (study, model) of a weights source, its tensor names split into jobs of ``layers_per_job``
    layers (read from the file's header; no tensor data is loaded)."""
    from rmtweights.weights.common import WeightsError
    from rmtweights.weights.parts import plan_parts  # torch only for .pt/.bin files; nothing without weights sources

    layout = {}
    for study, models in config["external"].items():
        for model, spec in models.items():
            if not is_weights_source(spec):
                continue
            try:
                layout[(study, model)] = plan_parts(spec["weights"], include=spec["include"], exclude=spec["exclude"],
                                                    layers_per_job=spec["layers_per_job"], experts=spec["experts"],
                                                    split_qkv=spec["split_qkv"], split_gate_up=spec["split_gate_up"])
            except WeightsError as err:  # name the config key and the path as resolved (config.resolve_paths)
                raise WeightsError(f"config error at external.{study}.{model}.weights "
                                   f"({os.path.abspath(spec['weights'])}): {err}") from None
    return layout


def weights_files(config: Mapping[str, Any], study: str, model: str) -> list[str]:
    """The files a weights source reads (the file, or the index and its shards)."""
    from rmtweights.weights.source import source_files

    return [str(path) for path in source_files(config["external"][study][model]["weights"])]


def weights_part_files(parts: Sequence[Sequence[str]], study: str, dataset: str, model: str,
                       table: str) -> list[str]:
    """``<run dir>/parts/<table>_<i>.parquet`` of every job of a weights source split into ``parts``."""
    run_dir = RUN_DIR.format(study=study, dataset=dataset, model=model, variant=WEIGHTS, seed=0)
    return [f"{run_dir}/parts/{table}_{index}.parquet" for index in range(len(parts))]


# ---------------------------------------------------------------- study tables
def _table(name: str) -> tuple[StudyTable, str | None]:
    """The registry entry of a table name, and the compared key of ``compare_<key>``."""
    if name in TABLES:
        return TABLES[name], None
    if name.startswith("compare_"):
        return TABLES["compare_{key}"], name[len("compare_"):]
    raise ValueError(f"unknown study table {name!r} (known: {', '.join(TABLES)})")


def _has(config: Mapping[str, Any], study: str, needs: str) -> bool:
    spec = config["studies"].get(study)
    if needs == "all":
        return bool(runs(config, study))
    if needs == "trained":
        return spec is not None
    if needs == "prune":
        return (study in config["external"] and bool(runs(config, study))) or bool(pruned_runs(config, study))
    if needs == "dynamics":
        return bool(dynamics_groups(config, study))
    if needs == "diff":
        return bool(diff_runs(config, study))
    if needs in ANALYSES:
        return needs in study_analyses(config, study) and bool(runs(config, study))
    if needs == "compare":
        return spec is not None and spec["compare"] is not None
    if needs == "spike_count":
        return spec is not None and spec["sweep"] == "spike_count"
    raise ValueError(f"unknown table condition {needs!r}")


def study_tables(config: Mapping[str, Any], study: str, rule: str | None = None) -> list[str]:
    """The names of the tables ``study`` has (of ``rule`` only, if given), in :data:`TABLES` order."""
    names = []
    for table in TABLES.values():
        if (rule is None or table.rule == rule) and _has(config, study, table.needs):
            names.append(table.name.format(key=config["studies"][study]["compare"]) if table.needs == "compare"
                         else table.name)
    return names


def table_pattern(config: Mapping[str, Any]) -> str:
    """The ``table`` wildcard constraint of rule ``aggregate_table``: every table name it writes."""
    return alternatives(name for study in studies(config) for name in study_tables(config, study, "aggregate_table"))


def table_inputs(config: Mapping[str, Any], study: str, table: str) -> dict[str, list[str]]:
    """Per-run Parquet files a study table is built from, by per-run table name."""
    entry, _ = _table(table)
    if entry.needs in ("dynamics", "diff"):
        selected = dynamics_runs(config, study) if entry.needs == "dynamics" else diff_runs(config, study)
    else:
        selected = pruned_runs(config, study) if entry.pruned_only else runs(config, study)
    return {name: run_files(f"{RUN_DIR}/{name}.parquet", selected) for name in entry.inputs}


def table_reason_rows(config: Mapping[str, Any], study: str, table: str) -> list[dict[str, Any]]:
    """Runs a table built from pruned runs has no per-run file for: their keys and the reason."""
    if not _table(table)[0].pruned_only:
        return []
    return [dict(run._asdict(), reason=reason) for run in runs(config, study)
            if (reason := prune_reason(config, run.study, run.model)) is not None]


# ---------------------------------------------------------------- targets
def final_targets(config: Mapping[str, Any]) -> list[str]:
    """Every file the workflow promises (``rule all``): study tables and figures, sweeps, the summary."""
    targets = []
    for study in studies(config):
        directory = TABLE_DIR.format(study=study)
        for name in study_tables(config, study):
            entry, key = _table(name)
            targets += [f"{directory}/{file}.parquet" for file in entry.file_names(key)]
        figures = figure_runs(config, study)
        targets += run_files(f"{FIGURE_DIR}/spectrum.png", figures)
        if "universality" in study_analyses(config, study):
            targets += run_files(f"{FIGURE_DIR}/universality.png", figures)
        targets += run_files(f"{FIGURE_DIR}/avew_accuracy.png",
                             [run for run in figures if "prune" in run_analyses(config, run.study, run.model)])
        spec = config["studies"].get(study)
        if spec is not None and spec["compare"] is not None:
            targets.append(f"results/figures/{study}/compare_{spec['compare']}.png")
        if spec is not None and spec["sweep"] == "spike_count":
            targets.append(f"results/figures/{study}/spike_counts.png")
        targets += [DYNAMICS_FIGURE.format(**group.runs[0]._asdict()) for group, _, _ in dynamics_groups(config, study)]
    for sweep, names in SWEEP_TABLES.items():
        if config["sweeps"][sweep]:
            targets += [f"results/tables/sweeps/{name}.parquet" for name in names]
            targets += [f"results/figures/sweeps/{name}.png" for name in SWEEP_FIGURES[sweep]]
    return targets + ["results/summary.md"]


def summary_tables(config: Mapping[str, Any]) -> list[str]:
    """Every study and sweep table of the run (Parquet): the inputs of ``results/summary.md``."""
    return [path for path in final_targets(config) if path.startswith("results/tables/") and path.endswith(".parquet")]


def summary_fits(config: Mapping[str, Any]) -> list[str]:
    """The external runs' fit tables, which the summary of a config with external studies only reads."""
    external = [run for study in config["external"] for run in runs(config, study)]
    return run_files(f"{RUN_DIR}/mp_fit.parquet", external)


# ---------------------------------------------------------------- wildcards
def wildcard_constraints(config: Mapping[str, Any]) -> dict[str, str]:
    """The workflow's global wildcard constraints: config names joined with ``|``."""
    return dict(
        study=alternatives(studies(config)),
        dataset=alternatives([*config["datasets"], NO_DATASET]),
        model=alternatives([*config["models"], *(model for spec in config["external"].values() for model in spec)]),
        variant=alternatives([*trained_variants(config), GIVEN, WEIGHTS, SERIES]),
        seed=r"\d+",
        epoch=r"\d+",
        step=r"\d+",
        part=r"\d+",
        table=table_pattern(config),
        key=r"[A-Za-z0-9_]+",
    )


# ---------------------------------------------------------------- jobs
def group_jobs(config: Mapping[str, Any], group: RunGroup, parts: int = 1) -> Counter:
    """Jobs per rule for one run group (``parts``: jobs of a weights source, :func:`weights_layout`)."""
    jobs: Counter = Counter()
    seeds = len(group.seeds)
    if group.source == TRAINED:
        if config["training"]["batched"]:
            rule = next(name for name, _, names in batched_training_rules(config) if group.study in names)
            jobs[rule] += 1
        else:
            jobs["train_model"] += seeds
    elif group.source == GIVEN:
        jobs["import_model"] += 1
    if group.source == WEIGHTS:
        jobs.update(extract_weights_part=parts, gather_spectra=1)
    else:
        vectors = group.study in vector_studies(config)
        jobs["extract_spectra_and_vectors" if vectors else "extract_spectra"] += seeds
    jobs.update(fit_mp=seeds, plot_spectrum=1)
    if "heavy_tail" in group.analyses:
        jobs["fit_heavy_tail"] += seeds
    if "universality" in group.analyses:
        jobs.update(measure_universality=seeds, plot_universality=1)
    if "prune" in group.analyses:
        jobs.update(evaluate_pruning=seeds, correlate=seeds, plot_avew_accuracy=1)
    return jobs


def job_counts(config: Mapping[str, Any], layout: Mapping[tuple[str, str], Sequence] | None = None) -> dict[str, int]:
    """Jobs per rule of a complete run of ``config`` from scratch (``layout``: :func:`weights_layout`,
    read from the weights files when not given)."""
    if layout is None:
        layout = weights_layout(config)
    jobs: Counter = Counter()
    datasets = set()
    for group in run_groups(config):
        jobs.update(group_jobs(config, group, len(layout.get((group.study, group.model), ()))))
        if group.source == TRAINED or "prune" in group.analyses:
            datasets.add(group.dataset)
    jobs["prepare_dataset"] = len(datasets)
    for study in studies(config):
        for name in study_tables(config, study):
            jobs[_table(name)[0].rule] += 1
        spec = config["studies"].get(study)
        if spec is not None and spec["compare"] is not None:
            jobs["plot_comparison"] += 1
        if spec is not None and spec["sweep"] == "spike_count":
            jobs["plot_spike_counts"] += 1
    jobs.update(dynamics_jobs(config))
    if config["sweeps"]["wigner"]:
        jobs.update(simulate_wigner_outliers=1, summarise_wigner_outliers=1)
    if config["sweeps"]["bbp_table"]:
        jobs["compute_bbp_table"] += 1
    jobs.update(write_summary=1, all=1)
    return {rule: count for rule, count in sorted(jobs.items()) if count}


# ---------------------------------------------------------------- dynamics: snapshots, checkpoint series, differences
def snapshot_epochs(config: Mapping[str, Any], study: str, variant: str) -> list[int]:
    """The epochs whose weights runs of (study, variant) keep and analyse (``train.snapshot_epochs``):
    the list given, or for ``{every: k}`` the epochs 0, k, 2k, ... and the last one; empty when none.

    Not a parameter the training rule compares (it changes what training keeps, not what it computes):
    changing the list adds or drops snapshot jobs and never retrains.
    """
    spec = config["studies"][study]
    recipe = {**spec["train"], **spec["variants"][variant]["train"]}
    chosen = recipe.get("snapshot_epochs") or []
    if isinstance(chosen, dict):
        chosen = [*range(0, recipe["epochs"] + 1, chosen["every"]), recipe["epochs"]]
    return sorted({int(epoch) for epoch in chosen})


def snapshot_recipe(config: Mapping[str, Any], study: str, variant: str) -> dict[str, Any]:
    """The training recipe without ``epochs``: what rule ``take_snapshot`` compares, so that extending a
    run's training keeps the snapshots already taken."""
    return {key: value for key, value in train_recipe(config, study, variant).items() if key != "epochs"}


def snapshot_analysis_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The analysis settings of a snapshot or checkpoint (estimators, heavy-tail test, conv reshape)."""
    analysis = config["analysis"]
    return canonical(dict(methods=analysis["methods"], alpha=analysis["bema"]["alpha"], a=analysis["gb"]["a"],
                          beta=analysis["beta"], heavy_tail=analysis["heavy_tail"], reshape=analysis["reshape"]))


def series_checkpoints(config: Mapping[str, Any], study: str, model: str) -> list[tuple[int, str]]:
    """``(step, path)`` of each checkpoint of an external series, by step.

    ``weights`` is a list (with ``steps`` of the same length) or a glob pattern (with ``steps`` for the
    matches in sorted order, or without: the last number in each match's name). Raises ``ValueError``
    naming the config key.
    """
    spec = config["external"][study][model]
    where = f"config error at external.{study}.{model}"
    weights = spec["weights"]
    paths = sorted(glob.glob(weights)) if isinstance(weights, str) else list(weights)
    if not paths:
        raise ValueError(f"{where}.weights: the pattern {weights!r} ({os.path.abspath(weights)}) matches no file")
    steps = spec["steps"]
    if steps is None:
        if not isinstance(weights, str):
            raise ValueError(f"{where}.steps: a list of checkpoints needs its steps (one per checkpoint)")
        numbers = [re.findall(r"\d+", os.path.basename(os.path.normpath(path))) for path in paths]
        missing = [path for path, found in zip(paths, numbers) if not found]
        if missing:
            raise ValueError(f"{where}.steps: no number in the name of {missing[0]}; give `steps:` explicitly")
        steps = [int(found[-1]) for found in numbers]
    if len(steps) != len(paths):
        raise ValueError(f"{where}.steps: {len(steps)} steps for {len(paths)} checkpoints ({paths[:3]}...)")
    if len(set(steps)) != len(steps):
        raise ValueError(f"{where}.steps: steps {sorted(steps)} repeat")
    return sorted(zip(map(int, steps), map(str, paths)))


def series_checkpoint(config: Mapping[str, Any], study: str, model: str, step: int) -> str:
    """The checkpoint of ``step`` of an external series."""
    return dict(series_checkpoints(config, study, model))[int(step)]


def dynamics_groups(config: Mapping[str, Any], study: str | None = None) -> list[tuple[RunGroup, str, list[int]]]:
    """``(run group, axis, points)`` of every run group analysed over time: trained groups with snapshot
    epochs (axis ``epoch``) and external series (axis ``step``, variant :data:`SERIES`)."""
    out = []
    for group in run_groups(config):
        if group.source == TRAINED and (study is None or group.study == study):
            epochs = snapshot_epochs(config, group.study, group.variant)
            if epochs:
                out.append((group, "epoch", epochs))
    for name, models in config["external"].items():
        for model, spec in models.items():
            if is_series(spec) and (study is None or name == study):
                group = RunGroup(name, spec["dataset"] or NO_DATASET, model, SERIES, (0,), SERIES, None, None, ())
                out.append((group, "step", [step for step, _ in series_checkpoints(config, name, model)]))
    return out


def dynamics_runs(config: Mapping[str, Any], study: str | None = None) -> list[Run]:
    """The runs with a ``dynamics.parquet`` (of ``study``, or all)."""
    return [run for group, _, _ in dynamics_groups(config, study) for run in group.runs]


def dynamics_files(config: Mapping[str, Any], study: str, dataset: str, model: str, variant: str,
                   seed: int) -> dict[str, Any]:
    """Rule ``gather_dynamics``'s inputs (``tables``, ``directions``: per snapshot, in order) and its
    ``axis``, for one run."""
    for group, axis, points in dynamics_groups(config, study):
        if (group.dataset, group.model, group.variant) == (dataset, model, variant):
            run_dir = RUN_DIR.format(study=study, dataset=dataset, model=model, variant=variant, seed=seed)
            return dict(axis=axis,
                        tables=[f"{run_dir}/snapshots/{axis}{point}.parquet" for point in points],
                        directions=[f"{run_dir}/snapshots/{axis}{point}_directions.parquet" for point in points])
    raise ValueError(f"no dynamics for {study}/{dataset}/{model}/{variant}")


def diff_runs(config: Mapping[str, Any], study: str | None = None) -> list[Run]:
    """External runs of a weights file with a ``base``: their ``diff.parquet`` compares the two."""
    return [run for group in run_groups(config) if study is None or group.study == study
            if group.source == WEIGHTS and config["external"][group.study][group.model]["base"] is not None
            for run in group.runs]


def source_files_of(path: str) -> list[str]:
    """The files a weights path reads (the file, or an index and its shards): the inputs of its job."""
    from rmtweights.weights.source import source_files

    return [str(file) for file in source_files(path)]


def external_selection(config: Mapping[str, Any], study: str, model: str) -> dict[str, Any]:
    """The tensor selection (``include``, ``exclude``) of an external model: all a checkpoint's or a
    difference's job needs of its spec, so that adding a checkpoint to a series reruns no other."""
    spec = config["external"][study][model]
    return canonical({"include": spec["include"], "exclude": spec["exclude"]})


def base_weights(config: Mapping[str, Any], study: str, model: str) -> str:
    """The ``base`` weights an external model is compared with."""
    return config["external"][study][model]["base"]


def dynamics_jobs(config: Mapping[str, Any]) -> Counter:
    """Jobs per rule of the snapshots, checkpoint series and differences (their study tables aside)."""
    jobs: Counter = Counter()
    for group, axis, points in dynamics_groups(config):
        per_point = len(group.seeds) * len(points)
        if axis == "epoch":
            jobs.update(take_snapshot=per_point, analyze_snapshot=per_point, record_snapshot_settings=1)
        else:
            jobs.update(analyze_checkpoint=per_point)
        jobs.update(gather_dynamics=len(group.seeds), plot_dynamics=1)
    jobs.update(diff_weights=len(diff_runs(config)))
    return jobs
