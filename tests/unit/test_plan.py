"""rmtweights.plan: the runs, run groups, study tables, targets and job counts of small configs.

Every config is validated against the workflow's schema first (defaults filled), as the Snakefile does.
The job counts of config/config.yaml are the ones ``snakemake -n`` reports (tests/workflow compares
the two for config.yaml and paper.yaml).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from rmtweights import plan
from rmtweights.config import resolve_paths
from rmtweights.config import check_config, validate_config
from rmtweights.plan import Run

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

SWEEPS = {"wigner": {"Ns": [100, 200], "seeds": [0], "interval": [3.0, 5.0]},
          "bbp_table": {"sizes": [[100, 200]], "thetas": [3.0]}}


def validated(config: dict) -> dict:
    config = copy.deepcopy(config)
    validate_config(config, SCHEMA)
    check_config(config)
    return config


def trained_config(**study) -> dict:
    """Two models x two variants x two seeds on one synthetic dataset; `study` overrides the study's keys."""
    spec = {"datasets": ["syn"], "models": ["mlp", "lenet"], "seeds": [3, 5],
            "train": {"epochs": 2, "batch_size": 64, "lr": 0.1},
            "variants": {"bs64": {}, "bs128": {"train": {"batch_size": 128}, "model": {"hidden": [32]}}},
            **study}
    return validated({
        "datasets": {"syn": {"source": "synthetic"}},
        "models": {"mlp": {"arch": "mlp", "kwargs": {"hidden": [64, 32]}, "prune_layer": "fc2"},
                   "lenet": {"arch": "lenet", "prune_layer": None}},
        "studies": {"tiny": spec},
    })


def external_config() -> dict:
    """An external study: an rmtweights checkpoint pruned on a dataset, one without prune layer, a weights file."""
    return validated({
        "datasets": {"syn": {"source": "synthetic"}},
        "external": {"given": {
            "ckpt": {"checkpoint": "final.pt", "dataset": "syn", "prune_layer": "fc2"},
            "vision": {"torchvision": "alexnet", "weights": "alexnet.pth"},
            "llm": {"weights": "model.safetensors"},
        }},
    })


# ---------------------------------------------------------------- runs and run groups
def test_runs_of_a_trained_study_in_config_order():
    config = trained_config()
    runs = plan.runs(config)
    assert len(runs) == 2 * 2 * 2
    assert runs[0] == Run("tiny", "syn", "mlp", "bs64", 3)
    assert runs[1] == Run("tiny", "syn", "mlp", "bs64", 5)  # seeds innermost, as a run group
    assert {run.variant for run in runs} == {"bs64", "bs128"}
    assert plan.runs(config, "tiny") == runs and plan.runs(config, "other") == []


def test_run_groups_resolve_the_recipe_and_the_model():
    config = trained_config()
    groups = {(g.model, g.variant): g for g in plan.run_groups(config)}
    assert len(groups) == 4
    wide = groups[("mlp", "bs128")]
    assert wide.seeds == (3, 5) and wide.source == plan.TRAINED
    # the variant overrides the study's batch size and the model's widths, nothing else
    base = groups[("mlp", "bs64")].train
    assert (wide.train["batch_size"], base["batch_size"]) == (128, 64)
    assert {k: v for k, v in wide.train.items() if k != "batch_size"} == {k: v for k, v in base.items()
                                                                           if k != "batch_size"}
    assert (base["epochs"], base["lr"]) == (2, 0.1)
    assert wide.model_params == {"arch": "mlp", "kwargs": {"hidden": [32]}}
    assert groups[("mlp", "bs64")].model_params == {"arch": "mlp", "kwargs": {"hidden": [64, 32]}}
    assert list(wide.train) == sorted(wide.train)  # canonical: key order never triggers a rerun
    # lenet has no prune layer: no keep-top-s evaluation, with the reason
    assert groups[("mlp", "bs64")].analyses == ("heavy_tail", "universality", "prune")
    assert groups[("lenet", "bs64")].analyses == ("heavy_tail", "universality")
    assert plan.prune_reason(config, "tiny", "lenet") == "no keep-top-s evaluation: models.lenet.prune_layer is null"
    # the random controls of the Ave_w correlation: the prune layer of the runs that correlate, nothing else
    assert plan.control_layer(config, "tiny", "mlp") == "fc2" and plan.control_layer(config, "tiny", "lenet") is None
    assert wide.runs == [Run("tiny", "syn", "mlp", "bs128", 3), Run("tiny", "syn", "mlp", "bs128", 5)]


def test_external_runs_and_their_analyses():
    config = external_config()
    groups = {g.model: g for g in plan.run_groups(config)}
    assert plan.runs(config) == [Run("given", "syn", "ckpt", "given", 0), Run("given", "none", "vision", "given", 0),
                                 Run("given", "none", "llm", "weights", 0)]
    assert groups["llm"].source == plan.WEIGHTS and groups["ckpt"].source == plan.GIVEN
    assert groups["ckpt"].train is None and groups["ckpt"].model_params is None
    assert groups["ckpt"].analyses == plan.ANALYSES
    assert groups["vision"].analyses == groups["llm"].analyses == ("heavy_tail", "universality")
    assert "checkpoint" in plan.prune_reason(config, "given", "llm")
    assert plan.pruned_runs(config) == [Run("given", "syn", "ckpt", "given", 0)]
    assert plan.control_layer(config, "given", "ckpt") == "fc2" and plan.control_layer(config, "given", "llm") is None
    assert plan.vector_studies(config) == ["given"] and plan.spectra_only_studies(config) == []
    assert plan.porter_thomas_window(config, "given") == config["analysis"]["universality"]["window"]


def test_studies_without_analyses_decompose_without_vectors():
    config = trained_config(analyses=[])
    assert plan.vector_studies(config) == [] and plan.spectra_only_studies(config) == ["tiny"]
    assert plan.pruned_runs(config) == []
    assert plan.prune_reason(config, "tiny", "lenet") is None  # not asked for: nothing to explain
    assert plan.control_layer(config, "tiny", "mlp") is None  # no correlation: no controls
    assert plan.porter_thomas_window(config, "tiny") is None


def test_figure_runs_are_the_first_seed_of_each_group():
    config = trained_config()
    assert plan.figure_runs(config) == [g.runs[0] for g in plan.run_groups(config)]
    assert {run.seed for run in plan.figure_runs(config)} == {3}


# ---------------------------------------------------------------- the table registry
def test_every_table_names_its_rule_inputs_and_condition():
    assert set(plan.TABLES) == {"table2", "training", "heavy_tail", "universality", "correlation", "lowrank",
                                "compare_{key}", "spike_counts", "dynamics", "diff"}
    for table in plan.TABLES.values():
        assert table.rule in ("aggregate_table", "aggregate_spike_counts", "aggregate_dynamics") and table.inputs
        assert table.needs in ("all", "trained", "compare", "spike_count", "dynamics", "diff", *plan.ANALYSES)
    assert plan.TABLES["spike_counts"].file_names() == ("spike_counts", "spike_growth")
    assert plan.TABLES["compare_{key}"].file_names("lr") == ("compare_lr",)


def test_study_tables_follow_the_study():
    assert plan.study_tables(trained_config(), "tiny") == ["table2", "training", "heavy_tail", "universality",
                                                           "correlation", "lowrank"]
    assert plan.study_tables(trained_config(analyses=["universality"], compare="batch_size"), "tiny") == [
        "table2", "training", "universality", "compare_batch_size"]
    # a trained study without a model to prune has no keep-top-s tables at all
    assert "correlation" not in plan.study_tables(trained_config(models=["lenet"]), "tiny")
    # external studies have no training table, and keep-top-s tables even without a pruned run (reason rows)
    config = external_config()
    del config["external"]["given"]["ckpt"]
    assert plan.study_tables(config, "given") == ["table2", "heavy_tail", "universality", "correlation", "lowrank"]


def test_table_inputs_and_reason_rows():
    config = trained_config()
    inputs = plan.table_inputs(config, "tiny", "correlation")
    assert list(inputs) == ["correlation"]
    assert inputs["correlation"] == [f"results/tiny/syn/mlp/{v}/seed{s}/correlation.parquet"
                                     for v in ("bs64", "bs128") for s in (3, 5)]  # mlp only: lenet is not pruned
    rows = plan.table_reason_rows(config, "tiny", "lowrank")
    assert [(r["model"], r["variant"], r["seed"]) for r in rows] == [("lenet", v, s) for v in ("bs64", "bs128")
                                                                     for s in (3, 5)]
    assert list(rows[0]) == ["study", "dataset", "model", "variant", "seed", "reason"]
    assert plan.table_reason_rows(config, "tiny", "table2") == []
    assert len(plan.table_inputs(config, "tiny", "table2")["mp_fit"]) == 8
    assert list(plan.table_inputs(config, "tiny", "compare_batch_size")) == ["mp_fit", "training"]
    assert list(plan.table_inputs(config, "tiny", "spike_counts")) == ["mp_fit", "training"]
    with pytest.raises(ValueError, match="unknown study table 'nosuch'"):
        plan.table_inputs(config, "tiny", "nosuch")


def test_table_pattern_matches_exactly_the_tables_of_rule_aggregate_table():
    config = trained_config(compare="batch_size")
    pattern = re.compile(plan.table_pattern(config))
    for name in plan.study_tables(config, "tiny"):
        assert pattern.fullmatch(name), name
    for name in ("spike_counts", "spike_growth", "compare_lr", "table", "table2x"):
        assert not pattern.fullmatch(name), name


# ---------------------------------------------------------------- targets
def test_targets_of_a_trained_config():
    config = trained_config(compare="batch_size")
    targets = plan.final_targets(config)
    assert len(targets) == len(set(targets))
    tables = [t for t in targets if t.startswith("results/tables/")]
    assert tables == [f"results/tables/tiny/{name}.parquet" for name in
                      ("table2", "training", "heavy_tail", "universality", "correlation", "lowrank",
                       "compare_batch_size")]
    figures = [t for t in targets if t.startswith("results/figures/")]
    first = [f"results/figures/tiny/syn/{m}/{v}/seed3" for m in ("mlp", "lenet") for v in ("bs64", "bs128")]
    assert sorted(figures) == sorted([f"{d}/spectrum.png" for d in first] + [f"{d}/universality.png" for d in first]
                                     + [f"{d}/avew_accuracy.png" for d in first if "/mlp/" in d]
                                     + ["results/figures/tiny/compare_batch_size.png"])
    assert targets[-1] == "results/summary.md"
    assert plan.summary_tables(config) == tables


def test_targets_of_an_external_config():
    targets = plan.final_targets(external_config())
    assert "results/tables/given/training.parquet" not in targets
    assert "results/figures/given/syn/ckpt/given/seed0/avew_accuracy.png" in targets
    assert "results/figures/given/none/llm/weights/seed0/avew_accuracy.png" not in targets
    assert "results/figures/given/none/llm/weights/seed0/universality.png" in targets


def test_targets_of_a_sweep_only_config():
    config = validated({"sweeps": SWEEPS})
    assert plan.runs(config) == [] and plan.run_groups(config) == []
    assert plan.final_targets(config) == [
        "results/tables/sweeps/outlier_error.parquet", "results/tables/sweeps/peche.parquet",
        "results/figures/sweeps/wigner_error.png", "results/tables/sweeps/bbp_table.parquet", "results/summary.md"]
    assert plan.summary_tables(config) == [
        "results/tables/sweeps/outlier_error.parquet", "results/tables/sweeps/peche.parquet",
        "results/tables/sweeps/bbp_table.parquet"]
    assert plan.job_counts(config) == dict(all=1, compute_bbp_table=1, simulate_wigner_outliers=1,
                                           summarise_wigner_outliers=1, write_summary=1)
    assert plan.table_pattern(config) == "(?!)"


def test_spike_count_study_has_both_tables_and_the_figure():
    config = validated({
        "datasets": {"syn": {"source": "synthetic"}},
        "models": {"spike_mlp": {"arch": "spike_mlp"}},
        "studies": {"spikes": {"datasets": ["syn"], "models": ["spike_mlp"], "seeds": [0],
                               "train": {"epochs": 1, "batch_size": 64, "lr": 0.1}, "analyses": [],
                               "variants": {"N40": {"model": {"width": 40}}, "N60": {"model": {"width": 60}}},
                               "sweep": "spike_count"}},
    })
    targets = plan.final_targets(config)
    for name in ("spike_counts.parquet", "spike_growth.parquet"):
        assert f"results/tables/spikes/{name}" in targets
    assert "results/figures/spikes/spike_counts.png" in targets
    assert plan.variant_widths(config, "spikes") == {"N40": 40, "N60": 60}
    assert plan.job_counts(config)["aggregate_spike_counts"] == 1


# ---------------------------------------------------------------- jobs
def test_job_counts_of_the_default_config():
    config = validated(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    # the counts `snakemake -n` gives (tests/workflow/test_workflow.py explains each)
    assert plan.job_counts(config) == dict(
        prepare_dataset=2, train_model=18, extract_spectra=10, extract_spectra_and_vectors=8, fit_mp=18,
        fit_heavy_tail=8, measure_universality=8, evaluate_pruning=8, correlate=8, plot_spectrum=9,
        plot_universality=4, plot_avew_accuracy=4, aggregate_table=11, aggregate_spike_counts=1, plot_comparison=1,
        plot_spike_counts=1, write_summary=1, simulate_wigner_outliers=1, summarise_wigner_outliers=1,
        compute_bbp_table=1, all=1)


def test_job_counts_of_external_runs_with_a_weights_file_split_in_parts():
    config = external_config()
    counts = plan.job_counts(config, layout={("given", "llm"): [["a", "b"], ["c"], ["d"]]})
    assert counts["extract_weights_part"] == 3 and counts["gather_spectra"] == 1
    assert counts["import_model"] == 2 and counts["extract_spectra_and_vectors"] == 2
    assert counts["evaluate_pruning"] == counts["correlate"] == counts["plot_avew_accuracy"] == 1
    assert counts["prepare_dataset"] == 1  # the checkpoint is pruned on syn; nothing is trained
    assert counts["aggregate_table"] == 5 and "train_model" not in counts


def test_batched_training_has_one_rule_per_seed_list():
    config = trained_config()
    config["studies"]["other"] = copy.deepcopy(config["studies"]["tiny"]) | {"seeds": [0]}
    config["training"]["batched"] = True
    rules = plan.batched_training_rules(config)
    assert rules == [("train_models_batched", (0,), ["other"]), ("train_models_batched_2", (3, 5), ["tiny"])]
    counts = plan.job_counts(config)
    assert counts["train_models_batched"] == 4 and counts["train_models_batched_2"] == 4  # one job per run group
    assert "train_model" not in counts


# ---------------------------------------------------------------- parameters and constraints
def test_params_are_canonical_plain_data():
    config = trained_config()
    assert plan.canonical({"b": [{"z": 1, "a": 2}], "a": 1}) == {"a": 1, "b": [{"a": 2, "z": 1}]}
    assert list(plan.canonical({"b": 1, "a": 2})) == ["a", "b"]
    assert plan.config_value(config, "analysis", "heavy_tail") == {"n_bootstrap": 50, "seed": 0}
    assert plan.dataset_params(config, "syn")["name"] == "syn"
    assert plan.train_runtime(config, "tiny", "bs64", attempt=2) == (10 + 2 * 2) * 2
    assert plan.train_mem_mb(config, "syn", attempt=1) == 2000 and plan.train_mem_mb(config, "syn", 2) == 4000
    assert plan.prune_layer(config, "tiny", "mlp") == "fc2" and plan.comparison_layer(config, "tiny") is None


def test_the_comparison_layer_is_a_key_defaulting_to_the_papers_fc1():
    """Paper 000 Fig. 3 shows FC_1, whatever layer the keep-top-s curve uses (the prune layer is fc2 here)."""
    assert plan.comparison_layer(trained_config(compare="batch_size"), "tiny") == "fc1"
    config = trained_config(compare="batch_size", compare_layer="fc2")
    assert plan.comparison_layer(config, "tiny") == "fc2"
    assert plan.table_layer(config, "tiny", "compare_batch_size") == "fc2"
    assert plan.table_layer(config, "tiny", "table2") is None


# ---------------------------------------------------------------- models and data of your own
FACTORY_SOURCE = """
from torch import nn


def build(input_shape, num_classes, width=16):
    c, h, w = input_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, width), nn.ReLU(), nn.Linear(width, num_classes))
"""


@pytest.fixture
def in_parent(tmp_path, monkeypatch):
    """Work in the parent of ``tmp_path``, so that paths of a config in ``tmp_path`` resolve to ``<name>/...``."""
    monkeypatch.chdir(tmp_path.parent)
    return tmp_path


def own_config(folder, **top) -> dict:
    """Two factory models in two files and a built-in MLP, on an npz data set, paths relative to ``folder``
    (the working directory is its parent: :func:`in_parent`)."""
    for name in ("net_a", "net_b"):
        (folder / f"{name}.py").write_text(FACTORY_SOURCE)
    config = validated({
        "datasets": {"mine": {"source": "npz", "path": "data/mine.npz"}, "syn": {"source": "synthetic"}},
        "models": {"a": {"factory": "net_a.py:build", "kwargs": {"width": 8}, "prune_layer": "1"},
                   "b": {"factory": "net_b.py:build", "init": "glorot"},
                   "mlp": {"arch": "mlp", "kwargs": {"hidden": [16]}}},
        "studies": {"own": {"datasets": ["mine", "syn"], "models": ["a", "b", "mlp"], "seeds": [0],
                            "train": {"epochs": 1},
                            "variants": {"base": {}, "wide": {"model": {"width": 32}}}}},
        **top,
    })
    return resolve_paths(config, folder, workdir=folder.parent)


def test_factory_model_params_hold_the_reference_kwargs_init_and_the_files_fingerprint(in_parent):
    tmp_path = in_parent
    config = own_config(tmp_path)
    params = plan.model_params(config, "own", "a", "wide")
    assert params["arch"] == "factory"
    assert params["kwargs"]["factory"] == f"{tmp_path.name}/net_a.py:build"  # relative to the working directory
    assert params["kwargs"]["kwargs"] == {"width": 32} and params["kwargs"]["init"] == "own"
    assert params["kwargs"]["code"] == plan.factory_code(config, "a") and len(params["kwargs"]["code"]) == 16
    assert plan.model_params(config, "own", "b", "base")["kwargs"]["init"] == "glorot"
    # a built-in model's params are what they always were (no rerun of existing studies)
    assert plan.model_params(config, "own", "mlp", "base") == {"arch": "mlp", "kwargs": {"hidden": [16]}}
    assert set(plan.factory_codes(config)) == {"a", "b"}
    off = own_config(tmp_path, code_fingerprint=False)
    assert plan.model_params(off, "own", "a", "base")["kwargs"]["code"] == "off"


def test_editing_a_factory_file_changes_only_its_models_params(in_parent):
    tmp_path = in_parent
    config = own_config(tmp_path)
    groups = plan.run_groups(config)
    before = {(g.model, g.variant): g.model_params for g in groups}
    path = tmp_path / "net_a.py"
    path.write_text(path.read_text() + "\n# a comment and a docstring change nothing\n")
    assert {(g.model, g.variant): g.model_params for g in plan.run_groups(config)} == before
    path.write_text(path.read_text().replace("width=16", "width=17"))
    after = {(g.model, g.variant): g.model_params for g in plan.run_groups(config)}
    changed = {key[0] for key in before if before[key] != after[key]}
    assert changed == {"a"}  # model b (another file) and the built-in mlp keep their params


def test_a_missing_or_broken_factory_file_names_the_key_and_the_path(in_parent):
    tmp_path = in_parent
    from rmtweights.factory import FactoryError

    config = own_config(tmp_path)
    (tmp_path / "net_b.py").unlink()
    with pytest.raises(FactoryError, match=r"models\.b\.factory .*net_b\.py"):
        plan.factory_codes(config)
    (tmp_path / "net_b.py").write_text("def build(:\n")
    with pytest.raises(FactoryError, match=r"models\.b\.factory"):
        plan.factory_codes(config)


def test_dataset_params_of_your_own_data_and_their_files(in_parent):
    tmp_path = in_parent
    config = own_config(tmp_path)
    params = plan.dataset_params(config, "mine")
    assert params["source"] == "npz" and params["path"] == f"{tmp_path.name}/data/mine.npz"
    assert params["classes"] is None
    assert plan.dataset_files(config, "mine") == [params["path"]] and plan.dataset_files(config, "syn") == []
    # a built-in source's params are unchanged by the new keys (no rerun of existing studies)
    assert set(plan.dataset_params(config, "syn")) == {"name", "source", "synthetic", "data_dir", "download",
                                                       "normalize"}
    from rmtweights.data import SOURCE_OPTIONS

    for source, options in plan.DATASET_OPTIONS.items():
        assert tuple(options) == SOURCE_OPTIONS[source]  # what the plan passes is what the loader reads


def test_wildcard_constraints_match_the_config_names_only():
    config = trained_config()
    constraints = {key: re.compile(value) for key, value in plan.wildcard_constraints(config).items()}
    assert constraints["study"].fullmatch("tiny") and not constraints["study"].fullmatch("tinyx")
    assert constraints["variant"].fullmatch("bs128") and constraints["variant"].fullmatch(plan.GIVEN)
    assert constraints["dataset"].fullmatch(plan.NO_DATASET) and not constraints["model"].fullmatch("mlp|lenet")
    assert constraints["seed"].fullmatch("12") and not constraints["seed"].fullmatch("1a")
    assert not re.fullmatch(plan.alternatives([]), "") and plan.alternatives(["b", "a", "a"]) == "a|b"


def test_run_dir_holds_every_run_key():
    run = Run("s", "d", "m", "v", 7)
    assert plan.run_files(plan.RUN_DIR, [run]) == ["results/s/d/m/v/seed7"]
    assert set(re.findall(r"{(\w+)}", plan.RUN_PATH)) == set(Run._fields)


# ---------------------------------------------------------------- dynamics: snapshots, series, differences
def test_snapshot_epochs_are_no_part_of_the_training_recipe():
    config = trained_config(train={"epochs": 5, "lr": 0.1, "snapshot_epochs": [4, 0, 2]})
    assert plan.snapshot_epochs(config, "tiny", "bs64") == [0, 2, 4]
    assert "snapshot_epochs" not in plan.train_recipe(config, "tiny", "bs64")  # never retrains
    assert plan.snapshot_recipe(config, "tiny", "bs64") == {"lr": 0.1}  # extending keeps the snapshots
    every = trained_config(train={"epochs": 5, "snapshot_epochs": {"every": 2}})
    assert plan.snapshot_epochs(every, "tiny", "bs128") == [0, 2, 4, 5]  # and the last epoch
    assert plan.snapshot_epochs(trained_config(), "tiny", "bs64") == []


def test_jobs_and_targets_of_snapshot_epochs():
    plain = trained_config()
    config = trained_config(train={"epochs": 2, "snapshot_epochs": [0, 1, 2]})
    counts, before = plan.job_counts(config), plan.job_counts(plain)
    # 2 models x 2 variants x 2 seeds = 8 runs, 3 epochs each; one settings record and figure per group
    extra = dict(take_snapshot=24, analyze_snapshot=24, record_snapshot_settings=4, gather_dynamics=8,
                 plot_dynamics=4, aggregate_dynamics=1)
    assert {rule: count for rule, count in counts.items() if rule not in before} == extra
    assert {rule: counts[rule] for rule in before} == before  # nothing else changes
    targets = plan.final_targets(config)
    assert "results/tables/tiny/dynamics.parquet" in targets
    assert "results/figures/tiny/syn/mlp/bs64/dynamics.png" in targets
    files = plan.dynamics_files(config, "tiny", "syn", "mlp", "bs64", 3)
    assert files["axis"] == "epoch" and files["tables"][1] == "results/tiny/syn/mlp/bs64/seed3/snapshots/epoch1.parquet"
    assert plan.table_inputs(config, "tiny", "dynamics")["dynamics"][0] == "results/tiny/syn/mlp/bs64/seed3/dynamics.parquet"


def test_a_checkpoint_series_and_a_difference(tmp_path):
    for step in (10, 200, 3000):
        (tmp_path / f"step{step}").mkdir()
    config = validated({"external": {
        "run": {"series": {"weights": str(tmp_path / "step*")},
                "listed": {"weights": [str(tmp_path / "step200"), str(tmp_path / "step10")], "steps": [2, 1]}},
        "ft": {"tuned": {"weights": "tuned.safetensors", "base": "base.safetensors"}}}})
    assert [step for step, _ in plan.series_checkpoints(config, "run", "series")] == [10, 200, 3000]  # from names
    assert plan.series_checkpoints(config, "run", "listed") == [(1, str(tmp_path / "step10")),
                                                                (2, str(tmp_path / "step200"))]
    assert plan.series_checkpoint(config, "run", "series", 200) == str(tmp_path / "step200")
    assert plan.runs(config, "run") == []  # a series is analysed for its dynamics only
    assert plan.study_tables(config, "run") == ["dynamics"]
    assert plan.study_tables(config, "ft") == ["table2", "heavy_tail", "universality", "correlation", "lowrank", "diff"]
    assert plan.diff_runs(config) == [Run("ft", "none", "tuned", "weights", 0)]
    assert plan.base_weights(config, "ft", "tuned") == "base.safetensors"
    counts = plan.job_counts(config, layout={("ft", "tuned"): [["a"]]})
    assert (counts["analyze_checkpoint"], counts["gather_dynamics"], counts["plot_dynamics"]) == (5, 2, 2)
    assert counts["aggregate_dynamics"] == 1 and counts["diff_weights"] == 1
    assert "take_snapshot" not in counts and "results/figures/run/none/series/series/dynamics.png" in \
        plan.final_targets(config)
    constraints = plan.wildcard_constraints(config)
    assert re.fullmatch(constraints["variant"], plan.SERIES) and re.fullmatch(constraints["step"], "3000")


@pytest.mark.parametrize("spec, needle", [
    ({"weights": "nothing/step*"}, "matches no file"),
    ({"weights": "SERIES/ckpt-*"}, "no number in the name"),
    ({"weights": "SERIES/step*", "steps": [1, 2]}, "2 steps for 3 checkpoints"),
    ({"weights": "SERIES/step*", "steps": [1, 1, 2]}, "repeat"),
])
def test_a_series_that_cannot_be_read_names_its_key(tmp_path, spec, needle):
    for name in ("step1", "step2", "step3", "ckpt-a"):
        (tmp_path / name).mkdir()
    spec = {key: value.replace("SERIES", str(tmp_path)) if isinstance(value, str) else value
            for key, value in spec.items()}
    config = validated({"external": {"run": {"m": spec}}})
    with pytest.raises(ValueError, match="config error at external.run.m") as err:
        plan.series_checkpoints(config, "run", "m")
    assert needle in str(err.value)
