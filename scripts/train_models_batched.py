"""Snakemake adapter of rule train_models_batched: all seeds of a run group as one stacked model."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
import json
from pathlib import Path

import torch

from rmtweights import data, io, stages, train

torch.set_num_threads(snakemake.threads)
spec, model, seeds = snakemake.params.dataset, snakemake.params.model, snakemake.params.seeds
splits = data.load_dataset(spec["source"], spec["data_dir"], synthetic=spec["synthetic"], download=spec["download"])
out = Path(snakemake.output.done).parent
dirs = [out / f"seed{seed}" for seed in seeds]
metrics = train.train_seeds_batched(model["arch"], model["kwargs"], splits, train.TrainConfig(**snakemake.params.train),
                                    seeds, dirs, log=lambda line: print(line, file=sys.stderr))
for seed, folder, frame in zip(seeds, dirs, metrics):
    keys = {**dict(snakemake.wildcards.items()), "seed": seed}
    io.write_parquet(stages.add_run_keys(frame, keys), folder / "training.parquet")
with io.atomic_path(snakemake.output.done) as tmp:
    tmp.write_text(json.dumps({"seeds": list(seeds)}) + "\n")
