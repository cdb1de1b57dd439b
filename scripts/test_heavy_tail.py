"""Snakemake adapter of rule test_heavy_tail: power-law fit and verdict per layer."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io, stages

table = stages.heavy_tail_table(io.read_parquet(snakemake.input.spectra), **snakemake.params.heavy_tail)
io.write_parquet(stages.add_run_keys(table, snakemake.wildcards), snakemake.output.heavy_tail)
