"""Snakemake adapter of rule simulate_wigner_outliers: deformed-Wigner outliers and the Peche check."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.rmt import wigner

p = snakemake.params.wigner
outliers = wigner.outlier_sweep(p["Ns"], p["seeds"], sigma=p["sigma"], interval=tuple(p["interval"]),
                                growth=p["growth"], c=p["c"], bulk=p["bulk"])
io.write_parquet(outliers, snakemake.output.outliers)
io.write_parquet(wigner.peche_check(p["Ns"], p["peche_thetas"], p["sigma"], p["seeds"]), snakemake.output.peche)
