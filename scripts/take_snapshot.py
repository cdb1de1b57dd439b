"""Snakemake adapter of rule take_snapshot: the weights and test metrics of one epoch of a trained run."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
import json
from pathlib import Path

import torch

from rmtweights.stages.take_snapshot import take_snapshot

torch.set_num_threads(snakemake.threads)
p = snakemake.params
source = take_snapshot(p.dataset, json.loads(Path(snakemake.input.dataset).read_text()), p.model, p.recipe,
                       snakemake.wildcards, int(snakemake.wildcards.epoch), Path(snakemake.input.final).parent,
                       snakemake.output.snapshot, log=lambda line: print(line, file=sys.stderr))
print(f"epoch {snakemake.wildcards.epoch}: {source}", file=sys.stderr)
