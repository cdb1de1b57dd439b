"""Snakemake adapter of rule fit_mp: sigma, threshold, s-hat, theta-hat, phi-hat, Ave_w and its curve per layer
and method."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.fit_mp import fit_mp

p = snakemake.params
tables = fit_mp(io.read_parquet(snakemake.input.spectra), snakemake.wildcards, p.methods, alpha=p.alpha, a=p.a,
                beta=p.beta, k_fraction=p.k_fraction)
for table, path in zip(tables, (snakemake.output.fits, snakemake.output.spikes, snakemake.output.curve)):
    io.write_parquet(table, path)
