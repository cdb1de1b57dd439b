"""Snakemake adapter of rule plot_universality: paper 001 Figs. 1-2 for one run."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_universality import plot_universality

fig = plot_universality(io.read_parquet(snakemake.input.spacings), io.read_parquet(snakemake.input.number_variance),
                        io.read_parquet(snakemake.input.porter_thomas), io.read_parquet(snakemake.input.summary))
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
