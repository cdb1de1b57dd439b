"""A self-contained HTML page of :func:`rmtweights.diff.diff_models`' table (``rmtweights diff --report``).

One file, no scripts or external assets: what was compared, how to read the columns, the compared
layers (one row per layer and method) and the tensors that could not be compared, with the reason.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

__all__ = ["REPORT_COLUMNS", "diff_report_html"]

#: The columns the report shows for compared layers.
REPORT_COLUMNS: tuple[str, ...] = ("layer", "kind", "shape", "method", "rel_norm", "numerical_rank", "sigma",
                                   "gamma_plus", "s_hat", "s_hat_a", "s_hat_b", "k_a", "k_b", "overlap",
                                   "overlap_random", "new_directions", "new_index", "alpha_sv", "status", "reason")

_STYLE = """body{font-family:sans-serif;margin:2em;max-width:90em}table{border-collapse:collapse;font-size:0.85em}
th,td{border:1px solid #ccc;padding:0.2em 0.5em;text-align:right}th{background:#eee}td.t{text-align:left}
dt{font-weight:bold}dd{margin:0 0 0.4em 1.5em}"""

_LEGEND = (("rel_norm", "‖ΔW‖_F / ‖W_A‖_F, the size of the update relative to the base layer."),
           ("s_hat", "singular values of ΔW = W_B − W_A above the Tracy–Widom threshold γ₊ of its MP fit: the "
                     "effective rank of the update (for an exactly low-rank ΔW, its numerical rank)."),
           ("sigma, gamma_plus", "noise level σ̂ of the update's MP fit and its threshold γ₊ (γ = s/√n)."),
           ("s_hat_a, s_hat_b", "spikes of W_A and W_B themselves."),
           ("overlap", "mean squared cosine of the principal angles between the spike subspaces of W_A (k_a "
                       "directions) and W_B (k_b): 1 when one lies in the other; overlap_random is its expected "
                       "value max(k_a, k_b)/d for independent subspaces."),
           ("new_directions, new_index", "spike directions of W_B (1-based) whose squared cosine with W_A's "
                                         "spike subspace is below 1/2: directions the update added."))


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    columns = [c for c in columns if c in frame.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for row in frame[columns].itertuples(index=False):
        cells = "".join(f'<td class="{"t" if isinstance(v, str) else ""}">{_cell(v)}</td>' for v in row)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def diff_report_html(table: pd.DataFrame, a: str, b: str) -> str:
    """The report page of ``table`` (a :func:`~rmtweights.diff.diff_models` result) comparing ``a`` with ``b``."""
    compared = table[table.status != "skipped"]
    skipped = table[table.status == "skipped"].drop_duplicates("layer")
    legend = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in _LEGEND)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rmtweights diff</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>What changed from A to B</h1><p>A: <code>{html.escape(a)}</code><br>B: <code>{html.escape(b)}"
             f"</code></p><p>{compared.layer.nunique()} layers compared, {len(skipped)} tensors not compared.</p>",
             f"<h2>Columns</h2><dl>{legend}</dl>",
             "<h2>Compared layers</h2>", _table(compared, REPORT_COLUMNS)]
    if len(skipped):
        parts += ["<h2>Tensors not compared</h2>", _table(skipped, ("layer", "shape", "status", "reason"))]
    parts.append("</body></html>")
    return "\n".join(parts)
