"""Snakemake adapter of rule gather_spectra: a weights file's per-job spectra as one table."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.gather_spectra import gather_spectra

spectra, porter_thomas = gather_spectra(snakemake.input.spectra, snakemake.input.porter_thomas)
io.write_parquet(spectra, snakemake.output.spectra)
io.write_parquet(porter_thomas, snakemake.output.porter_thomas)
