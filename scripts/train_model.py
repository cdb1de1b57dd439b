"""Snakemake adapter of rule train_model: train one run, write its checkpoints and per-epoch metrics."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
import json
from pathlib import Path

import torch

from rmtweights import io
from rmtweights.stages.train_model import train_model

torch.set_num_threads(snakemake.threads)
p = snakemake.params
metrics = train_model(p.dataset, json.loads(Path(snakemake.input.dataset).read_text()), p.model, p.train,
                      snakemake.wildcards, Path(snakemake.output.final).parent,
                      log=lambda line: print(line, file=sys.stderr), snapshot_epochs=p.snapshot_epochs)
io.write_parquet(metrics, snakemake.output.metrics)
