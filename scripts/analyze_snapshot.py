"""Snakemake adapter of rule analyze_snapshot: one epoch's weights analysed like the final weights."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.analyze_snapshot import analyze_snapshot

p = snakemake.params
table, directions = analyze_snapshot(snakemake.input.snapshot, snakemake.wildcards, int(snakemake.wildcards.epoch),
                                     p.methods, alpha=p.alpha, a=p.a, beta=p.beta, heavy_tail=p.heavy_tail,
                                     reshape=p.reshape, device=p.device, log=lambda line: print(line, file=sys.stderr))
io.write_parquet(table, snakemake.output.table)
io.write_parquet(directions, snakemake.output.directions)
