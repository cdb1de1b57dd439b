"""Snakemake adapter of rule plot_dynamics: s-hat, Ave_w and accuracy of one run group over time."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.plot_dynamics import plot_dynamics

fig = plot_dynamics(io.read_parquet(snakemake.input.table), snakemake.wildcards)
io.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
