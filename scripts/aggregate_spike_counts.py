"""Snakemake adapter of rule aggregate_spike_counts: spikes versus N and the growth law."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
import pandas as pd

from rmtweights import io, stages

fits = pd.concat([io.read_parquet(path) for path in snakemake.input.fits], ignore_index=True)
training = pd.concat([io.read_parquet(path) for path in snakemake.input.training], ignore_index=True)
counts, growth = stages.spike_count_tables(fits, training, snakemake.params.widths)
io.write_table(counts, snakemake.output.counts, csv=snakemake.output.csv)
io.write_table(growth, snakemake.output.growth, markdown=snakemake.output.markdown)
