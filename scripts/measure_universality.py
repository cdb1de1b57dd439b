"""Snakemake adapter of rule measure_universality: level spacings and number variance, with the Porter-Thomas
summary."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.measure_universality import measure_universality

tables = measure_universality(io.read_parquet(snakemake.input.spectra), io.read_parquet(snakemake.input.porter_thomas),
                              snakemake.wildcards, a=snakemake.params.a, ls=snakemake.params.ls)
for name, table in tables.items():
    io.write_parquet(table, snakemake.output[name])
