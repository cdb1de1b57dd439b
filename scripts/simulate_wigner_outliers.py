"""Snakemake adapter of rule simulate_wigner_outliers: deformed-Wigner outliers and the Peche check."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
from rmtweights import io
from rmtweights.rmt import wigner

p = snakemake.params.wigner
outliers = wigner.outlier_sweep(p["Ns"], p["seeds"], sigma=p["sigma"], interval=tuple(p["interval"]),
                                growth=p["growth"], c=p["r0"], bulk=p["bulk"])
io.write_parquet(outliers, snakemake.output.outliers)
peche = wigner.peche_check(p["Ns"], snakemake.params.peche_thetas, p["sigma"], p["seeds"])
io.write_parquet(peche, snakemake.output.peche)
