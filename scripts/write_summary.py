"""Snakemake adapter of rule write_summary: results/summary.md, what the run reproduced, paper by paper."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.stages.write_summary import write_summary

tables = {path: io.read_parquet(path) for path in snakemake.input.tables}
p = snakemake.params
text = write_summary(tables, studies=p.studies, sweeps=p.sweeps, external=p.external,
                     fits=io.read_parquets(snakemake.input.fits))
with io.atomic_path(snakemake.output.summary) as tmp:
    tmp.write_text(text, encoding="utf-8")
