"""Snakemake adapter of rule diff_weights: the spectrum of an external model's difference from its base."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.diff_weights import diff_weights

p = snakemake.params
table = diff_weights(p.base, p.weights, snakemake.wildcards, p.methods, **p.selection, alpha=p.alpha, a=p.a,
                     beta=p.beta, heavy_tail=p.heavy_tail, reshape=p.reshape, device=p.device,
                     log=lambda line: print(line, file=sys.stderr))
io.write_parquet(table, snakemake.output.diff)
