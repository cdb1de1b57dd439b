"""``results/summary.md`` of a config with external studies only: a report per model, not a paper verdict.

A model given as a weights file or an architecture was not trained by the workflow, so no paper's
claim about training can be checked on it. For each external model the summary says instead:

* how much of it was analysed: the tensors and matrices analysed, and those skipped grouped by
  reason (:func:`rmtweights.tensors.skip_group`);
* the distributions over its analysed layers of :math:`\\hat s/\\min(n, m)` and Ave_w (per threshold
  method) and of the power-law exponent :math:`\\alpha` of the singular values (median, quartiles,
  range), with the heavy-tail verdicts;
* the comparison with its baseline: the random baseline of a weights file (state ``baseline``:
  the layer's entries shuffled, or Gaussian; :mod:`rmtweights.baselines`) or the seeded initial weights of
  an architecture (state ``initial``). The spikes a trained layer shows beyond its baseline's are the
  evidence of learned structure; with a shuffled baseline, heavy-tailed entries alone are not.

It reads each external run's fit table (``mp_fit.parquet``: both states, every tensor with its status
and reason) and the study tables ``heavy_tail`` and ``universality`` when they were written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.methods import METHODS, THRESHOLD_METHODS
from rmtweights.tensors import skip_group

__all__ = ["model_report"]

_SECOND_STATES = ("baseline", "initial")


def _spread(values: pd.Series, spec: str = ".3g") -> str:
    """``median 0.12 (quartiles 0.05–0.2, range 0–0.4; 12 layers)``."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "no value"
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return (f"median {med:{spec}} (quartiles {q1:{spec}}–{q3:{spec}}, range {x.min():{spec}}–{x.max():{spec}}; "
            f"{x.size} layer{'s' if x.size != 1 else ''})")


def _source(spec: Mapping[str, Any]) -> str:
    for key in ("weights", "checkpoint", "torchvision"):
        if spec.get(key):
            return f"{key} `{spec[key]}`"
    return "torchvision weights"


def _coverage(trained: pd.DataFrame) -> str:
    layers = trained.drop_duplicates("layer")
    ok = set(trained.loc[trained.status == "ok", "layer"])
    skipped = layers[~layers.layer.isin(ok)]
    groups = Counter(skip_group(str(reason)) for reason in skipped.reason)
    text = f"analysed {len(ok)} of {len(layers)} tensors and matrices"
    return text + ("; skipped: " + ", ".join(f"{n} {g}" for g, n in groups.most_common()) if groups else "")


def _baseline_lines(fits: pd.DataFrame, spec: Mapping[str, Any], universality: pd.DataFrame | None) -> list[str]:
    state = next((s for s in _SECOND_STATES if s in set(fits.state)), None)
    if state is None:
        return ["- Baseline: none in this run's tables."]
    what = (f"random baseline ({spec.get('baseline', 'shuffled')} entries of each layer)" if state == "baseline"
            else "the seeded initial weights of the architecture")
    lines = [f"- Baseline: {what}."]
    for method in [m for m in dict.fromkeys(fits.method) if m in THRESHOLD_METHODS]:
        rows = fits[(fits.method == method) & (fits.status == "ok")]
        pivot = rows.pivot_table(index="layer", columns="state", values="s_hat", aggfunc="first")
        if "trained" not in pivot or state not in pivot:
            continue
        both = pivot[["trained", state]].dropna()
        beyond = int((both["trained"] > both[state]).sum())
        lines.append(f"  - {METHODS[method].display}: ŝ summed over {len(both)} layers {int(both['trained'].sum())} "
                     f"(trained) vs {int(both[state].sum())} ({state}); trained above its {state} in "
                     f"{beyond} of {len(both)} layers.")
    if universality is not None and "pt_rejected_top_mean" in universality:
        pt = universality.groupby("state").pt_rejected_top_mean.mean()
        if "trained" in pt and state in pt:
            lines.append(f"  - Porter–Thomas: share of the top singular vectors rejected, mean over layers "
                         f"{pt['trained']:.0%} (trained) vs {pt[state]:.0%} ({state}).")
    return lines


def model_report(fits: pd.DataFrame, tables: Mapping[str, pd.DataFrame], external: Mapping[str, Mapping]) -> str:
    """The summary of an external-only config as Markdown (module docstring).

    Parameters
    ----------
    fits : pandas.DataFrame
        The external runs' ``mp_fit.parquet`` tables, concatenated (run keys, ``state``, ``layer``,
        ``method``, ``m``, ``s_hat``, ``ave_w``, ``status``, ``reason``).
    tables : mapping of str to pandas.DataFrame
        Study tables keyed ``<study>/<table>``; ``heavy_tail`` and ``universality`` are read when present.
    external : mapping
        The config's ``external`` (study -> model -> spec).
    """
    lines = ["# Model report", "",
             "External studies only: these models were analysed as given, not trained here, so no paper's "
             "verdict applies; per model, what the spectral analysis found. Every quantity is defined in "
             "docs/reading-results.md.", ""]
    for study, models in external.items():
        for model, spec in models.items():
            lines += [f"## `{study}` / `{model}`", "", f"Source: {_source(spec)}.", ""]
            run = fits[(fits.study == study) & (fits.model == model)] if len(fits) else fits
            if run.empty:
                lines += ["No fit table for this model (not run).", ""]
                continue
            trained = run[run.state == "trained"]
            first_method = trained.method.iloc[0]
            lines.append(f"- Tensors: {_coverage(trained[trained.method == first_method])}.")
            ok = trained[trained.status == "ok"]
            for method in [m for m in dict.fromkeys(trained.method) if m in THRESHOLD_METHODS]:
                rows = ok[ok.method == method]
                name = METHODS[method].display
                lines.append(f"- ŝ/min(n, m), {name}: {_spread(rows.s_hat.astype(float) / rows.m)}.")
                lines.append(f"- Ave_w, {name}: {_spread(rows.ave_w)}.")
            heavy = tables.get(f"{study}/heavy_tail")
            if heavy is not None and len(heavy):
                mine = heavy[(heavy.model == model) & (heavy.state == "trained")]
                counts = {v: int(mine[f"n_{v}"].sum()) for v in ("heavy_tailed", "not_heavy_tailed", "inconclusive")
                          if f"n_{v}" in mine}
                verdicts = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in counts.items())
                lines.append(f"- α (power-law exponent of the singular values): {_spread(mine.get('alpha_sv_mean'))}; "
                             f"verdicts: {verdicts}.")
            universality = tables.get(f"{study}/universality")
            if universality is not None:
                universality = universality[universality.model == model]
            lines += _baseline_lines(run, spec, universality)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
