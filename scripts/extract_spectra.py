"""Snakemake adapter of rule extract_spectra: singular values of every layer, trained and initial (and the Porter-Thomas tests)."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io, layers
from rmtweights.stages.common import add_run_keys
from rmtweights.stages.spectra import spectra_tables

p = snakemake.params
states = {state: layers.iter_layer_matrices(layers.weight_tensors(io.load_checkpoint(path)["model_state"]), p.reshape)
          for state, path in (("trained", snakemake.input.final), ("initial", snakemake.input.init))}
spectra, porter_thomas = spectra_tables(states, reshape=p.reshape, porter_thomas_window=p.porter_thomas_window,
                                        device=p.device, log=lambda line: print(line, file=sys.stderr))
io.write_parquet(add_run_keys(spectra, snakemake.wildcards), snakemake.output.spectra)
if porter_thomas is not None:
    io.write_parquet(add_run_keys(porter_thomas, snakemake.wildcards), snakemake.output.porter_thomas)
