"""Snakemake adapter of rule test_universality: spacings, number variance, Porter-Thomas."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io, stages

states = {"trained": io.load_checkpoint(snakemake.input.final)["model_state"],
          "initial": io.load_checkpoint(snakemake.input.init)["model_state"]}
tables = stages.universality_tables(states, reshape=snakemake.params.reshape, **snakemake.params.universality)
for name, table in tables.items():
    io.write_parquet(stages.add_run_keys(table, snakemake.wildcards), snakemake.output[name])
