"""The Snakemake workflow: lint, dry runs with job counts, a tiny end-to-end run, exact reruns, models given
as weights files, and bad configs. Snakemake runs as a subprocess from the environment's own binary.

Nothing here depends on the state of the checkout: every run and dry run works in a temporary folder
(``--directory``), with an explicit ``--configfile``; tests that edit library code edit a copy of the
workflow in a temporary folder, never the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from rmtweights import plan
from rmtweights.config import validate_config

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TINY = REPO / "tests" / "config" / "tiny.yaml"
DEFAULT = REPO / "config" / "config.yaml"
PAPER = REPO / "config" / "paper.yaml"

pytestmark = pytest.mark.workflow


def snakemake(*args, snakefile=REPO / "Snakefile", cwd=None, timeout=900, check=True):
    """Run snakemake; return the completed process (stdout and stderr merged)."""
    cmd = [str(SNAKEMAKE), "-s", str(snakefile), *map(str, args)]
    proc = subprocess.run(cmd, cwd=cwd or Path(snakefile).parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    return proc


def job_counts(output: str) -> dict[str, int]:
    """Parse Snakemake's 'Job stats' table of a dry run into {rule: count}."""
    counts = {}
    block = output.split("Job stats:", 1)[1] if "Job stats:" in output else ""
    for line in block.splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
        elif counts and not line.strip():
            break
    return counts


def dry_counts(config: Path, workdir: Path, *extra, snakefile=REPO / "Snakefile") -> dict[str, int]:
    return job_counts(snakemake("-n", "--cores", "2", "--configfile", config, "--replace-workflow-config",
                                "--directory", workdir, *extra, snakefile=snakefile).stdout)


def validated(path: Path) -> dict:
    """A config file as the Snakefile sees it (schema defaults filled in)."""
    config = yaml.safe_load(path.read_text())
    validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    return config


def write_config(tmp_path: Path, config: dict, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def test_lint_reports_nothing(tmp_path):
    proc = snakemake("--lint", "--configfile", DEFAULT, "--directory", tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "Lints for" not in proc.stdout, proc.stdout[-4000:]


def test_dry_run_default_config_job_counts(tmp_path):
    # config/config.yaml: demo 2 datasets x 2 models x 1 variant x 2 seeds = 8 runs with every analysis;
    # batch 1x1x2x2 = 4 and spikes 1x1x3x2 = 6 with `analyses: []` (spectra and MP fits only): 18 runs.
    # Demo decomposes with singular vectors (universality): 8 extract_spectra_and_vectors, 10 without.
    # First-seed figure runs: 4 + 2 + 3 = 9 spectra, 4 universality and Ave_w figures (demo).
    # Tables: demo 6, batch 2 + compare_batch_size, spikes 2; sweeps: wigner (2 rules) + bbp table.
    expected = dict(prepare_dataset=2, train_model=18, extract_spectra=10, extract_spectra_and_vectors=8, fit_mp=18,
                    fit_heavy_tail=8, measure_universality=8, evaluate_pruning=8, correlate=8,
                    plot_spectrum=9, plot_universality=4, plot_avew_accuracy=4, aggregate_table=11,
                    aggregate_spike_counts=1, plot_comparison=1, plot_spike_counts=1, write_summary=1,
                    simulate_wigner_outliers=1, summarise_wigner_outliers=1, compute_bbp_table=1, all=1)
    assert dry_counts(DEFAULT, tmp_path) == expected
    assert dry_counts(DEFAULT, tmp_path) == expected  # twice: nothing was written by a dry run
    assert plan.job_counts(validated(DEFAULT)) == expected  # the plan counts the jobs Snakemake schedules


def test_dry_run_paper_config_counts(tmp_path):
    counts = dry_counts(PAPER, tmp_path)
    assert plan.job_counts(validated(PAPER)) == counts
    # paper.yaml: paper000 2x2x1x10 = 40, paper000_alexnet 2x1x1x10 = 20, paper000_batch 1x1x3x10 = 30,
    # paper001 (mlp1024) 10, paper001_minialexnet 10, paper001_regimes (mlp512) 1x1x3x10 = 30, spikes 1x1x15x10 = 150:
    # 290 runs, trained seed-batched (one job per seed group: 4 + 2 + 3 + 1 + 1 + 3 + 15 = 29), every seed's
    # checkpoints outputs of that job. Prune: paper000 and paper000_alexnet only (paper001 does not prune, the batch
    # and spike studies run spectra and fits only): 40 + 20 = 60. Data sets: mnist, cifar10, cifar10_std, fashion_mnist.
    assert counts["train_models_batched"] == 29
    assert "unpack_batched_seed" not in counts and "train_model" not in counts
    assert counts["fit_mp"] == 290
    assert counts["extract_spectra"] + counts["extract_spectra_and_vectors"] == 290
    assert counts["evaluate_pruning"] == 60
    assert counts["prepare_dataset"] == 4


@pytest.mark.parametrize("analyses", [[], ["universality"], ["heavy_tail", "prune"]])
def test_study_analyses_choose_the_optional_stages(tmp_path, analyses):
    config = yaml.safe_load(TINY.read_text())
    del config["studies"]["spikes"]
    config["studies"]["tiny"]["analyses"] = analyses
    counts = dry_counts(write_config(tmp_path, config), tmp_path)
    runs = 2 * 2 * 2  # tiny: mlp, lenet x bs64, bs128 x 2 seeds, both with a prune layer
    assert counts["train_model"] == counts["fit_mp"] == runs
    vectors = "universality" in analyses
    assert counts.get("extract_spectra_and_vectors", 0) == (runs if vectors else 0)
    assert counts.get("extract_spectra", 0) == (0 if vectors else runs)
    assert counts.get("fit_heavy_tail", 0) == (runs if "heavy_tail" in analyses else 0)
    assert counts.get("measure_universality", 0) == (runs if vectors else 0)
    for rule in ("evaluate_pruning", "correlate"):
        assert counts.get(rule, 0) == (runs if "prune" in analyses else 0), rule
    assert counts.get("plot_universality", 0) == (4 if vectors else 0)
    # table2, training, compare_batch_size, plus one table per optional stage (prune: correlation, lowrank)
    assert counts["aggregate_table"] == 3 + len(analyses) + ("prune" in analyses)


# ------------------------------------------------------------------ bad configs
BAD_CONFIGS = [
    ({"unknown_key": 1}, "config error at (top level): unknown key 'unknown_key'"),
    ({"analysis": {"beta": "small"}}, "config error at analysis.beta: 'small' is not of type 'number'"),
    ({"studies": {"tiny": {"train": {"epochs": -1}}}},
     "config error at studies.tiny.train.epochs: -1 is less than the minimum of 1"),
    ({"analysis": {"prune": {"k_fraction": 1.5}}}, "analysis.prune.k_fraction"),
    ({"models": {"mlp": {"arch": "resnet"}}}, "models.mlp.arch: 'resnet' is not one of"),
    ({"studies": {"tiny": {"models": ["nosuchmodel"]}}}, "studies.tiny.models: ['nosuchmodel'] not defined"),
    ({"analysis": {"reshape": "slices"}}, "config error at analysis.reshape: `slices` pools"),
]


@pytest.mark.parametrize("override,needle", BAD_CONFIGS, ids=[n.split(":")[0][16:] or n for _, n in BAD_CONFIGS])
def test_bad_config_stops_before_any_job_in_a_few_lines_naming_the_key(tmp_path, override, needle):
    config = yaml.safe_load(TINY.read_text())
    merge(config, override)
    proc = snakemake("-n", "--cores", "1", "--configfile", write_config(tmp_path, config), "--replace-workflow-config",
                     "--directory", tmp_path, check=False)
    assert proc.returncode != 0
    assert needle in proc.stdout, proc.stdout[-3000:]
    assert "Job stats" not in proc.stdout
    # a short message, not the schema: no schema vocabulary, a handful of lines
    assert "description" not in proc.stdout and "additionalProperties" not in proc.stdout
    assert len(proc.stdout.strip().splitlines()) <= 12, proc.stdout


@pytest.mark.parametrize("sweeps", [{"wigner": None, "bbp_table": None}, None], ids=["null", "absent"])
def test_sweeps_can_be_switched_off(tmp_path, sweeps):
    config = yaml.safe_load(TINY.read_text())
    if sweeps is None:
        del config["sweeps"]
    else:
        config["sweeps"] = sweeps
    counts = dry_counts(write_config(tmp_path, config), tmp_path)
    assert counts["fit_mp"] > 0
    assert not {"simulate_wigner_outliers", "compute_bbp_table"} & set(counts)


def merge(base: dict, override: dict) -> None:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


# ------------------------------------------------------------------ tiny end-to-end run (in a copy of the workflow)
def copy_workflow(target: Path) -> Path:
    """The workflow's code (Snakefile, workflow/, scripts/, src/, envs/) copied to ``target``; returns its Snakefile."""
    for name in ("Snakefile",):
        shutil.copy2(REPO / name, target / name)
    for name in ("workflow", "scripts", "src", "config", "envs"):
        shutil.copytree(REPO / name, target / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target / "Snakefile"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny study run once in a copy of the workflow (synthetic data, 1 epoch, 2 seeds)."""
    root = tmp_path_factory.mktemp("tiny")
    snakefile = copy_workflow(root)
    snakemake("--cores", "2", "--configfile", TINY, "--replace-workflow-config", "--directory", root,
              snakefile=snakefile, timeout=1200)
    return root


def tiny_dry(root: Path, config: Path = TINY) -> dict[str, int]:
    return dry_counts(config, root, snakefile=root / "Snakefile")


@pytest.mark.slow
def test_tiny_run_produces_every_table_and_figure(tiny_run):
    tables = tiny_run / "results" / "tables"
    for study, names in {"tiny": ["table2", "training", "heavy_tail", "universality", "correlation", "lowrank",
                                  "compare_batch_size"],
                         "spikes": ["table2", "training", "spike_counts", "spike_growth"],
                         "sweeps": ["outlier_error", "peche", "bbp_table"]}.items():
        for name in names:
            for suffix in (".parquet", ".csv", ".md"):  # every promised format
                assert (tables / study / f"{name}{suffix}").is_file(), (study, name, suffix)
    # spikes has `analyses: []`: spectra and fits only
    assert not (tables / "spikes" / "heavy_tail.parquet").exists()
    assert not list((tiny_run / "results" / "spikes").rglob("universality.parquet"))
    figures = list((tiny_run / "results" / "figures").rglob("*.png"))
    assert {"spectrum.png", "avew_accuracy.png", "universality.png", "compare_batch_size.png",
            "spike_counts.png", "wigner_error.png"} <= {p.name for p in figures}
    for png in figures:  # the overview's PDF is the first page of spectrum.pdf
        assert png.with_suffix(".pdf").is_file() or png.name == "spectrum_overview.png", png
    summary = (tiny_run / "results" / "summary.md").read_text()
    assert "arXiv:2512.12911" in summary and "nan" not in summary.lower().replace("nanoseconds", "")


@pytest.mark.slow
def test_every_written_table_is_read_or_a_final_output(tiny_run):
    """One pass per layer: no per-run table is written that nothing reads and the docs do not promise."""
    run = tiny_run / "results" / "tiny" / "synthetic" / "mlp" / "bs64" / "seed0"
    written = {p.name for p in run.glob("*.parquet")}
    final = {"spikes.parquet"}  # per-spike theta-hat and phi-hat: a documented final output
    read = {"training.parquet", "spectra.parquet", "porter_thomas.parquet", "mp_fit.parquet", "avew_curve.parquet",
            "heavy_tail.parquet", "universality.parquet", "spacings.parquet", "number_variance.parquet",
            "prune.parquet", "lowrank.parquet", "correlation.parquet"}
    assert written == read | final
    assert "metric.parquet" not in written


@pytest.mark.slow
def test_tiny_run_tables_have_documented_columns(tiny_run):
    run = tiny_run / "results" / "tiny" / "synthetic" / "mlp" / "bs64" / "seed0"
    keys = ["study", "dataset", "model", "variant", "seed"]
    expected = {
        "spectra": keys + ["state", "layer", "kind", "reshape", "shape", "n", "m", "q", "index", "sv", "gamma",
                           "status", "reason"],
        "mp_fit": keys + ["state", "layer", "method", "n", "m", "q", "min_nm", "sigma", "gamma_plus", "s_hat", "ave_w",
                          "gd_threshold", "s_hat_gd", "fraction_mp", "nu_max", "status", "reason"],
        "spikes": keys + ["state", "layer", "method", "index", "gamma", "theta_hat", "phi_hat", "gamma_plus"],
        "avew_curve": keys + ["state", "layer", "method", "s", "reading", "gamma_plus", "sigma", "ave_w"],
        "prune": keys + ["layer", "s", "accuracy"],
        "correlation": keys + ["layer", "state", "method", "reading", "pearson_r", "trained_advantage", "status",
                               "reason"],
        "lowrank": keys + ["choice", "accuracy", "params_fraction", "status", "reason"],
        "training": keys + ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"],
        "heavy_tail": keys + ["state", "layer", "status", "verdict"],
        "porter_thomas": keys + ["state", "layer", "rank", "p_value"],
    }
    for stage, columns in expected.items():
        frame = pd.read_parquet(run / f"{stage}.parquet")
        assert set(columns) <= set(frame.columns), (stage, set(columns) - set(frame.columns))
    assert "p_value" not in pd.read_parquet(run / "correlation.parquet")  # not i.i.d. points: no p-value
    fits = pd.read_parquet(run / "mp_fit.parquet")
    assert set(fits.method) == {"bema", "gb", "modified_mp"}
    assert fits[fits.method == "modified_mp"].s_hat.isna().all()  # the modified MP fit gives no threshold
    # The 10-way head is kept with a reason, never dropped silently.
    head = fits[fits.layer == "fc4"]
    assert len(head) and (head.status != "ok").all() and head.reason.str.len().gt(0).all()
    curve = pd.read_parquet(run / "avew_curve.parquet")
    assert set(curve.reading) == {"fixed", "implied"}
    # the Ave_w curve and the keep-top-s curve share one s axis
    prune = pd.read_parquet(run / "prune.parquet")
    assert sorted(prune.s) == sorted(curve[(curve.layer == "fc2") & (curve.method == "bema")
                                           & (curve.reading == "fixed") & (curve.state == "trained")].s)
    # the controls of the Ave_w correlation: the prune layer only, correlated against the same accuracy curve
    spectra = pd.read_parquet(run / "spectra.parquet")
    assert set(spectra[spectra.state.isin(["gaussian", "shuffled"])].layer) == {"fc2"}
    correlation = pd.read_parquet(run / "correlation.parquet")
    assert set(correlation.state) == {"trained", "initial", "gaussian", "shuffled"}
    table2 = pd.read_parquet(tiny_run / "results" / "tables" / "tiny" / "table2.parquet")
    assert {"s_hat_mean", "s_hat_sd", "s_hat_n", "ave_w_mean", "ave_w_n", "n_seeds", "status", "reason"} <= set(table2)
    assert (table2.n_seeds == 2).all()
    lowrank = pd.read_parquet(tiny_run / "results" / "tables" / "tiny" / "lowrank.parquet")
    skipped = lowrank[lowrank.status == "skipped"]
    assert skipped.accuracy_mean.isna().all() and skipped.reason.str.len().gt(0).all()


@pytest.mark.slow
def test_second_dry_run_has_nothing_to_do(tiny_run):
    proc = snakemake("-n", "--cores", "2", "--configfile", TINY, "--replace-workflow-config", "--directory", tiny_run,
                     snakefile=tiny_run / "Snakefile")
    assert "Nothing to be done" in proc.stdout, proc.stdout[-3000:]


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text()
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new))
    return text


NO_OP = "\n    _rerun_probe = None  # a statement: changes the code, not what it computes\n"

PER_RUN = {"extract_spectra", "extract_spectra_and_vectors", "fit_mp", "fit_heavy_tail", "measure_universality",
           "evaluate_pruning", "correlate", "train_model"}


@pytest.mark.slow
@pytest.mark.parametrize("module,anchor,expect_some,expect_none", [
    # a no-op edit of the aggregation of study tables: no per-run job at all
    ("stages/aggregate_table.py", '        return _table2(frames["mp_fit"])', {"aggregate_table"}, PER_RUN),
    # a no-op edit of the BEMA estimator: the fits and what follows, never training or spectra
    ("rmt/estimators.py", "    k_lo = max(1, math.ceil(alpha * m - 1e-9))",
     {"fit_mp", "evaluate_pruning", "correlate", "aggregate_table"},
     {"train_model", "extract_spectra", "extract_spectra_and_vectors", "fit_heavy_tail", "measure_universality"}),
    # an edit of the wigner summary reruns its rule
    ("stages/summarise_wigner_outliers.py", "    per_draw = error_summary(outliers)", {"summarise_wigner_outliers"},
     PER_RUN | {"simulate_wigner_outliers"}),
    # an edit of one figure redraws that figure only
    ("plots/spectrum.py", '    require_columns(spectra, ("layer", "state", "gamma", "q", "n", "m"), "spectra")',
     {"plot_spectrum"}, PER_RUN | {"plot_avew_accuracy", "plot_universality", "plot_comparison", "plot_spike_counts",
                                   "summarise_wigner_outliers", "write_summary", "aggregate_table"}),
])
def test_a_code_edit_reruns_exactly_the_rules_that_run_it(tiny_run, module, anchor, expect_some, expect_none):
    path = tiny_run / "src" / "rmtweights" / module
    original = edit(path, anchor, anchor.replace("\n", NO_OP, 1) if anchor.startswith('    """') else anchor + NO_OP)
    try:
        counts = tiny_dry(tiny_run)
    finally:
        path.write_text(original)
    assert expect_some <= set(counts), counts
    assert not expect_none & set(counts), counts


@pytest.mark.slow
def test_a_comment_or_docstring_edit_reruns_nothing(tiny_run):
    path = tiny_run / "src" / "rmtweights" / "rmt" / "estimators.py"
    original = path.read_text()
    path.write_text(original.replace('"""Estimators', '"""Estimators (edited)', 1) + "\n# a comment\n")
    try:
        proc = snakemake("-n", "--cores", "2", "--configfile", TINY, "--replace-workflow-config",
                         "--directory", tiny_run, snakefile=tiny_run / "Snakefile")
    finally:
        path.write_text(original)
    assert "Nothing to be done" in proc.stdout, proc.stdout[-3000:]


@pytest.mark.slow
def test_changing_bema_alpha_reruns_fits_not_training(tiny_run, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config.setdefault("analysis", {})["bema"] = {"alpha": 0.25}
    counts = tiny_dry(tiny_run, write_config(tmp_path, config))
    assert counts.get("fit_mp", 0) > 0
    assert not {"train_model", "extract_spectra", "extract_spectra_and_vectors", "fit_heavy_tail"} & set(counts)


@pytest.mark.slow
def test_changing_one_studys_epochs_retrains_only_that_study(tiny_run, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["studies"]["spikes"]["train"]["epochs"] = 2
    counts = tiny_dry(tiny_run, write_config(tmp_path, config))
    assert counts.get("train_model") == 4  # spikes: 2 widths x 2 seeds; study tiny untouched


@pytest.mark.slow
def test_external_study_analyses_a_given_checkpoint_without_training(tiny_run, tmp_path):
    """A study of kind external: an rmtweights checkpoint analysed (and pruned on a named dataset)."""
    checkpoint = tiny_run / "results" / "tiny" / "synthetic" / "mlp" / "bs64" / "seed0" / "model" / "final.pt"
    config = yaml.safe_load(TINY.read_text())
    config["external"] = {"given": {"tinymlp": {"checkpoint": str(checkpoint), "dataset": "synthetic",
                                                "prune_layer": "fc2"}}}
    path = write_config(tmp_path, config)
    args = ["--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", tiny_run]
    counts = tiny_dry(tiny_run, path)
    assert counts.get("import_model") == 1 and "train_model" not in counts
    snakemake(*args, snakefile=tiny_run / "Snakefile")
    tables = tiny_run / "results" / "tables" / "given"
    fits = pd.read_parquet(tables / "table2.parquet")
    assert set(fits.model) == {"tinymlp"} and set(fits.variant) == {"given"}
    trained = pd.read_parquet(tiny_run / "results" / "tiny" / "synthetic" / "mlp" / "bs64" / "seed0" / "mp_fit.parquet")
    given = pd.read_parquet(tiny_run / "results" / "given" / "synthetic" / "tinymlp" / "given" / "seed0" / "mp_fit.parquet")
    # Same weights, same analysis: the external run reproduces the trained run's fits.
    key = ["state", "layer", "method"]
    a = trained[trained.state == "trained"].set_index(key)[["sigma", "s_hat"]].sort_index()
    b = given[given.state == "trained"].set_index(key)[["sigma", "s_hat"]].sort_index()
    pd.testing.assert_frame_equal(a, b)
    assert (tables / "lowrank.parquet").is_file()


@pytest.mark.slow
def test_report_builds(tiny_run):
    snakemake("--report", tiny_run / "report.zip", "--cores", "2", "--configfile", TINY, "--replace-workflow-config",
              "--directory", tiny_run, snakefile=tiny_run / "Snakefile")
    assert (tiny_run / "report.zip").stat().st_size > 10_000


# ------------------------------------------------------------------ models given as weights files
def gpt2_like_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A GPT-2-like layout: token and position embeddings, Conv1D (in x out) attention/MLP, norms, a mask buffer."""
    g = torch.Generator().manual_seed(seed)
    d, vocab = 48, 200
    state = {"wte.weight": torch.randn(vocab, d, generator=g), "wpe.weight": torch.randn(64, d, generator=g)}
    for i in range(2):
        state |= {f"h.{i}.ln_1.weight": torch.ones(d), f"h.{i}.ln_1.bias": torch.zeros(d),
                  f"h.{i}.attn.c_attn.weight": torch.randn(d, 3 * d, generator=g) * 0.1,
                  f"h.{i}.attn.c_attn.bias": torch.zeros(3 * d),
                  f"h.{i}.attn.bias": torch.ones(1, 1, 64, 64, dtype=torch.bool),
                  f"h.{i}.mlp.c_fc.weight": torch.randn(d, 4 * d, generator=g) * 0.1,
                  f"h.{i}.mlp.c_proj.weight": (torch.randn(4 * d, d, generator=g) * 0.1).to(torch.float16)}
    return state


@pytest.mark.slow
def test_external_weights_file_without_architecture_end_to_end(tmp_path):
    """A config with only `external: {study: {name: {weights: PATH}}}`: sharded safetensors, layer jobs, tables."""
    from safetensors.torch import save_file

    from rmtweights.api import analyze_model

    state = gpt2_like_state()
    names = list(state)
    folder = tmp_path / "gpt2like"
    folder.mkdir()
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    for shard, keys in shards.items():
        save_file({k: state[k].contiguous() for k in keys}, folder / shard)
    index = {"metadata": {}, "weight_map": {k: shard for shard, keys in shards.items() for k in keys}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    config = {"external": {"given": {"gpt2like": {"weights": str(folder), "layers_per_job": 3}}},
              "analysis": {"heavy_tail": {"n_bootstrap": 5}}}
    path = write_config(tmp_path, config)
    counts = dry_counts(path, tmp_path)
    layers = sum(1 for k, v in state.items() if k.endswith("weight") and v.ndim >= 2)  # 2 embeddings + 2 x 3
    assert counts["extract_weights_part"] == -(-layers // 3) and counts["gather_spectra"] == 1
    assert "train_model" not in counts and "import_model" not in counts
    snakemake("--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", tmp_path)
    table2 = pd.read_parquet(tmp_path / "results" / "tables" / "given" / "table2.parquet")
    analysed = table2[table2.status == "ok"]
    assert analysed.groupby("method").layer.nunique().to_dict() == {"bema": layers, "gb": layers, "modified_mp": layers}
    assert set(table2[table2.layer.isin(["wte", "wpe"])].kind) == {"embedding"}
    run = tmp_path / "results" / "given" / "none" / "gpt2like" / "weights" / "seed0"
    spectra = pd.read_parquet(run / "spectra.parquet")
    considered = set(spectra[spectra.state == "trained"].layer)
    assert len(considered) == len(state)  # every tensor has a row: analysed or skipped with a reason
    skipped = spectra[(spectra.state == "trained") & (spectra.status == "skipped")]
    assert skipped.reason.str.len().gt(0).all() and "h.0.attn.bias" in set(skipped.layer)
    # the second state is a random baseline of every layer (never "initial": there are no initial weights)
    assert set(spectra.state) == {"trained", "baseline"}
    assert set(spectra[spectra.state == "baseline"].layer) == {k[: -len(".weight")] for k, v in state.items()
                                                               if k.endswith("weight") and v.ndim >= 2}
    # an external-only config's summary is a report per model, not a paper verdict
    summary = (tmp_path / "results" / "summary.md").read_text()
    assert summary.startswith("# Model report") and "## `given` / `gpt2like`" in summary
    assert "Verdict" not in summary and "reproduced" not in summary
    assert f"analysed {layers} of {len(state)} tensors and matrices" in summary and "random baseline (shuffled" in summary
    # the one-call API gives the workflow's numbers for the same file
    api = analyze_model(folder, n_bootstrap=5).set_index(["layer", "method"]).sort_index()
    fits = pd.read_parquet(run / "mp_fit.parquet")
    fits = fits[fits.state == "trained"].set_index(["layer", "method"]).sort_index()
    # The job ran on 1 thread, this process on several: BLAS sums in another order, the singular values
    # agree to ~1e-15 relative and the least-squares fits of gb (sigma) move by up to ~1e-9 relative.
    np.testing.assert_allclose(api.sigma.to_numpy(dtype=float), fits.sigma.to_numpy(dtype=float), rtol=1e-7,
                               equal_nan=True)
    assert api.s_hat.astype("Int64").equals(fits.s_hat.astype("Int64"))
    tails = pd.read_parquet(run / "heavy_tail.parquet")
    tails = tails[tails.state == "trained"].set_index("layer")
    one = api.xs("bema", level="method")
    np.testing.assert_allclose(one.alpha_sv.to_numpy(dtype=float),
                               tails.loc[one.index, "alpha_sv"].to_numpy(dtype=float), rtol=1e-12, equal_nan=True)
    lowrank = pd.read_parquet(tmp_path / "results" / "tables" / "given" / "lowrank.parquet")
    assert (lowrank.status == "skipped").all() and lowrank.reason.str.contains("architecture").all()


@pytest.mark.slow
def test_a_bad_weights_file_stops_with_its_name(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    path = write_config(tmp_path, {"external": {"given": {"broken": {"weights": str(bad)}}}})
    proc = snakemake("-n", "--cores", "1", "--configfile", path, "--replace-workflow-config", "--directory", tmp_path,
                     check=False)
    assert proc.returncode != 0 and "model.safetensors" in proc.stdout
    assert not (tmp_path / "results").exists()  # nothing half-written


@pytest.mark.slow
def test_a_relative_weights_path_resolves_against_the_config_folder(tmp_path):
    """`weights: model.safetensors` in configs/study.yaml means configs/model.safetensors, wherever Snakemake
    runs; a missing file stops the dry run with the config key and the resolved path."""
    (tmp_path / "configs").mkdir()
    path = write_config(tmp_path / "configs", {"external": {"given": {"m": {"weights": "model.safetensors"}}}})
    proc = snakemake("-n", "--cores", "1", "--configfile", path, "--replace-workflow-config", "--directory", tmp_path,
                     check=False)
    assert proc.returncode != 0
    assert "external.given.m.weights" in proc.stdout and str(tmp_path / "configs" / "model.safetensors") in proc.stdout


def test_rule_file_paths_exist():
    """Every script:, conda: and caption path in workflow/rules/*.smk resolves against its own file."""
    rules = REPO / "workflow" / "rules"
    pattern = re.compile(r'(?:caption=|^\s+)"(\.\./[^"]+)"', re.M)
    seen = 0
    for smk in rules.glob("*.smk"):
        for rel in pattern.findall(smk.read_text()):
            assert (smk.parent / rel).resolve().is_file(), f"{smk.name}: {rel}"
            seen += 1
    assert seen > 20


def test_no_rule_name_is_collected_by_pytest():
    """Rule (and script) names never start with test_: pytest would collect the scripts."""
    names = re.findall(r"^(?:rule|use rule \w+ as) (\w+)", "\n".join(p.read_text() for p in
                                                                    (REPO / "workflow" / "rules").glob("*.smk")), re.M)
    assert names and not [n for n in names if n.startswith("test")]
    assert not list((REPO / "scripts").glob("test_*.py"))


# ------------------------------------------------------------------ the local profile and crash recovery
@pytest.mark.parametrize("visible,gpu", [("0", 1), ("", 0)])
def test_local_profile_gives_training_a_gpu_only_where_there_is_one(tmp_path, monkeypatch, visible, gpu):
    """profiles/local counts the GPUs: with one, training takes it (one at a time); without, nothing is limited."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    proc = snakemake("-n", "--workflow-profile", "local", "--configfile", TINY, "--replace-workflow-config",
                     "--directory", tmp_path)
    block = proc.stdout.split("rule train_model:", 1)[1].split("\n\n", 1)[0]
    assert re.search(rf"resources: .*\bgpu={gpu}\b", block), block


@pytest.mark.slow
def test_a_run_killed_mid_way_resumes_with_make_run_to_the_same_tables(tiny_run, tmp_path):
    """kill -9 of `make run` and all it started (a power cut), then `make run` again, as README "After a
    crash" says: the stale lock is removed, the incomplete jobs rerun, and every Parquet file equals the
    uninterrupted run's (tiny_run: same config, same cores)."""
    root = tmp_path / "crash"
    root.mkdir()
    copy_workflow(root)
    for name in ("Makefile", "requirements.txt"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "profiles", root / "profiles")
    (root / ".venv").symlink_to(Path(sys.prefix).resolve())  # the environment, as `make env` links it
    # `make run` without its set-up prerequisites (environment, profile link, system data set)
    make_run = ["make", "-o", "env", "-o", "profile", "-o", "data", "run",
                f"SNAKEMAKE_ARGS=--configfile {TINY} --replace-workflow-config --cores 2"]
    first = subprocess.Popen(make_run, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        # mid-way: a run has trained, and jobs are running (Snakemake marks their outputs incomplete)
        while not (list((root / "results").glob("*/*/*/*/seed*/model/final.pt"))
                   and any((root / ".snakemake" / "incomplete").glob("*"))):
            assert first.poll() is None and time.monotonic() < deadline, "the run ended before the kill"
            time.sleep(0.02)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert list((root / ".snakemake" / "locks").glob("*.lock"))  # the lock of the killed run stays
    assert any((root / ".snakemake" / "incomplete").glob("*"))  # jobs were running
    # without the unlock, Snakemake refuses to start (and without rerun-incomplete it stops even earlier,
    # with IncompleteFilesException)
    proc = snakemake("--workflow-profile", "local", "--cores", "2", "--configfile", TINY, "--replace-workflow-config",
                     snakefile=root / "Snakefile", check=False)
    assert proc.returncode != 0 and "LockException" in proc.stdout, proc.stdout[-3000:]
    resumed = subprocess.run(make_run, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=1800)
    assert resumed.returncode == 0, resumed.stdout[-6000:]
    assert "stale lock" in resumed.stdout
    assert not list((root / ".snakemake" / "locks").glob("*.lock"))

    def parquets(base: Path) -> set[Path]:
        # tiny_run also holds the external study of another test (study `given`): not part of this config
        return {p.relative_to(base) for p in (base / "results").rglob("*.parquet") if "given" not in p.parts}

    written = parquets(root)
    assert written == parquets(tiny_run) and len(written) > 50
    for path in sorted(written):
        frame, expected = pd.read_parquet(root / path), pd.read_parquet(tiny_run / path)
        timing = [c for c in expected.columns if c.startswith("seconds")]  # wall time of training epochs
        pd.testing.assert_frame_equal(frame.drop(columns=timing), expected.drop(columns=timing), check_exact=True,
                                      obj=str(path))


# ------------------------------------------------------------------ your own model and data (README example)
EXAMPLE = REPO / "examples" / "own_model"


def copy_example(root: Path) -> Path:
    """The README's example (config, factory file, data script) in a copy of the workflow, its data written
    by its own script as the README says; returns the config's path."""
    target = root / "examples" / "own_model"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("data", "__pycache__"))
    subprocess.run([sys.executable, str(target / "make_data.py")], check=True, capture_output=True)
    return target / "config.yaml"


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """The README's example config, run as it is in a copy of the workflow."""
    root = tmp_path_factory.mktemp("own")
    snakefile = copy_workflow(root)
    config = copy_example(root)
    snakemake("--cores", "2", "--configfile", config, "--replace-workflow-config", "--directory", root,
              snakefile=snakefile, timeout=1200)
    return root


@pytest.mark.slow
def test_the_readme_example_trains_and_analyses_a_factory_model_on_npz_data(own_run):
    assert (EXAMPLE / "config.yaml").read_text() in (REPO / "README.md").read_text()  # the README shows this file
    tables = own_run / "results" / "tables" / "own"
    for name in ("table2", "training", "heavy_tail", "universality", "correlation", "lowrank"):
        for suffix in (".parquet", ".csv", ".md"):
            assert (tables / f"{name}{suffix}").is_file(), (name, suffix)
    figures = own_run / "results" / "figures" / "own" / "mine" / "mynet" / "base" / "seed0"
    assert {p.name for p in figures.glob("*.png")} == {"spectrum.png", "spectrum_overview.png", "universality.png",
                                                       "avew_accuracy.png"}
    # layers named by their module paths, from the state_dict through the tensor rules
    table2 = pd.read_parquet(tables / "table2.parquet")
    assert set(table2.layer) == {"conv", "block1.fc", "block2.fc", "head"}
    ok = table2[(table2.status == "ok") & (table2.method == "bema")].set_index("layer")
    assert set(ok.index) == {"block1.fc", "block2.fc"} and (ok.s_hat_n == 2).all()
    assert ok.loc["block1.fc", "s_hat_mean"] > 0  # the trained 512 x 128 layer has learned spikes
    run = own_run / "results" / "own" / "mine" / "mynet" / "base" / "seed0"
    prune = pd.read_parquet(run / "prune.parquet")
    assert set(prune.layer) == {"block1.fc"} and prune.accuracy.between(0, 1).all()
    correlation = pd.read_parquet(tables / "correlation.parquet")
    assert correlation[(correlation.method == "bema") & (correlation.reading == "implied")].pearson_r_n.iloc[0] == 2
    lowrank = pd.read_parquet(tables / "lowrank.parquet").set_index("choice")
    assert lowrank.loc["bema", "status"] == "ok" and lowrank.loc["bema", "params_fraction_mean"] < 1
    training = pd.read_parquet(tables / "training.parquet")
    assert training.test_acc_mean.iloc[0] > 0.5  # ten classes: far above chance
    assert sorted(p.name for p in (run / "model").iterdir()) == ["final.pt", "init.pt"]  # no last.pt


@pytest.mark.slow
def test_editing_the_factory_file_retrains_that_models_runs_and_nothing_else(own_run, tmp_path):
    """A second study trains a copy of the factory file; editing the example's file reruns the example's two
    runs and what follows, nothing of the other study; a comment or docstring edit reruns nothing."""
    folder = own_run / "examples" / "own_model"
    shutil.copy2(folder / "mynet.py", folder / "othernet.py")
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["models"]["other"] = {"factory": "othernet.py:build", "kwargs": {"width": 32}}
    config["studies"]["other"] = {"datasets": ["mine"], "models": ["other"], "seeds": [0],
                                  "train": {"epochs": 1}, "analyses": []}
    path = write_config(folder, config, name="two_models.yaml")
    args = ["--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", own_run]
    snakemake(*args, snakefile=own_run / "Snakefile")  # trains and analyses study `other`; `own` is up to date
    original = (folder / "mynet.py").read_text()
    try:
        (folder / "mynet.py").write_text(original.replace('"""A dense layer and a ReLU."""', '"""Edited."""')
                                         + "\n# a comment\n")
        proc = snakemake("-n", *args, snakefile=own_run / "Snakefile")
        assert "Nothing to be done" in proc.stdout, proc.stdout[-3000:]
        (folder / "mynet.py").write_text(original.replace("x = x + self.block2(x)", "x = x + self.block2(x) * 1.0"))
        counts = tiny_dry(own_run, path)
    finally:
        (folder / "mynet.py").write_text(original)
    assert counts["train_model"] == 2 and counts["extract_spectra_and_vectors"] == 2  # study own: 2 seeds
    assert "extract_spectra" not in counts and counts["fit_mp"] == 2  # study other (spectra only) untouched
    assert counts["aggregate_table"] == 6  # own's six tables, none of other's
    assert "prepare_dataset" not in counts


@pytest.mark.slow
def test_bad_data_stops_before_training_naming_the_file_and_the_array(tmp_path):
    copy_workflow(tmp_path)
    config = copy_example(tmp_path)
    npz = config.parent / "data" / "mine.npz"
    with np.load(npz) as archive:
        arrays = dict(archive)
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    arrays["x_train"][5, 0, 3, 3] = np.nan
    np.savez(npz, **arrays)
    proc = snakemake("--cores", "2", "--configfile", config, "--replace-workflow-config", "--directory", tmp_path,
                     snakefile=tmp_path / "Snakefile", check=False)
    assert proc.returncode != 0
    assert "rule prepare_dataset failed (DataError)" in proc.stdout, proc.stdout[-3000:]
    assert f"{npz.relative_to(tmp_path)}: x_train has 1 image(s) with NaN or infinite pixels (the first: image 5" \
        in proc.stdout
    assert not list((tmp_path / "results").rglob("*.pt"))  # nothing was trained
    npz.unlink()
    proc = snakemake("-n", "--cores", "2", "--configfile", config, "--replace-workflow-config", "--directory",
                     tmp_path, snakefile=tmp_path / "Snakefile", check=False)
    assert proc.returncode != 0 and "examples/own_model/data/mine.npz" in proc.stdout  # a missing file: no job runs


# ------------------------------------------------------------------ dynamics: snapshot epochs, series, differences
def planted_series(folder: Path, steps=(0, 50, 100), birth: int = 1) -> list[Path]:
    """Checkpoints of a 160 x 100 layer (fresh noise each, a spike of gamma 0.24 from index `birth` on) and a bias."""
    from safetensors.torch import save_file

    rng = np.random.default_rng(11)
    u, v = rng.standard_normal(160), rng.standard_normal(100)
    spike = 3.0 * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    paths = []
    for index, step in enumerate(steps):
        weight = rng.standard_normal((160, 100)) / np.sqrt(160) + (spike if index >= birth else 0.0)
        paths.append(folder / f"step{step}.safetensors")
        save_file({"block.weight": torch.tensor(weight, dtype=torch.float32), "block.bias": torch.zeros(160)},
                  str(paths[-1]))
    return paths


def dynamics_config(root: Path, epochs: int = 2, snapshots=(0, 1, 2)) -> Path:
    """The tiny MLP with snapshot epochs, an external series of 3 checkpoints, and a difference from a base."""
    config = yaml.safe_load(TINY.read_text())
    config["studies"] = {"dyn": {"datasets": ["synthetic"], "models": ["mlp"], "seeds": [0, 1], "analyses": [],
                                 "train": {"epochs": epochs, "batch_size": 64, "lr": 0.1,
                                           "snapshot_epochs": list(snapshots)}}}
    config["sweeps"] = {"wigner": None, "bbp_table": None}
    folder = root / "checkpoints"
    config["external"] = {"ser": {"ckpts": {"weights": str(folder / "step*")},
                                  "tuned": {"weights": str(folder / "step100.safetensors"),
                                            "base": str(folder / "step0.safetensors")}}}
    return write_config(root, config, f"dynamics-{epochs}-{len(snapshots)}.yaml")


@pytest.fixture(scope="module")
def dynamics_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dynamics")
    snakefile = copy_workflow(root)
    (root / "checkpoints").mkdir()
    planted_series(root / "checkpoints")
    path = dynamics_config(root)
    counts = dry_counts(path, root, snakefile=snakefile)
    snakemake("--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", root,
              snakefile=snakefile, timeout=1800)
    return root, counts


@pytest.mark.slow
def test_snapshot_epochs_give_the_dynamics_table_and_figure(dynamics_run):
    root, counts = dynamics_run
    assert counts["take_snapshot"] == counts["analyze_snapshot"] == 2 * 3  # one job per (run, epoch)
    assert counts["analyze_checkpoint"] == 3 and counts["diff_weights"] == 1  # one job per checkpoint
    assert counts["train_model"] == 2 and counts == plan.job_counts(validated(dynamics_config(root)))
    table = pd.read_parquet(root / "results" / "tables" / "dyn" / "dynamics.parquet")
    assert sorted(table.epoch.unique()) == [0, 1, 2]
    analysed = table[table.status == "ok"]
    assert set(analysed.layer) == {"fc1", "fc2", "fc3"} and set(analysed.method) == {"bema", "gb", "modified_mp"}
    counted = analysed[analysed.method != "modified_mp"]  # the modified MP fit gives no threshold, no count
    assert counted.s_hat_mean.notna().all() and (counted.s_hat_n == 2).all()
    assert (table.groupby("epoch").test_acc_mean.first().diff().dropna() > 0).all()  # it learns
    per_run = pd.read_parquet(root / "results" / "dyn" / "synthetic" / "mlp" / "base" / "seed0" / "dynamics.parquet")
    assert {"epoch", "sigma", "gamma_plus", "s_hat", "ave_w", "alpha_sv", "gamma_max", "test_acc", "overlap",
            "new_directions", "status", "reason"} <= set(per_run.columns)
    figure = root / "results" / "figures" / "dyn" / "synthetic" / "mlp" / "base" / "dynamics.png"
    assert figure.is_file() and figure.with_suffix(".pdf").is_file()


@pytest.mark.slow
def test_a_checkpoint_series_and_a_difference_from_a_base(dynamics_run):
    root, _ = dynamics_run
    table = pd.read_parquet(root / "results" / "tables" / "ser" / "dynamics.parquet")
    block = table[(table.layer == "block") & (table.method == "bema")].sort_values("step")
    assert block.step.tolist() == [0, 50, 100] and block.s_hat_mean.tolist() == [0, 1, 1]  # the planted spike
    # The same direction at steps 50 and 100, seen through independent noise: each observed vector has squared
    # cosine phi with it (paper 000 eq. 4 at theta = 3 sigma, q = 100/160), so their overlap is about phi^2 = 0.86;
    # at n = 160 the squared cosines fluctuate by a few percent, hence the tolerance 0.1
    from rmtweights.rmt.bbp import phi_from_theta

    phi = float(phi_from_theta(3.0 / np.sqrt(160), 1.0 / np.sqrt(160), 100 / 160))
    assert abs(block.overlap_mean.iloc[-1] - phi**2) < 0.1 and block.overlap_random_mean.iloc[-1] == 1 / 100
    assert (root / "results" / "figures" / "ser" / "none" / "ckpts" / "series" / "dynamics.png").is_file()
    diff = pd.read_parquet(root / "results" / "tables" / "ser" / "diff.parquet")
    row = diff[(diff.layer == "block") & (diff.method == "bema")].iloc[0]
    assert row.s_hat == 1 and row.s_hat_a == 0 and row.new_directions == 1 and row.status == "ok"
    assert (diff[diff.layer == "block.bias"].status == "skipped").all()


@pytest.mark.slow
def test_changing_the_snapshot_epochs_never_retrains(dynamics_run):
    root, _ = dynamics_run
    fewer = tiny_dry(root, dynamics_config(root, snapshots=(0, 2)))
    assert set(fewer) <= {"gather_dynamics", "aggregate_dynamics", "plot_dynamics", "write_summary", "all"}
    assert fewer["gather_dynamics"] == 2
    # extending training by an epoch and keeping it: the earlier snapshots keep their analyses
    longer = tiny_dry(root, dynamics_config(root, epochs=3, snapshots=(0, 1, 2, 3)))
    assert longer["train_model"] == 2 and longer["analyze_snapshot"] == 2  # epoch 3 of each seed only
    assert longer["take_snapshot"] == 8  # re-linked from the training's files: no copy, no analysis
    assert "analyze_checkpoint" not in longer and "diff_weights" not in longer
