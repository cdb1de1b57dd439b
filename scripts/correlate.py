"""Snakemake adapter of rule correlate: Pearson r between the Ave_w and accuracy curves."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.correlate import correlate

table = correlate(io.read_parquet(snakemake.input.curve), io.read_parquet(snakemake.input.prune),
                  io.read_parquet(snakemake.input.fits), snakemake.params.layer, snakemake.wildcards)
io.write_parquet(table, snakemake.output.correlation)
