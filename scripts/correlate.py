"""Snakemake adapter of rule correlate: Pearson r between the Ave_w and accuracy curves."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io, stages

table = stages.correlation_table(io.read_parquet(snakemake.input.curve), io.read_parquet(snakemake.input.prune),
                                 snakemake.params.layer)
io.write_parquet(stages.add_run_keys(table, snakemake.wildcards), snakemake.output.correlation)
