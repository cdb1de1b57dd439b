"""Snakemake adapter of rule summarise_wigner_outliers: outlier error per N, fitted rate, Peche check, figure."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, plots
from rmtweights.stages.wigner_summary import wigner_summary_tables

out = snakemake.output
errors, peche, rate = wigner_summary_tables(io.read_parquet(snakemake.input.outliers),
                                            io.read_parquet(snakemake.input.peche))
io.write_table(errors, out.errors, csv=out.errors_csv, markdown=out.errors_md)
io.write_table(peche, out.peche, csv=out.peche_csv, markdown=out.peche_md)
io.save_figure(plots.wigner_error_figure(errors, rate), out.png, out.pdf)
