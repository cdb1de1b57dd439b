"""Rule ``write_summary``: ``results/summary.md``, what the run reproduced, paper by paper (or, for a config
with external studies only, a report per model: :mod:`rmtweights.summary.external`).

The summary reads the study and sweep tables the workflow has already written (mean, SD and seed
counts, ``results/tables/<study>/<table>.parquet``) and puts each headline number beside the
paper's, with a one-line verdict per check and per paper: "reproduced", "partly: ...", "not
reproduced: ...", "not comparable: ..." (our set-up differs from the paper's) or "not run: ..."
(the table is absent). The pieces are in :mod:`rmtweights.summary` (the papers' numbers, the
verdict rules, the Markdown, one module of checks per paper); ``docs/reading-results.md`` explains
every quantity.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661).
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Assumption 2, eq. (1.8),
   Theorem 2.2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.summary import external as external_summary
from rmtweights.summary import paper000, paper001, paper003
from rmtweights.summary.markdown import scope
from rmtweights.summary.tables import table_key

__all__ = ["summary_markdown", "table_key", "write_summary"]


def summary_markdown(tables: Mapping[str, pd.DataFrame], *, studies: Mapping[str, Mapping],
                     sweeps: Mapping[str, Any] | None = None) -> str:
    """The run's summary as Markdown: one block per paper, our numbers beside the paper's, verdicts.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Study and sweep tables keyed ``<study>/<table>`` (:func:`table_key`), e.g. ``demo/table2``,
        ``demo/correlation``, ``batch/compare_batch_size``, ``spikes/spike_growth``,
        ``spikes/spike_counts``, ``sweeps/bbp_table``, ``sweeps/outlier_error``,
        ``sweeps/peche``. Any may be missing; its check then says "not run" and why.
    studies : mapping
        The config's ``studies`` (datasets, models, seeds, train recipe, variants, ``compare``,
        ``sweep``, ``analyses``): the scope line, the batch size of each variant, and which
        studies are comparisons or sweeps (left out of the Table 2 comparison).
    sweeps : mapping, optional
        The config's ``sweeps`` (``wigner``, ``bbp_table``): the scope line, and whether a missing
        sweep table was switched off.

    Returns
    -------
    str
        Markdown; every number says how many seeds (or noise draws) it comes from, and no value is
        printed as NaN (a dash or a reason instead).

    Raises
    ------
    ValueError
        A key that is not ``<study>/<table>``, a value that is not a DataFrame, or ``studies`` not
        a mapping.

    Notes
    -----
    The verdict rules and their thresholds are in :mod:`rmtweights.summary.verdicts`:
    ``PHI_TOLERANCE`` (Table 1), ``R_REPRODUCED`` (correlation), ``SHAT_FACTOR`` and ``AVEW_GAP``
    (Table 2), more spikes and a higher Ave_w at the smaller batch (Fig. 3), a binomial test of the
    KS rejections at ``TEST_LEVEL`` (spacings, ``rejections_by_chance``), ``PT_REST_MAX`` and
    ``PT_TOP_EXCESS`` (Porter–Thomas), a 95 % interval of kappa inside (0, 1) (Assumption 2 of
    [3]_, ``growth_verdict``), a negative error exponent (Theorem 2.2 of [3]_), and
    ``PECHE_RELATIVE`` (eq. (1.8) of [3]_). The papers' numbers are in
    :mod:`rmtweights.summary.papers`.
    """
    if not isinstance(tables, Mapping):
        raise ValueError(f"tables must be a mapping '<study>/<table>' -> DataFrame, got {type(tables).__name__}")
    for key, frame in tables.items():
        if not isinstance(key, str) or key.count("/") != 1 or not all(key.split("/")):
            raise ValueError(f"table key must look like '<study>/<table>', got {key!r}")
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"table {key!r} must be a pandas DataFrame, got {type(frame).__name__}")
    if not isinstance(studies, Mapping):
        raise ValueError(f"studies must be the config's studies mapping, got {type(studies).__name__}")
    if sweeps is not None and not isinstance(sweeps, Mapping):
        raise ValueError(f"sweeps must be the config's sweeps mapping or None, got {type(sweeps).__name__}")

    lines = ["# What this run reproduced", "", scope(studies, sweeps), "",
             "Numbers are mean ± SD over seeds with the count of seeds they come from; every quantity is "
             "defined in docs/reading-results.md.", ""]
    for paper in (paper000, paper001, paper003):
        lines += paper.paper_block(tables, studies, sweeps)
    return "\n".join(lines).rstrip() + "\n"


def write_summary(tables_by_path: Mapping[str, pd.DataFrame], *, studies: Mapping[str, Mapping],
                  sweeps: Mapping[str, Any] | None = None, external: Mapping[str, Mapping] | None = None,
                  fits: pd.DataFrame | None = None) -> str:
    """Rule ``write_summary``: :func:`summary_markdown` of the tables the rule read, keyed by their paths
    (``results/tables/<study>/<table>.parquet``, named by :func:`table_key`); for a config with external
    studies only (no trained study, no sweep), the model report of
    :func:`rmtweights.summary.external.model_report` from the external runs' fit tables ``fits``."""
    tables = {table_key(path): frame for path, frame in tables_by_path.items()}
    if external and not studies and not any((sweeps or {}).values()):
        return external_summary.model_report(fits if fits is not None else pd.DataFrame(), tables, external)
    return summary_markdown(tables, studies=studies, sweeps=sweeps)
