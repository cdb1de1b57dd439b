"""Paper 001 (Thamm, Staats, Rosenow): universality of the weight spectra, checked by the level
spacings against the Wigner surmise and the Porter–Thomas test of the singular vectors.

References
----------
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   Secs. 3–4, App. B.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.rmt.universality import MIN_SPACINGS
from rmtweights.summary.markdown import block, not_run, pct
from rmtweights.summary.papers import CITATION_001
from rmtweights.summary.tables import analysed, collect, usable
from rmtweights.summary.verdicts import PT_REST_MAX, PT_TOP_EXCESS, TEST_LEVEL, Verdict, rejections_by_chance

__all__ = ["TITLE", "paper_block", "spacings_check", "porter_thomas_check"]

TITLE = "Paper 001: universality of the weight spectra"


def paper_block(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping],
                sweeps: Mapping[str, Any] | None) -> list[str]:
    """Paper 001's block of the summary: its checks and its verdict (``sweeps`` is not used)."""
    return block(TITLE, CITATION_001, [("spacings", *spacings_check(tables, studies)),
                                       ("Porter–Thomas", *porter_thomas_check(tables, studies))])


def spacings_check(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict]:
    """Secs. 3–4 of [2]_: the KS tests of the unfolded spacings against the Wigner surmise reject no
    more often than chance, before and after training (``universality``)."""
    name = "Level spacings vs the Wigner surmise"
    frame = collect(tables, lambda n: n == "universality")
    if frame.empty or "passes_5pct_n" not in frame:
        why = ("no study runs the `universality` analysis" if studies and not analysed(studies, "universality")
               else "no universality table")
        return not_run(name, why)
    ok = usable(frame)
    parts, by_state = [], {}
    for state in ("trained", "initial"):
        rows = ok[ok.state == state]
        tests = int(pd.to_numeric(rows.passes_5pct_n, errors="coerce").fillna(0).sum())
        passed = int(round(float((pd.to_numeric(rows.passes_5pct_mean, errors="coerce").fillna(0)
                                  * pd.to_numeric(rows.passes_5pct_n, errors="coerce").fillna(0)).sum())))
        few = frame[(frame.state == state) & frame.reason.astype(str).str.contains("spacings <", regex=False)]
        untested = int((pd.to_numeric(few.n_seeds, errors="coerce").fillna(0)
                        - pd.to_numeric(few.passes_5pct_n, errors="coerce").fillna(0)).sum())
        skipped = f", {untested} with fewer than {MIN_SPACINGS} spacings not tested" if untested else ""
        if tests == 0:
            parts.append(f"{state}: no test{skipped}")
            continue
        chance = rejections_by_chance(tests - passed, tests)
        by_state[state] = chance >= TEST_LEVEL
        parts.append(f"{state} {passed}/{tests} pass ({pct(passed / tests)}{skipped})")
    if not by_state:
        return not_run(name, "no layer has enough singular values to unfold")
    fine = [s for s, v in by_state.items() if v]
    if len(fine) == len(by_state) == 2:
        verdict = Verdict("reproduced")
    elif fine and len(by_state) == 2:
        failing = next(s for s in by_state if s not in fine)
        verdict = Verdict("partly", f"rejections beyond chance for the {failing} weights")
    elif fine:
        verdict = Verdict("partly", f"only the {fine[0]} weights were tested")
    else:
        verdict = Verdict("not reproduced", "more rejections than a 5 % test gives by chance")
    line = (f"- **{name}** (KS test at 5 % per layer and seed; paper: no rejection before or after training): "
            f"{'; '.join(parts)} → {verdict.text()} (rule: no more rejections than a 5 % test gives by "
            f"chance, binomial test at 5 %).")
    return [line], verdict


def porter_thomas_check(tables: Mapping[str, pd.DataFrame],
                        studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict]:
    """[2]_: only the singular vectors of the largest singular values deviate from Porter–Thomas
    (``universality``)."""
    name = "Porter–Thomas (singular-vector entries)"
    frame = collect(tables, lambda n: n == "universality")
    if frame.empty or "pt_rejected_top_n" not in frame:
        why = ("no study runs the `universality` analysis" if studies and not analysed(studies, "universality")
               else "no Porter–Thomas columns in the universality table")
        return not_run(name, why)
    rates: dict[str, tuple[float, float, int]] = {}
    for state in ("trained", "initial"):
        rows = frame[frame.state == state]  # every layer-seed whose vectors were tested, spacing test or not
        out = []
        for part in ("top", "rest"):
            mean = pd.to_numeric(rows[f"pt_rejected_{part}_mean"], errors="coerce")
            n = pd.to_numeric(rows[f"pt_rejected_{part}_n"], errors="coerce").where(mean.notna(), 0).fillna(0)
            out.append((float((mean.fillna(0) * n).sum() / n.sum()) if n.sum() else math.nan, int(n.sum())))
        if out[0][1] and out[1][1]:
            rates[state] = (out[0][0], out[1][0], out[0][1])
    if "trained" not in rates:
        return not_run(name, "no trained layer has Porter–Thomas p-values for both the top 10 and the rest")
    parts = [f"{s}: top 10 rejected {pct(t)}, rest {pct(r)} ({n} layer-seeds)" for s, (t, r, n) in rates.items()]
    top, rest, _ = rates["trained"]
    if rest > PT_REST_MAX:
        verdict = Verdict("not reproduced", f"{pct(rest)} of the trained vectors below the top 10 are rejected")
    elif top >= rest + PT_TOP_EXCESS:
        verdict = Verdict("reproduced")
    else:
        verdict = Verdict("partly", "the vectors below the top 10 are random, but the top 10 deviate no more than "
                                    "they do")
    line = (f"- **{name}** (KS test at 5 % per vector; paper: only the vectors of the largest singular values "
            f"deviate): {'; '.join(parts)} → {verdict.text()}.")
    return [line], verdict
