"""Snakemake adapter of rule gather_dynamics: a run's snapshots as one table over time, with the overlaps of
consecutive spike subspaces."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.gather_dynamics import gather_dynamics

tables = [io.read_parquet(path) for path in snakemake.input.tables]
directions = [io.read_parquet(path) for path in snakemake.input.directions]
io.write_parquet(gather_dynamics(tables, directions, snakemake.params.axis), snakemake.output.dynamics)
