"""Snakemake adapter of rule plot_avew_accuracy: paper 000 Fig. 2 for one run."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_avew_accuracy import plot_avew_accuracy

fig = plot_avew_accuracy(io.read_parquet(snakemake.input.curve), io.read_parquet(snakemake.input.prune),
                         io.read_parquet(snakemake.input.fits), snakemake.params.layer)
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
