"""Snakemake adapter of rule record_snapshot_settings: what a run group's snapshot analyses depend on besides
the weights (read by rule analyze_snapshot)."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.record_snapshot_settings import record_snapshot_settings

p = snakemake.params
table = record_snapshot_settings({"analysis": p.analysis, "weights": p.weights})
io.write_parquet(table, snakemake.output.settings)
