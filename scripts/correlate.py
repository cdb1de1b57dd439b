"""Snakemake adapter of rule correlate: Pearson r between the Ave_w and accuracy curves."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.correlation import correlation_table

table = correlation_table(io.read_parquet(snakemake.input.curve), io.read_parquet(snakemake.input.prune),
                          io.read_parquet(snakemake.input.fits), snakemake.params.layer)
io.write_parquet(add_run_keys(table, snakemake.wildcards), snakemake.output.correlation)
