"""Snakemake adapter of rule analyze_checkpoint: one checkpoint of an external series analysed like a model."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.analyze_checkpoint import analyze_checkpoint

p = snakemake.params
table, directions = analyze_checkpoint(p.checkpoint, snakemake.wildcards, int(snakemake.wildcards.step), p.methods,
                                       **p.selection, alpha=p.alpha, a=p.a, beta=p.beta, heavy_tail=p.heavy_tail,
                                       reshape=p.reshape, device=p.device,
                                       log=lambda line: print(line, file=sys.stderr))
io.write_parquet(table, snakemake.output.table)
io.write_parquet(directions, snakemake.output.directions)
