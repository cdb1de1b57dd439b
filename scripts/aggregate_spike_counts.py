"""Snakemake adapter of rule aggregate_spike_counts: spikes versus N and the growth law."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, table_files
from rmtweights.stages.aggregate_spike_counts import spike_count_tables

counts, growth = spike_count_tables(io.read_parquets(snakemake.input.mp_fit),
                                    io.read_parquets(snakemake.input.training), snakemake.params.widths)
out = snakemake.output
table_files.write_table(counts, out.counts, csv=out.counts_csv, markdown=out.counts_md)
table_files.write_table(growth, out.growth, csv=out.growth_csv, markdown=out.growth_md)
