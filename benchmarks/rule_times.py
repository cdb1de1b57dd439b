"""Per-rule run times of a finished study, the analysis rules' CPU time, and a before/after comparison.

Reads the ``benchmark:`` files a run left under ``<run dir>/logs/`` (Snakemake writes one TSV per
job, ``logs/<rule>/.../*.benchmark.tsv``, with wall seconds ``s``, peak resident memory ``max_rss`` in
MB and ``cpu_time`` in seconds) and prints, per rule: jobs, total and mean wall seconds, peak RSS
and total CPU seconds; then the analysis rules' total CPU time on its own line (the rules that turn
weights into results: ``extract_spectra``, ``extract_spectra_and_vectors``, ``extract_weights_part``,
``fit_mp``, ``fit_heavy_tail``, ``measure_universality``, ``evaluate_pruning``, ``correlate``; a rule
without a ``benchmark:`` directive, such as the local rule ``correlate``, is named as not measured).
Given a second run directory, it prints the same for that run and the ratios second / first per
rule, so ``rule_times.py BEFORE AFTER`` is a before/after comparison of two complete runs (ratios
below 1: the second run is faster).

``--paper`` adds the old extrapolation to ``config/paper.yaml``: the paper study's job count per rule
(a dry run of that config in this repository) times the measured mean seconds per job of the same
rule, and for training the measured median seconds per epoch of the same architecture on a 60k-image
data set times the paper's epochs (CIFAR-10 scaled by its input size for MLPs).

These are figures of the machine the study ran on; state the machine (cores, load) when you quote them.

Usage: ``python benchmarks/rule_times.py [RUN_DIR [SECOND_RUN_DIR]] [--paper]``
(``RUN_DIR`` default: the current directory).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
#: Rules whose CPU time is the cost of the analysis (training, data, figures and tables excluded).
ANALYSIS_RULES: tuple[str, ...] = ("extract_spectra", "extract_spectra_and_vectors", "extract_weights_part", "fit_mp",
                                   "fit_heavy_tail", "measure_universality", "evaluate_pruning", "correlate")
#: Rules left out of the paper extrapolation of the analysis (training has its own estimate).
TRAINING_RULES: tuple[str, ...] = ("prepare_dataset", "train_model", "train_models_batched", "import_model", "all")
COLUMNS = ("jobs", "total_s", "mean_s", "peak_rss_mb", "cpu_s")


def job_times(run_dir: Path) -> pd.DataFrame:
    """One row per job: ``rule``, wall ``seconds``, ``max_rss_mb``, ``cpu_s`` (the mean of a file's rows,
    which Snakemake repeats only under ``repeat()``; the peak for RSS)."""
    logs = run_dir / "logs"
    rows = []
    for tsv in sorted(logs.rglob("*.benchmark.tsv")):
        frame = pd.read_csv(tsv, sep="\t")
        rows.append(dict(rule=tsv.relative_to(logs).parts[0], seconds=float(frame["s"].mean()),
                         max_rss_mb=float(frame["max_rss"].max()),
                         cpu_s=float(pd.to_numeric(frame["cpu_time"], errors="coerce").mean())))
    return pd.DataFrame(rows, columns=["rule", "seconds", "max_rss_mb", "cpu_s"])


def per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    """Columns :data:`COLUMNS`, one row per rule, by total wall time (largest first)."""
    table = jobs.groupby("rule").agg(jobs=("seconds", "size"), total_s=("seconds", "sum"), mean_s=("seconds", "mean"),
                                     peak_rss_mb=("max_rss_mb", "max"), cpu_s=("cpu_s", "sum"))
    return table.sort_values("total_s", ascending=False)


def unmeasured_rules(run_dir: Path, rules) -> list[str]:
    """Rules of ``rules`` that ran (``logs/<rule>/`` exists) but left no benchmark file."""
    measured = set(rules)
    return sorted(d.name for d in (run_dir / "logs").iterdir() if d.is_dir() and d.name not in measured)


def summarise(run_dir: Path) -> pd.DataFrame:
    jobs = job_times(run_dir)
    if jobs.empty:
        raise SystemExit(f"no logs/**/*.benchmark.tsv under {run_dir}: not a finished run directory?")
    table = per_rule(jobs)
    print(f"Per-rule times of the run in {run_dir} ({len(jobs)} jobs with a benchmark file):")
    print(table.round({"total_s": 1, "mean_s": 2, "peak_rss_mb": 0, "cpu_s": 1}).to_string())
    print(f"all measured jobs: {table.total_s.sum() / 60:.1f} job-minutes wall, "
          f"{table.cpu_s.sum() / 60:.1f} CPU-minutes")
    analysis = table[table.index.isin(ANALYSIS_RULES)]
    print(f"analysis rules ({', '.join(analysis.index)}): {analysis.cpu_s.sum():.1f} CPU s over "
          f"{int(analysis.jobs.sum())} jobs ({analysis.total_s.sum():.1f} s wall)")
    silent = [r for r in unmeasured_rules(run_dir, table.index) if r in ANALYSIS_RULES]
    if silent:
        print(f"  ran without a benchmark file (not counted): {', '.join(silent)}")
    others = [r for r in unmeasured_rules(run_dir, table.index) if r not in ANALYSIS_RULES]
    if others:
        print(f"other rules without a benchmark file: {', '.join(others)}")
    return table


def compare(first: pd.DataFrame, second: pd.DataFrame, first_dir: Path, second_dir: Path) -> None:
    """Ratios second / first of every column, per rule and for the analysis total."""
    both = first.merge(second, how="outer", left_index=True, right_index=True, suffixes=("_1", "_2"))
    ratios = pd.DataFrame({c: both[f"{c}_2"] / both[f"{c}_1"] for c in COLUMNS}, index=both.index)
    ratios = ratios.loc[both.total_s_1.fillna(0).add(both.total_s_2.fillna(0)).sort_values(ascending=False).index]
    print(f"\nRatios {second_dir} / {first_dir} (below 1: the second run is faster or smaller; NaN: the rule ran "
          "in one run only):")
    print(ratios.round(2).to_string())
    cpu = [t[t.index.isin(ANALYSIS_RULES)].cpu_s.sum() for t in (first, second)]
    wall = [t.total_s.sum() for t in (first, second)]
    print(f"analysis rules' CPU time: {cpu[0]:.1f} s -> {cpu[1]:.1f} s (x{cpu[1] / cpu[0]:.2f}); all measured jobs' "
          f"wall time: {wall[0]:.1f} s -> {wall[1]:.1f} s (x{wall[1] / wall[0]:.2f})")


def epoch_seconds(run_dir: Path) -> pd.DataFrame:
    """Median seconds per training epoch by data set and model (per-run files; not results/tables)."""
    frames = [pd.read_parquet(p) for p in (run_dir / "results").rglob("training.parquet")
              if "tables" not in p.relative_to(run_dir / "results").parts]
    if not frames:
        return pd.DataFrame(columns=["dataset", "model", "sec_per_epoch"])
    tr = pd.concat(frames, ignore_index=True)
    return tr.groupby(["dataset", "model"], as_index=False)["seconds"].median().rename(
        columns={"seconds": "sec_per_epoch"})


def paper_job_counts() -> dict[str, int]:
    out = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-n", "--cores", "1", "--configfile",
                          "config/paper.yaml", "--replace-workflow-config"], cwd=REPO, capture_output=True, text=True,
                         check=False)
    if "Job stats:" not in out.stdout:
        raise SystemExit(f"dry run of config/paper.yaml failed:\n{out.stderr[-2000:]}")
    block = out.stdout.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if not match or match.group(1) == "total":
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def paper_extrapolation(run_dir: Path, table: pd.DataFrame) -> None:
    epochs = epoch_seconds(run_dir)
    print("\nMedian seconds per training epoch:")
    print(epochs.round(2).to_string(index=False))
    counts = paper_job_counts()
    analysis = {rule: n * table.mean_s.get(rule, 0.0) for rule, n in counts.items() if rule not in TRAINING_RULES}
    missing = sorted(r for r in analysis if r not in table.index)
    # Training of config/paper.yaml from measured seconds per epoch on 60k images (Fashion-MNIST):
    # MNIST has the same size; CIFAR-10 has 50k images of 3x32x32 (x3.9 the input of an MLP's first layer).
    fm = epochs[epochs.dataset == "fashion_mnist"].set_index("model").sec_per_epoch
    mlp, lenet = fm.get("mlp", float("nan")), fm.get("lenet", float("nan"))
    spike = fm.get("spike_mlp", float("nan"))
    train_s = (
        2 * 10 * 30 * mlp * (1 + 50 / 60 * 3.9) / 2  # paper000 mlp: MNIST + CIFAR-10, 10 seeds, 30 epochs
        + 2 * 10 * 30 * lenet * (1 + 50 / 60 * 3) / 2  # paper000 lenet
        + 2 * 10 * 30 * mlp  # paper000_batch: bs64 and bs256 on MNIST
        + 15 * 10 * 25 * spike  # spike sweep: 15 widths x 10 seeds x 25 epochs (median of N = 200..600: a lower bound)
    )
    print("\nExtrapolation to config/paper.yaml on this machine (CPU; AlexNet and paper 001 models not measured):")
    print(f"  analysis and aggregation rules: {sum(analysis.values()) / 3600:.1f} CPU-hours over "
          f"{sum(n for r, n in counts.items() if r in analysis)} jobs"
          + (f" (not measured in this run, counted as 0: {', '.join(missing)})" if missing else ""))
    print(f"  training of mlp, lenet, spike_mlp studies: {train_s / 3600:.1f} CPU-hours"
          + ("" if len(fm) else " (no Fashion-MNIST training in this run: NaN)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path, default=Path.cwd(), help="a finished run (default: .)")
    parser.add_argument("second_run_dir", nargs="?", type=Path, help="a second run: print ratios second / first")
    parser.add_argument("--paper", action="store_true", help="extrapolate the first run to config/paper.yaml")
    args = parser.parse_args()
    for d in filter(None, (args.run_dir, args.second_run_dir)):
        if not (d / "logs").is_dir():
            raise SystemExit(f"{d} has no logs/ folder: give the directory a run was started in")
    first = summarise(args.run_dir)
    if args.second_run_dir is not None:
        print()
        second = summarise(args.second_run_dir)
        compare(first, second, args.run_dir, args.second_run_dir)
    if args.paper:
        paper_extrapolation(args.run_dir, first)


if __name__ == "__main__":
    main()
