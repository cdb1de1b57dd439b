"""Snakemake adapter of rule aggregate_table: a study table (mean, SD and seed counts)."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, table_files
from rmtweights.stages.aggregate_table import aggregate

frames = {name: io.read_parquets(snakemake.input[name]) for name in snakemake.input.keys()}
table = aggregate(snakemake.params.table, frames, reason_rows=snakemake.params.reason_rows,
                  layer=snakemake.params.layer)
table_files.write_table(table, snakemake.output.parquet, csv=snakemake.output.csv, markdown=snakemake.output.markdown)
