"""Snakemake adapter of rule gather_spectra: a weights file's per-job spectra as one table."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io

io.write_parquet(io.read_parquets(snakemake.input.spectra), snakemake.output.spectra)
io.write_parquet(io.read_parquets(snakemake.input.porter_thomas), snakemake.output.porter_thomas)
