"""Snakemake adapter of rule simulate_wigner_outliers: deformed-Wigner outliers and the Peche check."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.simulate_wigner_outliers import simulate_wigner_outliers

outliers, peche = simulate_wigner_outliers(snakemake.params.wigner)
io.write_parquet(outliers, snakemake.output.outliers)
io.write_parquet(peche, snakemake.output.peche)
