"""The columns that identify a run: every per-run table starts with them (``docs/architecture.md``,
"Data contract"), and figures and the summary label runs by them."""

from __future__ import annotations

__all__ = ["RUN_COLUMNS"]

#: study, dataset, model, variant, seed: one run of the workflow.
RUN_COLUMNS: tuple[str, ...] = ("study", "dataset", "model", "variant", "seed")
