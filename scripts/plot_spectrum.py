"""Snakemake adapter of rule plot_spectrum: paper 000 Fig. 1 for one run, in pages, and its overview."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_spectrum import plot_spectrum

out = snakemake.output
plot_spectrum(io.read_parquet(snakemake.input.spectra), io.read_parquet(snakemake.input.fits), png=out.png,
              overview_png=out.overview, pdf=out.pdf)
