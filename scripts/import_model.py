"""Snakemake adapter of rule import_model: an external model's weights as final.pt and init.pt."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.import_model import import_model

given, initial = import_model(snakemake.params.spec, download=snakemake.params.download)
io.save_checkpoint(given, snakemake.output.final)
io.save_checkpoint(initial, snakemake.output.init)
