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

from rmtweights import data, io, train
from rmtweights.train_common import TrainConfig
from rmtweights.stages.common import add_run_keys

torch.set_num_threads(snakemake.threads)
model = snakemake.params.model
splits = data.load_prepared(snakemake.params.dataset, json.loads(Path(snakemake.input.dataset).read_text()))
metrics = train.train_model(model["arch"], model["kwargs"], splits, TrainConfig(**snakemake.params.train),
                            int(snakemake.wildcards.seed), Path(snakemake.output.final).parent,
                            log=lambda line: print(line, file=sys.stderr))
io.write_parquet(add_run_keys(metrics, snakemake.wildcards), snakemake.output.metrics)
