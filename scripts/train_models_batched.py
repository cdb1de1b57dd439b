"""Snakemake adapter of rule train_models_batched: train all seeds of a run group as one stacked model."""
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
from rmtweights.stages.train_models_batched import train_models_batched

torch.set_num_threads(snakemake.threads)
p = snakemake.params
dirs = [Path(path).parent for path in snakemake.output.final]  # results/.../seed<seed>/model, in seed order
metrics = train_models_batched(p.dataset, json.loads(Path(snakemake.input.dataset).read_text()), p.model, p.train,
                               snakemake.wildcards, p.seeds, dirs, log=lambda line: print(line, file=sys.stderr),
                               snapshot_epochs=p.snapshot_epochs)
for frame, path in zip(metrics, snakemake.output.metrics):
    io.write_parquet(frame, path)
