"""rmtweights: random-matrix-theory analysis of neural-network weight matrices.

The library computes; the Snakemake workflow (``Snakefile``, ``workflow/``) wires the stages.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "MatrixAnalysis", "analyze_matrix", "analyze_spectrum"]

_LAZY = {"MatrixAnalysis", "analyze_matrix", "analyze_spectrum"}


def __getattr__(name: str):
    """Re-export :mod:`rmtweights.analyze` lazily (``import rmtweights.io`` stays light)."""
    if name in _LAZY:
        from rmtweights import analyze

        return getattr(analyze, name)
    raise AttributeError(f"module 'rmtweights' has no attribute {name!r}")
