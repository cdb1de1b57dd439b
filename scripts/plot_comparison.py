"""Snakemake adapter of rule plot_comparison: paper 000 Fig. 3 (variants of a study side by side)."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, plots

spectra, fits = io.read_parquets(snakemake.input.spectra), io.read_parquets(snakemake.input.fits)
fig = plots.comparison_figure(spectra, fits, snakemake.params.key, table=io.read_parquet(snakemake.input.table),
                              layer=snakemake.params.layer)
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
