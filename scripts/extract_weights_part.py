"""Snakemake adapter of rule extract_weights_part: the spectra of one job's share of a weights file's tensors."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.weights_part import weights_part_tables

p = snakemake.params
spectra, porter_thomas = weights_part_tables(p.spec["weights"], p.names, reshape=p.reshape, seed=p.spec["seed"] or 0,
                                             porter_thomas_window=p.porter_thomas_window, device=p.device,
                                             log=lambda line: print(line, file=sys.stderr))
io.write_parquet(add_run_keys(spectra, snakemake.wildcards), snakemake.output.spectra)
io.write_parquet(add_run_keys(porter_thomas, snakemake.wildcards), snakemake.output.porter_thomas)
