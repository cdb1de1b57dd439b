"""Snakemake adapter of rule summarise_wigner_outliers: error per N, fitted rate, figure."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io, plots, stages

outliers = io.read_parquet(snakemake.input.outliers)
table, rate = stages.wigner_summary_table(outliers, io.read_parquet(snakemake.input.peche))
io.write_table(table, snakemake.output.summary, markdown=snakemake.output.markdown)
summary = table[table.quantity == "outliers"]
io.save_figure(plots.wigner_error_figure(summary, rate), snakemake.output.png, snakemake.output.pdf)
