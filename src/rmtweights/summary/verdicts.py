"""The rules that turn the run's numbers into a verdict, and their thresholds.

A check's verdict is one of "reproduced", "partly: ...", "not reproduced: ...", "not comparable:
..." (our set-up differs from the paper's) or "not run: ..." (the table is absent). Each threshold
below is stated in the summary beside the numbers it judges; :func:`combine_verdicts` makes a
paper's verdict from its checks'. The papers' own numbers are in :mod:`rmtweights.summary.papers`.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Tables 1–2, Figs. 2–3.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   Secs. 3–4.
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Assumption 2, eq. (1.8),
   Theorem 2.2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

__all__ = [
    "KINDS",
    "Verdict",
    "combine_verdicts",
    "rejections_by_chance",
    "correlation_verdict",
    "paired_interval",
    "control_outcome",
    "CONTROL_OUTCOMES",
    "growth_verdict",
    "gap_verdict",
    "lowrank_verdict",
    "R_REPRODUCED",
    "CONTROL_CONFIDENCE",
    "LOWRANK_ACCURACY_DROP",
    "HEAVY_TAIL_LEVEL",
    "PHI_TOLERANCE",
    "SHAT_FACTOR",
    "AVEW_GAP",
    "TEST_LEVEL",
    "PT_REST_MAX",
    "PT_TOP_EXCESS",
    "PECHE_RELATIVE",
]

KINDS = ("reproduced", "partly", "not reproduced", "not comparable", "not run")

#: Table 1 of [1]_ is printed to 3 decimals from 100 noise draws; our phi and phi-hat agree with it
#: when within 0.01 (rounding plus the sampling error of the sweep's draws: the per-draw SD of
#: phi-hat for theta = 2 at 100 x 200 is about 0.012, i.e. 0.003 for a mean over 20 draws).
PHI_TOLERANCE = 0.01
#: A mean r at or above this counts as reproducing Fig. 2 of [1]_: about one SD below the paper's
#: lowest model mean (0.852 − 0.066 = 0.786); a positive r below it is "partly", r <= 0 is "not".
R_REPRODUCED = 0.8
#: The trained weights beat a control of the Ave_w correlation (the initial weights, a Gaussian matrix,
#: the entry-shuffled matrix; :mod:`rmtweights.controls`) when the two-sided interval at this confidence
#: of their paired difference in r over seeds (trained − control, same run and accuracy curve; Student
#: t with n − 1 degrees of freedom) lies above 0; below 0 the control wins; otherwise, and with one
#: seed, the two are not distinguished.
CONTROL_CONFIDENCE = 0.95
#: Our s-hat / min(n, m) agrees with Table 2 of [1]_ when within this factor of the paper's
#: (s-hat depends on the training recipe; the check asks for the same order of magnitude).
SHAT_FACTOR = 2.0
#: Table 2 of [1]_: "Ave_w takes similar values regardless of whether BEMA or Gaussian broadening";
#: its largest BEMA–GB gap is 0.045 (LeNet Conv2D_2, MNIST), so gaps up to 0.05 agree with it. A rule
#: of agreement with the paper's table, not a statistical test; our gaps are paired by seed (the same
#: run and layer under both methods), never a mean over some seeds against a mean over others.
AVEW_GAP = 0.05
#: Whole-network low rank (Sec. 4 of [1]_, "compression while preserving predictive performance"): the
#: network with every layer truncated at the s-hat of the method with the higher Ave_w keeps its
#: accuracy when it loses at most this much (1 point) of the dense network's test accuracy. The paper
#: reports 76.4 % for that rule and 76.3 % for either method alone on LeNet / CIFAR-10 (no dense
#: accuracy); a 1-point loss is a fifth of the 3.8 points by which it calls the rule better than [30].
LOWRANK_ACCURACY_DROP = 0.01
#: Level of the heavy-tail goodness-of-fit verdict (``gof_level`` of
#: :func:`rmtweights.rmt.heavytail.fit_heavy_tail`); the summary shows p ± its Monte-Carlo SE where p
#: lies within 2 SE of it.
HEAVY_TAIL_LEVEL = 0.1
#: Level of the spacing KS tests and the Porter–Thomas tests (``passes_5pct``, ``pt_rejected_*``).
TEST_LEVEL = 0.05
#: Porter–Thomas, trained weights: the vectors below the top 10 count as random when at most this
#: fraction is rejected (twice the test level), and the top 10 deviate when their rejection rate
#: exceeds the rest's by at least this much (one more rejected vector in ten).
PT_REST_MAX = 0.10
PT_TOP_EXCESS = 0.10
#: Péché check: at the largest N the largest eigenvalue should lie within this relative distance
#: of the limit of eq. (1.8) of [3]_ for every theta.
PECHE_RELATIVE = 0.05


@dataclass(frozen=True)
class Verdict:
    """One check's outcome: ``kind`` (one of "reproduced", "partly", "not reproduced", "not
    comparable", "not run") and the reason shown after it (empty for "reproduced")."""

    kind: str
    why: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def text(self) -> str:
        if not self.why:
            return self.kind
        return f"{self.kind} ({self.why})" if self.kind == "reproduced" else f"{self.kind}: {self.why}"


def combine_verdicts(named: Sequence[tuple[str, Verdict]]) -> Verdict:
    """A paper's verdict from its checks' (name, verdict) pairs.

    "reproduced" when every check that ran reproduced; "not reproduced" when none did (none
    reproduced nor partly); "partly" otherwise. Checks not run or not comparable are named in the
    reason but do not count; when no check ran, the result is "not run".
    """
    ran = [(name, v) for name, v in named if v.kind in ("reproduced", "partly", "not reproduced")]
    idle = [name for name, v in named if v.kind in ("not run", "not comparable")]
    tail = f"; {', '.join(idle)} not run or not comparable" if idle else ""
    if not ran:
        return Verdict("not run", f"no check of this paper ran ({', '.join(idle)})" if idle else "no check ran")
    good = [name for name, v in ran if v.kind == "reproduced"]
    half = [name for name, v in ran if v.kind == "partly"]
    bad = [name for name, v in ran if v.kind == "not reproduced"]
    if len(good) == len(ran):
        return Verdict("reproduced", tail.lstrip("; ")) if tail else Verdict("reproduced")
    if not good and not half:
        return Verdict("not reproduced", f"{', '.join(bad)}{tail}")  # e.g. "batch size; Table 2 not run ..."
    parts = ([f"{', '.join(good)} reproduced"] if good else []) + ([f"{', '.join(half)} partly"] if half else []) \
        + ([f"{', '.join(bad)} not reproduced"] if bad else [])
    return Verdict("partly", "; ".join(parts) + tail)


def rejections_by_chance(rejected: int, tests: int, level: float = TEST_LEVEL) -> float:
    """Probability that ``tests`` independent tests at ``level`` reject at least ``rejected`` times
    when every null hypothesis holds (binomial upper tail).

    .. math::

        P(X \\ge k) = \\sum_{j=k}^{n} \\binom{n}{j} \\ell^j (1 - \\ell)^{n-j},
        \\qquad X \\sim \\mathrm{Binomial}(n, \\ell).

    A value of at least ``level`` means the rejections are what chance alone gives.
    """
    if tests < 0 or rejected < 0 or rejected > tests:
        raise ValueError(f"need 0 <= rejected <= tests, got rejected={rejected!r}, tests={tests!r}")
    return float(stats.binom.sf(rejected - 1, tests, level))


#: How the trained weights compare with one control over seeds (:func:`control_outcome`).
CONTROL_OUTCOMES = ("trained higher", "control higher", "not distinguished")


def paired_interval(mean: float, sd: float, n: int, confidence: float = CONTROL_CONFIDENCE) -> tuple[float, float]:
    """Two-sided Student-t interval of a mean of ``n`` paired differences with sample SD ``sd``.

    .. math:: \\bar d \\pm t_{(1 + c)/2,\\, n - 1}\\, s_d / \\sqrt n

    (NaN, NaN) for fewer than 2 pairs or a missing mean or SD.
    """
    if not (n >= 2 and math.isfinite(mean) and math.isfinite(sd)):
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, int(n) - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def control_outcome(mean: float, sd: float, n: int) -> str:
    """One of :data:`CONTROL_OUTCOMES` for the paired advantage (trained r − control r) over seeds:
    "trained higher" when its :data:`CONTROL_CONFIDENCE` interval (:func:`paired_interval`) lies above
    0, "control higher" when it lies below 0, "not distinguished" otherwise (one seed included)."""
    low, high = paired_interval(mean, sd, n)
    if low > 0:
        return CONTROL_OUTCOMES[0]
    if high < 0:
        return CONTROL_OUTCOMES[1]
    return CONTROL_OUTCOMES[2]


def correlation_verdict(r: float, controls: Mapping[str, str]) -> Verdict:
    """Fig. 2 of [1]_ for one model: the mean Pearson r of the implied Ave_w curve and the keep-top-s
    accuracy, and how it compares with the same r of each control (``controls``: control name ->
    :func:`control_outcome`).

    "reproduced" when r >= :data:`R_REPRODUCED` and the trained weights are higher than every
    control over seeds; "not reproduced" when r <= 0 or some control is higher over seeds (the
    correlation is then no property of the trained weights); "partly" otherwise: r positive but below
    :data:`R_REPRODUCED`, or a control not distinguished from the trained weights (or none computed).
    """
    if r <= 0:
        return Verdict("not reproduced", "r ≤ 0")
    higher = [name for name, outcome in controls.items() if outcome == CONTROL_OUTCOMES[1]]
    if higher:
        plural = len(higher) > 1
        return Verdict("not reproduced", f"the {', '.join(higher)} control{'s' if plural else ''} "
                                         f"correlate{'' if plural else 's'} better than the trained weights over seeds")
    tied = [name for name, outcome in controls.items() if outcome != CONTROL_OUTCOMES[0]]
    if r >= R_REPRODUCED and controls and not tied:
        return Verdict("reproduced")
    reasons = [] if r >= R_REPRODUCED else [f"positive but below {R_REPRODUCED}"]
    if not controls:
        reasons.append("no control computed")
    elif tied:
        reasons.append(f"not distinguished from the {', '.join(tied)} control{'s' if len(tied) > 1 else ''} "
                       "over seeds")
    return Verdict("partly", "; ".join(reasons))


def gap_verdict(largest: float, mean: float) -> Verdict:
    """BEMA vs GB Ave_w (Table 2 of [1]_) from the gaps paired by seed: "reproduced" when the largest
    is at most :data:`AVEW_GAP`, "partly" when the mean is, "not reproduced" otherwise."""
    if largest <= AVEW_GAP:
        return Verdict("reproduced")
    if mean <= AVEW_GAP:
        return Verdict("partly", f"mean paired gap {mean:.3f}, largest {largest:.3f}")
    return Verdict("not reproduced", f"mean paired gap {mean:.3f} > {AVEW_GAP}")


def lowrank_verdict(dense: float, rule: float) -> Verdict:
    """Sec. 4 of [1]_ for one model: the accuracy of the network truncated per layer at the s-hat of
    the method with the higher Ave_w (``rule``) against the dense network's (``dense``), with
    tolerance :data:`LOWRANK_ACCURACY_DROP`."""
    loss = dense - rule
    if loss <= LOWRANK_ACCURACY_DROP:
        return Verdict("reproduced")
    return Verdict("not reproduced", f"the per-layer rule loses {loss:.3f} of the dense accuracy "
                                     f"(rule: at most {LOWRANK_ACCURACY_DROP})")


def growth_verdict(kappa: float, low: float, high: float) -> Verdict:
    """Assumption 2 of [3]_ (r(N) → ∞ and r(N) = o(N), i.e. 0 < κ < 1 for r = c N^κ) for one fit of
    the growth law, judged by the interval [low, high] of κ (the count model of
    :func:`rmtweights.sweeps.growth_law.fit_growth_law`), never by the point estimate alone:
    "reproduced" when the interval lies inside (0, 1), "not reproduced" when it lies outside, and
    "partly" (κ in (0, 1)) or "not comparable" (κ outside) when the interval is too wide to decide.
    """
    if 0 < low and high < 1:
        return Verdict("reproduced")
    if high <= 0 or low >= 1:
        return Verdict("not reproduced", "κ and its interval outside (0, 1)")
    undecided = f"its interval [{low:.2f}, {high:.2f}] is too wide to decide (more widths or seeds)"
    if 0 < kappa < 1:
        return Verdict("partly", f"κ in (0, 1) but {undecided}")
    return Verdict("not comparable", f"κ outside (0, 1) but {undecided}")
