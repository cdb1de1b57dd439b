"""Snakemake adapter of rule evaluate_pruning: keep-top-s accuracy and whole-network low rank."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
import json
from pathlib import Path

import torch

from rmtweights import io
from rmtweights.stages.evaluate_pruning import evaluate_pruning

torch.set_num_threads(snakemake.threads)
p = snakemake.params
summary = json.loads(Path(snakemake.input.dataset).read_text())
curve, lowrank = evaluate_pruning(snakemake.input.final, p.dataset, summary, io.read_parquet(snakemake.input.fits),
                                  snakemake.wildcards, layer=p.layer, reshape=p.reshape,
                                  k_fraction=p.prune["k_fraction"], batch_size=p.prune["batch_size"])
io.write_parquet(curve, snakemake.output.curve)
io.write_parquet(lowrank, snakemake.output.lowrank)
