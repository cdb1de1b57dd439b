"""Snakemake adapter of rule plot_spectrum: paper 000 Fig. 1 for one run."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_spectrum import plot_spectrum

fig = plot_spectrum(io.read_parquet(snakemake.input.spectra), io.read_parquet(snakemake.input.fits))
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
