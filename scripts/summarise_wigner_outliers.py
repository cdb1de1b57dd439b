"""Snakemake adapter of rule summarise_wigner_outliers: outlier error per N, fitted rate, Peche check, figure."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, table_files
from rmtweights.stages.summarise_wigner_outliers import summarise_wigner_outliers

out = snakemake.output
errors, peche, fig = summarise_wigner_outliers(io.read_parquet(snakemake.input.outliers),
                                               io.read_parquet(snakemake.input.peche))
table_files.write_table(errors, out.errors, csv=out.errors_csv, markdown=out.errors_md)
table_files.write_table(peche, out.peche, csv=out.peche_csv, markdown=out.peche_md)
io.save_figure(fig, out.png, out.pdf)
