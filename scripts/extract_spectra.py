"""Snakemake adapter of rule extract_spectra: singular values of every layer, trained and initial."""
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
spectra = stages.spectra_table(states, reshape=snakemake.params.reshape)
io.write_parquet(stages.add_run_keys(spectra, snakemake.wildcards), snakemake.output.spectra)
