"""Snakemake adapter of rule prepare_dataset: load (or download) a dataset once and write its summary."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
import json

from rmtweights import io
from rmtweights.stages.prepare_dataset import prepare_dataset

summary = prepare_dataset(snakemake.params.dataset)
print(json.dumps(summary), file=sys.stderr)
with io.atomic_path(snakemake.output.summary) as tmp:
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
