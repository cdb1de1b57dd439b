"""Snakemake adapter of rule plot_comparison: paper 000 Fig. 3 (variants of a study side by side)."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
import pandas as pd

from rmtweights import io, plots

spectra = pd.concat([io.read_parquet(path) for path in snakemake.input.spectra], ignore_index=True)
fits = pd.concat([io.read_parquet(path) for path in snakemake.input.fits], ignore_index=True)
io.save_figure(plots.comparison_figure(spectra, fits, snakemake.params.key), snakemake.output.png, snakemake.output.pdf)
