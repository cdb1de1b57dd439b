"""Snakemake adapter of rule analyze_snapshot: one epoch's weights analysed like the final weights."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.analyze_snapshot import analyze_snapshot

table, directions = analyze_snapshot(snakemake.input.snapshot, io.read_parquet(snakemake.input.settings),
                                     snakemake.wildcards, int(snakemake.wildcards.epoch),
                                     device=snakemake.params.device, log=lambda line: print(line, file=sys.stderr))
io.write_parquet(table, snakemake.output.table)
io.write_parquet(directions, snakemake.output.directions)
