"""Paper 003 (Afanasiev, Berlyand, Kiyashko): a growing number of spikes, checked by the spike
count r(N) of the spike-count sweep (Assumption 2), the deformed-Wigner outlier error (Theorem
2.2) and Péché's finite-rank limit (eq. (1.8)).

References
----------
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Assumption 2, eq. (1.8),
   Theorem 2.2, App. A.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.formatting import number
from rmtweights.summary.markdown import block, clean, decimals, not_run, pct, seeds
from rmtweights.summary.papers import CITATION_003
from rmtweights.summary.tables import collect, sweep
from rmtweights.summary.verdicts import PECHE_RELATIVE, Verdict, growth_verdict

__all__ = ["TITLE", "paper_block", "spike_growth_check", "outlier_error_check", "peche_check"]

TITLE = "Paper 003: growing number of spikes"


def paper_block(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping],
                sweeps: Mapping[str, Any] | None) -> list[str]:
    """Paper 003's block of the summary: its checks and its verdict."""
    return block(TITLE, CITATION_003, [("spike growth", *spike_growth_check(tables, studies)),
                                       ("outlier error", *outlier_error_check(tables, sweeps)),
                                       ("Péché", *peche_check(tables, sweeps))])


def spike_growth_check(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict]:
    """Assumption 2 of [3]_ on the spike-count sweep: the growth law r(N) = c N^κ with κ in (0, 1)
    (``spike_growth``, ``spike_counts``; :func:`rmtweights.summary.verdicts.growth_verdict`)."""
    name = "Spike count r(N) of the N×N layer (App. A; Assumption 2: r → ∞, r = o(N), i.e. 0 < κ < 1)"
    growth = collect(tables, lambda n: n == "spike_growth")
    if growth.empty:
        sweeping = any((spec or {}).get("sweep") == "spike_count" for spec in studies.values())
        return not_run(name, "no spike_growth table" if sweeping else "no spike-count study")
    counts = collect(tables, lambda n: n == "spike_counts")
    lines, verdicts = [f"- **{name}**:"], []
    for row in growth.to_dict("records"):
        label = f"{row.get('study', '')} {str(row.get('method', '')).upper()}".strip()
        if row.get("status") != "ok" or number(row.get("kappa"), None) is None:
            lines.append(f"  - {label}: not estimable ({clean(row.get('reason') or 'no fit')}).")
            continue
        lo, hi = number(row.get("kappa_ci_low"), math.nan), number(row.get("kappa_ci_high"), math.nan)
        kappa = float(row["kappa"])
        ci = f" [95 % CI {decimals(lo, 2)}, {decimals(hi, 2)}]" if math.isfinite(lo) and math.isfinite(hi) else ""
        verdict = growth_verdict(kappa, lo, hi)
        verdicts.append(verdict)
        extra = ""
        if not counts.empty and row.get("layer"):
            sub = counts[(counts.study == row.get("study", counts.study)) & (counts.layer == row["layer"])
                         & (counts.method == row.get("method"))].sort_values("N")
            if len(sub) >= 2:
                first, last = sub.iloc[0], sub.iloc[-1]
                extra = (f"; r = {decimals(first.spikes_mean, 1)} at N = {int(first.N)} → "
                         f"{decimals(last.spikes_mean, 1)} at N = {int(last.N)}")
        size = (f", {int(row['n_sizes'])} widths × {int(row['n_seeds'])} seeds"
                if number(row.get("n_sizes"), None) and number(row.get("n_seeds"), None) else "")
        zeros = f", {int(row['n_zero'])} zero counts kept" if number(row.get("n_zero"), None) else ""
        ls = number(row.get("ls_kappa"), None)
        secondary = f"; least squares on log counts: κ = {decimals(ls, 2)}" if ls is not None else ""
        lines.append(f"  - {label} ({row.get('layer', '')}): κ = {decimals(kappa, 2)}{ci} (count model over the "
                     f"widths{size}{zeros}){secondary}{extra} → {verdict.text()}.")
    if not verdicts:
        verdict = Verdict("not comparable", "κ could not be fitted (too few non-zero spike counts)")
        lines.append(f"  → {verdict.text()}.")
        return lines, verdict
    kinds = {v.kind for v in verdicts}
    verdict = verdicts[0] if len(kinds) == 1 else Verdict("partly", "differs between estimators")
    return lines, verdict


def outlier_error_check(tables: Mapping[str, pd.DataFrame],
                        sweeps: Mapping[str, Any] | None) -> tuple[list[str], Verdict]:
    """Theorem 2.2 of [3]_: the deformed-Wigner outlier error falls with N (``sweeps/outlier_error``)."""
    name = "Deformed-Wigner outliers (Theorem 2.2: error → 0 as N grows)"
    frame = sweep(tables, "outlier_error")
    if frame is None:
        off = sweeps is not None and not sweeps.get("wigner")
        return not_run(name, "sweeps.wigner is off in the config" if off else "no table sweeps/outlier_error")
    frame = frame.sort_values("N")
    first, last = frame.iloc[0], frame.iloc[-1]
    rate = number(frame.rate_exponent.iloc[0], None) if "rate_exponent" in frame else None
    if rate is None or len(frame) < 2:
        verdict = Verdict("not run", "fewer than two N")
    elif rate < 0:
        verdict = Verdict("reproduced")
    else:
        verdict = Verdict("not reproduced", "the error does not fall with N")
    line = (f"- **{name}**: mean |λ_j(W) − Φ(λ_j(S))| = {decimals(first.mean_error)} at N = {int(first.N)} "
            f"(r = {int(first.r)} spikes) → {decimals(last.mean_error)} at N = {int(last.N)} (r = {int(last.r)}), "
            f"{seeds(last.n_seeds)}; fitted rate N^{decimals(rate, 2)} (the paper states no rate; finite-rank "
            f"fluctuations are of order N^-0.5) → {verdict.text()}.")
    return [line], verdict


def peche_check(tables: Mapping[str, pd.DataFrame], sweeps: Mapping[str, Any] | None) -> tuple[list[str], Verdict]:
    """Eq. (1.8) of [3]_: the largest eigenvalue for one spike approaches Péché's limit
    (``sweeps/peche``)."""
    name = "Péché's finite-rank limit (eq. 1.8)"
    frame = sweep(tables, "peche")
    if frame is None:
        off = sweeps is not None and not sweeps.get("wigner")
        return not_run(name, "sweeps.wigner is off in the config" if off else "no table sweeps/peche")
    ns = sorted(frame.N.unique())
    small, large = frame[frame.N == ns[0]], frame[frame.N == ns[-1]]
    distance = (large.mean_error / large["limit"]).astype(float)
    worst = large.loc[distance.idxmax()]
    relative = float(distance.max())
    falls = len(ns) > 1 and float(large.mean_error.mean()) < float(small.mean_error.mean())
    close = relative <= PECHE_RELATIVE
    if falls and close:
        verdict = Verdict("reproduced")
    elif falls or close:
        verdict = Verdict("partly", "close to the limit but not closer at larger N" if close
                          else f"approaches the limit but is {pct(relative)} away at N = {int(ns[-1])}")
    else:
        verdict = Verdict("not reproduced", "the largest eigenvalue does not approach the limit")
    thetas = ", ".join(decimals(t, 1) for t in sorted(frame.theta.unique()))
    trend = (f"; mean over θ {decimals(small.mean_error.mean())} at N = {int(ns[0])} → "
             f"{decimals(large.mean_error.mean())}" if len(ns) > 1 else "")
    line = (f"- **{name}** (one spike θ = {thetas}): at N = {int(ns[-1])} the largest eigenvalue is at most "
            f"{pct(relative, 1)} from the limit (θ = {decimals(worst.theta, 1)}: |λ_1 − limit| = "
            f"{decimals(worst.mean_error)}){trend}, "
            f"{seeds(large.n_seeds.max())} → {verdict.text()} (rule: within {pct(PECHE_RELATIVE)} at the "
            f"largest N, and closer than at the smallest).")
    return [line], verdict
