"""rmtweights: random-matrix-theory analysis of neural-network weight matrices.

The library computes; the Snakemake workflow (``Snakefile``, ``workflow/``) wires the stages.
Entry points for use outside the workflow: :func:`analyze_model` (every layer of a model, a
state_dict or a weights file), :func:`analyze_matrix` and :func:`analyze_spectrum` (one matrix),
:func:`diff_models` (what changed between two models).
"""

import importlib

__version__ = "0.1.0"

__all__ = ["__version__", "MatrixAnalysis", "analyze_matrix", "analyze_spectrum", "analyze_model", "diff_models"]

# Re-exported lazily, so that ``import rmtweights.io`` stays light. The module is named by a string:
# code fingerprints (rmtweights.provenance) follow static imports only, and a workflow script that
# imports ``rmtweights.io`` does not run these.
_LAZY = {"MatrixAnalysis": "rmtweights.analyze", "analyze_matrix": "rmtweights.api",
         "analyze_spectrum": "rmtweights.analyze", "analyze_model": "rmtweights.api",
         "diff_models": "rmtweights.diff"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rmtweights' has no attribute {name!r}")
