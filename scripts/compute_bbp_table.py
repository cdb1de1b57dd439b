"""Snakemake adapter of rule compute_bbp_table: paper 000 Table 1 beside our phi and phi-hat."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
from _adapter import start

start(snakemake)
from rmtweights import io
from rmtweights.sweeps.table1 import bbp_table, table1_comparison

p = snakemake.params.bbp
frame = bbp_table([tuple(size) for size in p["sizes"]], tuple(p["thetas"]), p["sigma"], p["draws"], p["seed"],
                   bema=True, alpha=snakemake.params.alpha)
table = table1_comparison(frame)
io.write_table(table, snakemake.output.table, csv=snakemake.output.csv, markdown=snakemake.output.markdown)
