"""Snakemake adapter of rule aggregate_dynamics: the study table dynamics (mean, SD and seed counts over time)."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, table_files
from rmtweights.stages.aggregate_dynamics import aggregate_dynamics

table = aggregate_dynamics(io.read_parquets(snakemake.input.dynamics))
table_files.write_table(table, snakemake.output.parquet, csv=snakemake.output.csv, markdown=snakemake.output.markdown)
