"""Snakemake adapter of rules extract_spectra and extract_spectra_and_vectors: singular values of every layer,
trained and initial (and the Porter-Thomas tests), and the random controls of the prune layer."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.extract_spectra import extract_spectra

p = snakemake.params
spectra, porter_thomas = extract_spectra(snakemake.input.final, snakemake.input.init, snakemake.wildcards,
                                         reshape=p.reshape, porter_thomas_window=p.porter_thomas_window,
                                         device=p.device, control_layer=p.control_layer,
                                         log=lambda line: print(line, file=sys.stderr))
io.write_parquet(spectra, snakemake.output.spectra)
if porter_thomas is not None:
    io.write_parquet(porter_thomas, snakemake.output.porter_thomas)
