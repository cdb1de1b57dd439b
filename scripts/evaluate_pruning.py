"""Snakemake adapter of rule evaluate_pruning: keep-top-s accuracy and whole-network low rank."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
import json
from pathlib import Path

import torch

from rmtweights import data, io
from rmtweights.checkpoint import load_trained_model
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.pruning import prune_tables

torch.set_num_threads(snakemake.threads)
p = snakemake.params
splits = data.load_prepared(p.dataset, json.loads(Path(snakemake.input.dataset).read_text()))
model = load_trained_model(snakemake.input.final)
curve, lowrank = prune_tables(model, splits, p.layer, io.read_parquet(snakemake.input.fits), reshape=p.reshape,
                              k_fraction=p.prune["k_fraction"], batch_size=p.prune["batch_size"])
io.write_parquet(add_run_keys(curve, snakemake.wildcards), snakemake.output.curve)
io.write_parquet(add_run_keys(lowrank, snakemake.wildcards), snakemake.output.lowrank)
