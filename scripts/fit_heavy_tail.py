"""Snakemake adapter of rule fit_heavy_tail: power-law fit and verdict per layer."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.fit_heavy_tail import fit_heavy_tail

table = fit_heavy_tail(io.read_parquet(snakemake.input.spectra), snakemake.wildcards, **snakemake.params.heavy_tail)
io.write_parquet(table, snakemake.output.heavy_tail)
