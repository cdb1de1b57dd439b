"""Snakemake adapter of rule aggregate_table: a study table (mean and SD over seeds)."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
import pandas as pd

from rmtweights import io, stages

frames = {stage: pd.concat([io.read_parquet(path) for path in snakemake.input[stage]], ignore_index=True)
          for stage in snakemake.input.keys()}
table = stages.aggregate(snakemake.params.table, frames)
io.write_table(table, snakemake.output.parquet, csv=snakemake.output.csv, markdown=snakemake.output.markdown)
