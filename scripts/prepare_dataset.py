"""Snakemake adapter of rule prepare_dataset: load (or download) a dataset once and write its summary."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
import json

from rmtweights import data, io

spec = snakemake.params.dataset
splits = data.load_spec(spec)
summary = data.summarize(splits)
print(json.dumps(summary), file=sys.stderr)
with io.atomic_path(snakemake.output.summary) as tmp:
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
