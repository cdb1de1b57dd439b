"""Rule ``measure_universality``: level spacings and number variance of each layer, with the Porter–Thomas summary.

Paper 001 ([1]_, Secs. 3–4) asks whether the bulk of a trained weight matrix is still random:
the nearest-neighbour spacings of the unfolded singular values against the Wigner surmise (KS
test), the level number variance :math:`\\Sigma^2(l)` against the GOE, and the entries of the
singular vectors against the Porter–Thomas law. The first two need only the singular values (the
spectra table); the vectors were tested when the layer was decomposed (rule ``extract_spectra``),
and their per-layer summary is joined here. The random controls of the pruned layer
(:data:`rmtweights.controls.DERIVED_CONTROLS`, states of the spectra table for the Ave_w
correlation) are left out: these tests are about the run's own weights.

References
----------
.. [1] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   Secs. 3–4, App. B–C.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.controls import DERIVED_CONTROLS
from rmtweights.rmt import universality as uni
from rmtweights.stages.common import add_run_keys, layer_groups, skipped_reason

__all__ = ["measure_universality", "universality_tables", "TOP_VECTORS", "PT_LEVEL"]

#: Porter–Thomas summary: the vectors of the ``TOP_VECTORS`` largest singular values are reported
#: apart from the rest (Sec. 4 of [1]_: only they deviate), each test at level ``PT_LEVEL``.
TOP_VECTORS = 10
PT_LEVEL = 0.05


def _porter_thomas_summary(pt: pd.DataFrame) -> pd.DataFrame:
    """Per state and layer: the fraction of vectors whose Porter–Thomas p-value is below ``PT_LEVEL``,
    among the top ``TOP_VECTORS`` ranks and among the rest."""
    if pt.empty:
        return pd.DataFrame(columns=["state", "layer", "pt_rejected_top", "pt_rejected_rest"])
    frame = pt.assign(top=pt["rank"] <= TOP_VECTORS, rejected=pt.p_value < PT_LEVEL)
    top = frame[frame.top].groupby(["state", "layer"], sort=False).rejected.mean().rename("pt_rejected_top")
    rest = frame[~frame.top].groupby(["state", "layer"], sort=False).rejected.mean().rename("pt_rejected_rest")
    return pd.concat([top, rest], axis=1).reset_index()


def universality_tables(spectra: pd.DataFrame, porter_thomas: pd.DataFrame, *, a: int = 15,
                        ls: Sequence[float] = (0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)) -> dict[str, pd.DataFrame]:
    """Spacing test, spacing histogram and number variance per state and layer ([1]_, Secs. 3–4).

    Computed on the normalised singular values of every layer with a spectrum whose unfolding leaves
    at least :data:`rmtweights.rmt.universality.MIN_SPACINGS` spacings (fewer: the KS test cannot tell
    GOE from Poisson levels; m >= 2a + 1 + 50); other layers get a ``summary`` row with ``status``
    "skipped" and the reason (:func:`rmtweights.rmt.universality.spacing_test`), and no histogram or
    number variance. The ``summary`` also carries ``pt_rejected_top`` and ``pt_rejected_rest`` from
    ``porter_thomas`` (the table of rule ``extract_spectra``), for skipped rows too: the vectors are
    tested for every layer with a spectrum. Returns frames ``summary``, ``spacings`` and
    ``number_variance``.
    """
    ls = np.asarray(ls, dtype=float)
    summary, spacings, variance = [], [], []
    for state, layer, group in layer_groups(spectra[~spectra.state.isin(DERIVED_CONTROLS)]):
        first = group.iloc[0]
        keys = dict(state=state, layer=layer, kind=first.kind, n=int(first.n), m=int(first.m))
        reason = skipped_reason(group)
        if reason is not None:
            summary.append(dict(keys, status="skipped", reason=reason))
            continue
        levels = group.gamma.to_numpy()  # singular values, unfolded as in App. C of [1]
        test = uni.spacing_test(levels, a=a)
        summary.append({**keys, **test})
        if test["status"] != "ok":
            continue
        spacings.append(uni.spacing_histogram(levels, a=a).assign(state=state, layer=layer))
        nv = uni.number_variance(uni.unfold(levels, a=a), ls)
        nv["goe"] = uni.goe_number_variance(nv["l"].to_numpy())
        variance.append(nv.assign(state=state, layer=layer))
    lead = ["state", "layer"]
    out = {}
    for name, parts in (("summary", summary), ("spacings", spacings), ("number_variance", variance)):
        if not parts:
            frame = pd.DataFrame(columns=lead + (["status", "reason"] if name == "summary" else []))
        else:
            frame = pd.DataFrame(parts) if name == "summary" else pd.concat(parts, ignore_index=True)
        out[name] = frame[lead + [c for c in frame.columns if c not in lead]]
    out["summary"] = out["summary"].merge(_porter_thomas_summary(porter_thomas), on=lead, how="left")
    return out


def measure_universality(spectra: pd.DataFrame, porter_thomas: pd.DataFrame, run_keys: Mapping[str, Any] | Any, *,
                         a: int, ls: Sequence[float]) -> dict[str, pd.DataFrame]:
    """Rule ``measure_universality``: :func:`universality_tables` of one run, each prefixed with the run keys."""
    return {name: add_run_keys(table, run_keys)
            for name, table in universality_tables(spectra, porter_thomas, a=a, ls=ls).items()}
