"""Snakemake adapter of rule train_model: train one run, write checkpoints and per-epoch metrics."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from pathlib import Path

import torch

from rmtweights import data, io, stages, train

torch.set_num_threads(snakemake.threads)
spec, model = snakemake.params.dataset, snakemake.params.model
splits = data.load_dataset(spec["source"], spec["data_dir"], synthetic=spec["synthetic"], download=spec["download"])
metrics = train.train_model(model["arch"], model["kwargs"], splits, train.TrainConfig(**snakemake.params.train),
                            int(snakemake.wildcards.seed), Path(snakemake.output.final).parent,
                            log=lambda line: print(line, file=sys.stderr))
io.write_parquet(stages.add_run_keys(metrics, snakemake.wildcards), snakemake.output.metrics)
