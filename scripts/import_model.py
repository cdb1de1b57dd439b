"""Snakemake adapter of rule import_model: an external model's weights as final.pt and init.pt."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io
from rmtweights.external import import_model

given, initial = import_model(snakemake.params.spec, download=snakemake.params.download)
io.save_checkpoint(given, snakemake.output.final)
io.save_checkpoint(initial, snakemake.output.init)
