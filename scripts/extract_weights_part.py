"""Snakemake adapter of rule extract_weights_part: the spectra of one job's share of a weights file's tensors."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.extract_weights_part import extract_weights_part

p = snakemake.params
spectra, porter_thomas = extract_weights_part(p.spec, p.names, snakemake.wildcards, reshape=p.reshape,
                                              porter_thomas_window=p.porter_thomas_window, device=p.device,
                                              log=lambda line: print(line, file=sys.stderr))
io.write_parquet(spectra, snakemake.output.spectra)
io.write_parquet(porter_thomas, snakemake.output.porter_thomas)
