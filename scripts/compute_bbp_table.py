"""Snakemake adapter of rule compute_bbp_table: paper 000 Table 1 beside our phi and phi-hat."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import table_files
from rmtweights.stages.compute_bbp_table import compute_bbp_table

table = compute_bbp_table(snakemake.params.bbp, alpha=snakemake.params.alpha)
table_files.write_table(table, snakemake.output.table, csv=snakemake.output.csv, markdown=snakemake.output.markdown)
