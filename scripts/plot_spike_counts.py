"""Snakemake adapter of rule plot_spike_counts: spikes versus N with the fitted growth law."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_spike_counts import plot_spike_counts

fig = plot_spike_counts(io.read_parquet(snakemake.input.counts), io.read_parquet(snakemake.input.growth))
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
