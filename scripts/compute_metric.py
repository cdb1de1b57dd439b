"""Snakemake adapter of rule compute_metric: theta-hat, phi-hat per spike and the Ave_w curve."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io, stages

metric, curve = stages.metric_tables(io.read_parquet(snakemake.input.spectra), io.read_parquet(snakemake.input.fits),
                                     beta=snakemake.params.beta, k_fraction=snakemake.params.k_fraction)
io.write_parquet(stages.add_run_keys(metric, snakemake.wildcards), snakemake.output.metric)
io.write_parquet(stages.add_run_keys(curve, snakemake.wildcards), snakemake.output.curve)
