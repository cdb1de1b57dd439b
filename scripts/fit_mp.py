"""Snakemake adapter of rule fit_mp: sigma, threshold, s-hat and Ave_w per layer and method."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io, stages

p = snakemake.params
fits = stages.mp_fit_table(io.read_parquet(snakemake.input.spectra), p.methods, alpha=p.alpha, a=p.a, beta=p.beta)
io.write_parquet(stages.add_run_keys(fits, snakemake.wildcards), snakemake.output.fits)
