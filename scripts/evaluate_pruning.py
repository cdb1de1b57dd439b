"""Snakemake adapter of rule evaluate_pruning: keep-top-s accuracy and whole-network low rank."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
import torch

from rmtweights import data, io, stages, train

torch.set_num_threads(snakemake.threads)
spec, p = snakemake.params.dataset, snakemake.params
splits = data.load_dataset(spec["source"], spec["data_dir"], synthetic=spec["synthetic"], download=spec["download"])
model = train.load_trained_model(snakemake.input.final)
curve, lowrank = stages.prune_tables(model, splits, p.layer, io.read_parquet(snakemake.input.fits), reshape=p.reshape,
                                     k_fraction=p.prune["k_fraction"], batch_size=p.prune["batch_size"])
io.write_parquet(stages.add_run_keys(curve, snakemake.wildcards), snakemake.output.curve)
io.write_parquet(stages.add_run_keys(lowrank, snakemake.wildcards), snakemake.output.lowrank)
