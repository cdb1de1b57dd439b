"""Snakemake adapter of rule fit_heavy_tail: power-law fit and verdict per layer."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.heavy_tail import heavy_tail_table

table = heavy_tail_table(io.read_parquet(snakemake.input.spectra), **snakemake.params.heavy_tail)
io.write_parquet(add_run_keys(table, snakemake.wildcards), snakemake.output.heavy_tail)
