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

from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

__all__ = [
    "KINDS",
    "Verdict",
    "combine_verdicts",
    "rejections_by_chance",
    "correlation_verdict",
    "growth_verdict",
    "R_REPRODUCED",
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
#: Our s-hat / min(n, m) agrees with Table 2 of [1]_ when within this factor of the paper's
#: (s-hat depends on the training recipe; the check asks for the same order of magnitude).
SHAT_FACTOR = 2.0
#: Table 2 of [1]_: "Ave_w takes similar values regardless of whether BEMA or Gaussian broadening";
#: its largest BEMA–GB gap is 0.045 (LeNet Conv2D_2, MNIST), so gaps up to 0.05 agree with it.
AVEW_GAP = 0.05
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


def correlation_verdict(r: float) -> Verdict:
    """Fig. 2 of [1]_ for one model: the mean Pearson r of the implied Ave_w curve and the
    keep-top-s accuracy against :data:`R_REPRODUCED`."""
    if r >= R_REPRODUCED:
        return Verdict("reproduced")
    if r > 0:
        return Verdict("partly", f"positive but below {R_REPRODUCED}")
    return Verdict("not reproduced", "r ≤ 0")


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
