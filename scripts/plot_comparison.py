"""Snakemake adapter of rule plot_comparison: paper 000 Fig. 3 (variants of a study side by side)."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_comparison import plot_comparison

spectra, fits = io.read_parquets(snakemake.input.spectra), io.read_parquets(snakemake.input.fits)
fig = plot_comparison(spectra, fits, io.read_parquet(snakemake.input.table), snakemake.params.key,
                      snakemake.params.layer)
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
