"""rmtweights: random-matrix-theory analysis of neural-network weight matrices.

The library computes; the Snakemake workflow (``Snakefile``, ``workflow/``) wires the stages.
"""

__version__ = "0.1.0"
