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

from rmtweights import data, io
from rmtweights.stages.common import add_run_keys
from rmtweights.train_batched import train_seeds_batched
from rmtweights.train_common import TrainConfig

torch.set_num_threads(snakemake.threads)
model, seeds = snakemake.params.model, snakemake.params.seeds
splits = data.load_prepared(snakemake.params.dataset, json.loads(Path(snakemake.input.dataset).read_text()))
dirs = [Path(path).parent for path in snakemake.output.final]  # results/.../seed<seed>/model, in seed order
metrics = train_seeds_batched(model["arch"], model["kwargs"], splits, TrainConfig(**snakemake.params.train),
                              seeds, dirs, log=lambda line: print(line, file=sys.stderr))
for seed, frame, path in zip(seeds, metrics, snakemake.output.metrics):
    io.write_parquet(add_run_keys(frame, {**dict(snakemake.wildcards.items()), "seed": seed}), path)
