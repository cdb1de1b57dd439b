"""Snakemake adapter of rule simulate_wigner_outliers: deformed-Wigner outliers and the Peche check."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.sweeps.wigner_outliers import outlier_sweep, peche_check

p = snakemake.params.wigner
outliers = outlier_sweep(p["Ns"], p["seeds"], sigma=p["sigma"], interval=tuple(p["interval"]),
                         growth=p["growth"], c=p["c"], bulk=p["bulk"])
io.write_parquet(outliers, snakemake.output.outliers)
io.write_parquet(peche_check(p["Ns"], p["peche_thetas"], p["sigma"], p["seeds"]), snakemake.output.peche)
