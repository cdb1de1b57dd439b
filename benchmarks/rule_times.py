"""Per-rule run times of a finished study, and an extrapolation to config/paper.yaml.

Reads the `benchmark:` files a run left under ``logs/`` (Snakemake writes one TSV per job, with wall
seconds ``s`` and peak memory ``max_rss``) and the per-epoch training times in the runs'
``training.parquet``, prints the per-rule totals, and extrapolates the paper study's cost:
the paper's job count per rule (a dry run of ``config/paper.yaml``) times the measured mean seconds
per job of the same rule, and for training the measured seconds per epoch of the same architecture
on a 60k-image data set times the paper's epochs (CIFAR-10 scaled by its input size for MLPs).
These are CPU figures for the machine the study ran on; state the machine when you quote them.

Usage: ``python benchmarks/rule_times.py [WORKDIR]`` (default: the repository root).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def rule_times(workdir: Path) -> pd.DataFrame:
    rows = []
    for tsv in (workdir / "logs").rglob("*.benchmark.tsv"):
        rule = tsv.relative_to(workdir / "logs").parts[0]
        frame = pd.read_csv(tsv, sep="\t")
        rows.append(dict(rule=rule, seconds=float(frame["s"].iloc[0]), max_rss_mb=float(frame["max_rss"].iloc[0])))
    return pd.DataFrame(rows)


def epoch_seconds(workdir: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in (workdir / "results").rglob("training.parquet")]
    if not frames:
        return pd.DataFrame(columns=["dataset", "model", "sec_per_epoch"])
    tr = pd.concat(frames, ignore_index=True)
    return tr.groupby(["dataset", "model"], as_index=False)["seconds"].median().rename(
        columns={"seconds": "sec_per_epoch"})


def paper_job_counts() -> dict[str, int]:
    out = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-n", "--cores", "1", "--configfile",
                          "config/paper.yaml", "--replace-workflow-config"], cwd=REPO, capture_output=True, text=True)
    block = out.stdout.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if not match or match.group(1) == "total":
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def main() -> None:
    workdir = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO
    times = rule_times(workdir)
    per_rule = times.groupby("rule").agg(jobs=("seconds", "size"), total_s=("seconds", "sum"),
                                         mean_s=("seconds", "mean"), max_rss_mb=("max_rss_mb", "max"))
    print(f"Per-rule wall times of the study in {workdir} (benchmark: files):")
    print(per_rule.sort_values("total_s", ascending=False).round(1).to_string())
    print(f"sum over jobs: {per_rule.total_s.sum() / 60:.1f} job-minutes")
    epochs = epoch_seconds(workdir)
    print("\nMedian seconds per training epoch:")
    print(epochs.round(2).to_string(index=False))

    counts = paper_job_counts()
    analysis = {rule: n * per_rule.mean_s.get(rule, 0.0) for rule, n in counts.items()
                if rule not in ("train_model", "train_models_batched", "unpack_batched_seed", "all")}
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
          f"{sum(n for r, n in counts.items() if r in analysis)} jobs")
    print(f"  training of mlp, lenet, spike_mlp studies: {train_s / 3600:.1f} CPU-hours")


if __name__ == "__main__":
    main()
