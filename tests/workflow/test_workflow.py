"""The Snakemake workflow: lint, dry runs with job counts, a tiny end-to-end run, rerun-only-stale,
bad configs and the report. Snakemake runs as a subprocess from the environment's own binary."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TINY = REPO / "tests" / "config" / "tiny.yaml"

pytestmark = pytest.mark.workflow


def snakemake(*args, cwd=REPO, timeout=900, check=True):
    """Run snakemake; return the completed process (stdout and stderr merged)."""
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), *map(str, args)]
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
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


def test_lint_reports_nothing():
    proc = snakemake("--lint", "--config", "code_fingerprint=True", check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "Lints for" not in proc.stdout, proc.stdout[-4000:]


def test_dry_run_default_config_job_counts():
    counts = job_counts(snakemake("-n", "--cores", "2").stdout)
    # config/config.yaml: demo 2 datasets x 2 models x 1 variant x 2 seeds = 8 runs with every analysis;
    # batch 1x1x2x2 = 4 and spikes 1x1x3x2 = 6 with `analyses: []` (spectra and MP fits only): 18 runs.
    # First-seed figure runs: 4 + 2 + 3 = 9 spectra, 4 universality and Ave_w figures (demo).
    # Tables: demo 6, batch 2 + compare_batch_size, spikes 2; sweeps: wigner (2 rules) + bbp table.
    expected = dict(prepare_dataset=2, train_model=18, extract_spectra=18, fit_mp=18, test_heavy_tail=8,
                    test_universality=8, compute_metric=8, evaluate_pruning=8, correlate=8,
                    plot_spectrum=9, plot_universality=4, plot_avew_accuracy=4, aggregate_table=11,
                    aggregate_spike_counts=1, plot_comparison=1, plot_spike_counts=1,
                    simulate_wigner_outliers=1, summarise_wigner_outliers=1, compute_bbp_table=1, all=1)
    assert counts == expected


@pytest.mark.parametrize("analyses", [[], ["universality"], ["heavy_tail", "prune"]])
def test_study_analyses_choose_the_optional_stages(tmp_path, analyses):
    config = yaml.safe_load(TINY.read_text())
    del config["studies"]["spikes"]
    config["studies"]["tiny"]["analyses"] = analyses
    path = tmp_path / "analyses.yaml"
    path.write_text(yaml.safe_dump(config))
    counts = job_counts(snakemake("-n", "--cores", "1", "--configfile", path, "--replace-workflow-config",
                                  "--directory", tmp_path).stdout)
    runs = 2 * 2 * 2  # tiny: mlp, lenet x bs64, bs128 x 2 seeds, both with a prune layer
    assert counts["train_model"] == counts["extract_spectra"] == counts["fit_mp"] == runs
    assert counts.get("test_heavy_tail", 0) == (runs if "heavy_tail" in analyses else 0)
    assert counts.get("test_universality", 0) == (runs if "universality" in analyses else 0)
    for rule in ("compute_metric", "evaluate_pruning", "correlate"):
        assert counts.get(rule, 0) == (runs if "prune" in analyses else 0), rule
    assert counts.get("plot_universality", 0) == (4 if "universality" in analyses else 0)
    # table2, training, compare_batch_size, plus one table per optional stage (prune: correlation, lowrank)
    assert counts["aggregate_table"] == 3 + len(analyses) + ("prune" in analyses)


def test_dry_run_paper_config_builds_fast_with_expected_counts():
    import time

    start = time.perf_counter()
    proc = snakemake("-n", "--cores", "2", "--configfile", REPO / "config" / "paper.yaml",
                     "--replace-workflow-config")
    elapsed = time.perf_counter() - start
    counts = job_counts(proc.stdout)
    # paper.yaml: paper000 2x2x1x10 = 40, paper000_alexnet 2x1x1x10 = 20, paper000_batch 1x1x2x10 = 20,
    # paper001 1x3x3x10 = 90, spikes 1x1x15x10 = 150: 320 runs, trained batched (one job per seed group:
    # 4 + 2 + 2 + 9 + 15 = 32). Prune layers: all but minialexnet and spike_mlp: 320 - 30 - 150 = 140.
    assert counts["train_models_batched"] == 32
    assert counts["unpack_batched_seed"] == 320
    assert counts["fit_mp"] == 320
    assert counts["evaluate_pruning"] == 140
    assert counts["prepare_dataset"] == 3
    assert elapsed < 30, f"paper DAG took {elapsed:.1f} s"


BAD_CONFIGS = [
    ({"unknown_key": 1}, "unknown_key"),
    ({"analysis": {"beta": "small"}}, "beta"),
    ({"studies": {"demo": {"datasets": ["synthetic"], "models": ["mlp"], "seeds": [0], "train": {"epochs": -1}}}},
     "epochs"),
    ({"analysis": {"prune": {"k_fraction": 1.5}}}, "k_fraction"),
    ({"models": {"mlp": {"arch": "resnet"}}}, "resnet"),
    ({"studies": {"demo": {"datasets": ["synthetic"], "models": ["nosuchmodel"], "seeds": [0],
                           "train": {"epochs": 1}}}}, "nosuchmodel"),
]


@pytest.mark.parametrize("override,needle", BAD_CONFIGS, ids=[n for _, n in BAD_CONFIGS])
def test_bad_config_stops_before_any_job_naming_the_key(tmp_path, override, needle):
    config = yaml.safe_load(TINY.read_text())
    merge(config, override)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--cores", "1", "--configfile", path, "--replace-workflow-config",
                     "--directory", tmp_path, check=False)
    assert proc.returncode != 0
    assert needle in proc.stdout
    assert "Job stats" not in proc.stdout


@pytest.mark.parametrize("sweeps", [{"wigner": None, "bbp_table": None}, None], ids=["null", "absent"])
def test_sweeps_can_be_switched_off(tmp_path, sweeps):
    config = yaml.safe_load(TINY.read_text())
    if sweeps is None:
        del config["sweeps"]
    else:
        config["sweeps"] = sweeps
    path = tmp_path / "nosweeps.yaml"
    path.write_text(yaml.safe_dump(config))
    counts = job_counts(snakemake("-n", "--cores", "1", "--configfile", path, "--replace-workflow-config",
                                  "--directory", tmp_path).stdout)
    assert counts["fit_mp"] > 0
    assert not {"simulate_wigner_outliers", "compute_bbp_table"} & set(counts)


def merge(base: dict, override: dict) -> None:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


# ------------------------------------------------------------------ tiny end-to-end run
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny study run once in a temporary working directory (synthetic data, 1 epoch, 2 seeds)."""
    workdir = tmp_path_factory.mktemp("tiny")
    snakemake("--cores", "2", "--configfile", TINY, "--replace-workflow-config", "--directory", workdir,
              timeout=1200)
    return workdir


def tiny_args(workdir, *extra):
    return ["--cores", "2", "--configfile", TINY, "--replace-workflow-config", "--directory", workdir, *extra]


@pytest.mark.slow
def test_tiny_run_produces_every_table_and_figure(tiny_run):
    tables = tiny_run / "results" / "tables"
    for study, names in {"tiny": ["table2", "training", "heavy_tail", "universality", "correlation", "lowrank",
                                  "compare_batch_size"],
                         "spikes": ["table2", "training", "spike_counts", "spike_growth"]}.items():
        for name in names:
            assert (tables / study / f"{name}.parquet").is_file(), (study, name)
    # spikes has `analyses: []`: spectra and fits only
    assert not (tables / "spikes" / "heavy_tail.parquet").exists()
    assert not list((tiny_run / "results" / "spikes").rglob("universality.parquet"))
    for name in ["wigner_summary", "bbp_table"]:
        assert (tables / "sweeps" / f"{name}.parquet").is_file()
    figures = list((tiny_run / "results" / "figures").rglob("*.png"))
    names = {p.name for p in figures}
    assert {"spectrum.png", "avew_accuracy.png", "universality.png", "compare_batch_size.png",
            "spike_counts.png", "wigner_error.png"} <= names
    for png in figures:
        assert png.with_suffix(".pdf").is_file()


@pytest.mark.slow
def test_tiny_run_tables_have_documented_columns(tiny_run):
    run = tiny_run / "results" / "tiny" / "synthetic" / "mlp" / "bs64" / "seed0"
    keys = ["study", "dataset", "model", "variant", "seed"]
    expected = {
        "spectra": keys + ["state", "layer", "kind", "reshape", "n", "m", "q", "index", "sv", "gamma", "status", "reason"],
        "mp_fit": keys + ["state", "layer", "method", "n", "m", "q", "min_nm", "sigma", "gamma_plus", "s_hat", "ave_w",
                          "gd_threshold", "s_hat_gd", "fraction_mp", "status", "reason"],
        "avew_curve": keys + ["layer", "method", "s", "reading", "gamma_plus", "sigma", "ave_w"],
        "prune": keys + ["layer", "s", "accuracy"],
        "correlation": keys + ["layer", "method", "reading", "pearson_r"],
        "training": keys + ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"],
        "heavy_tail": keys + ["state", "layer", "status", "verdict"],
    }
    for stage, columns in expected.items():
        frame = pd.read_parquet(run / f"{stage}.parquet")
        assert set(columns) <= set(frame.columns), (stage, set(columns) - set(frame.columns))
        assert len(frame) > 0, stage
    fits = pd.read_parquet(run / "mp_fit.parquet")
    assert set(fits.method) == {"bema", "gb", "mp_fit"}
    # The 10-way head is kept with a reason, never dropped silently.
    head = fits[fits.layer == "fc4"]
    assert len(head) and (head.status != "ok").all() and head.reason.str.len().gt(0).all()
    curve = pd.read_parquet(run / "avew_curve.parquet")
    assert set(curve.reading) == {"fixed", "implied"}
    table2 = pd.read_parquet(tiny_run / "results" / "tables" / "tiny" / "table2.parquet")
    assert {"s_hat_mean", "s_hat_sd", "ave_w_mean", "ave_w_sd", "n_seeds"} <= set(table2.columns)
    assert (table2.n_seeds == 2).all()


@pytest.mark.slow
def test_second_dry_run_has_nothing_to_do(tiny_run):
    proc = snakemake("-n", *tiny_args(tiny_run))
    assert "Nothing to be done" in proc.stdout, proc.stdout[-3000:]


@pytest.mark.slow
def test_changing_bema_alpha_reruns_fits_not_training(tiny_run, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config.setdefault("analysis", {})["bema"] = {"alpha": 0.25}
    path = tmp_path / "alpha.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", tiny_run)
    counts = job_counts(proc.stdout)
    assert counts.get("fit_mp", 0) > 0
    assert "train_model" not in counts and "extract_spectra" not in counts
    assert "test_heavy_tail" not in counts


@pytest.mark.slow
def test_changing_one_studys_epochs_retrains_only_that_study(tiny_run, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["studies"]["spikes"]["train"]["epochs"] = 2
    path = tmp_path / "epochs.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", tiny_run)
    counts = job_counts(proc.stdout)
    assert counts.get("train_model") == 4  # spikes: 2 widths x 2 seeds; study tiny untouched


@pytest.mark.slow
def test_external_study_analyses_a_given_checkpoint_without_training(tiny_run, tmp_path):
    """A study of kind external: an rmtweights checkpoint analysed (and pruned on a named dataset)."""
    checkpoint = tiny_run / "results" / "tiny" / "synthetic" / "mlp" / "bs64" / "seed0" / "model" / "final.pt"
    config = yaml.safe_load(TINY.read_text())
    config["external"] = {"given": {"tinymlp": {"checkpoint": str(checkpoint), "dataset": "synthetic",
                                                "prune_layer": "fc2"}}}
    path = tmp_path / "external.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["--cores", "2", "--configfile", path, "--replace-workflow-config", "--directory", tiny_run]
    counts = job_counts(snakemake("-n", *args).stdout)
    assert counts.get("import_model") == 1 and "train_model" not in counts
    snakemake(*args)
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
    snakemake("--report", tiny_run / "report.zip", *tiny_args(tiny_run))
    assert (tiny_run / "report.zip").stat().st_size > 10_000


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
