"""Benchmark: CSN heavy-tail test, today's fit_heavy_tail vs the powerlaw-based path it replaced.

In one run, one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1, set before numpy is imported):

1. **Per layer, new vs old.** Seeded Gaussian matrices whose largest singular values are replaced
   by a planted Pareto tail (alpha = 2.5), 384 singular values (384 x 1536, the shape of a small
   transformer's MLP layer) and 4096 (two 2048 x 4096 blocks), ``fit_heavy_tail`` with
   ``n_bootstrap`` 0 and 50, against the old path: the same function with its likelihood-ratio
   tests done by ``powerlaw.Fit(...).distribution_compare`` (Nelder-Mead fits of the log-normal and
   truncated power law) and its bootstrap by one full x_min search per replicate. Prints both times
   per layer, their ratio, and whether the two rows agree (x_min, alpha, gof_p, verdict identical;
   the largest difference of the likelihood-ratio statistics; powerlaw's numbers carry its
   optimiser's tolerance).
2. **The x_min search** on a 4096-value spectrum (log-normal bulk, Pareto tail of 500 values with
   alpha = 3): the whole row (``n_bootstrap=0``), our bounded search (200 candidates), our exact
   search (every value) and ``powerlaw.Fit`` (every value, O(n^2), exponent range (1, inf)), their
   ratios, whether both exact searches pick the same x_min, and the bootstrap's cost per replicate
   with its extrapolation to 1000 replicates.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/bench_heavytail.py [--repeats 5]

Wall-clock times, best of ``--repeats`` (the old path: best of 2); ratios are taken within the run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy / scipy are imported

import argparse  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from unittest import mock  # noqa: E402

import numpy as np  # noqa: E402

from bench_core import best_of as _timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
from rmtweights.rmt import heavytail  # noqa: E402


# --------------------------------------------------------------------------------------------------
# the old path (kept here only, as the baseline)


@functools.cache
def _reference():
    """The previous implementation, as the tests keep it (tests/unit/test_heavytail.py): powerlaw's
    likelihood-ratio tests and one full x_min search per bootstrap replicate. One copy, shared."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tests" / "unit" / "test_heavytail.py"
    spec = importlib.util.spec_from_file_location("heavytail_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def powerlaw_likelihood_ratios(x_sorted: np.ndarray, x_min: float) -> dict[str, tuple[float, float]]:
    """The previous ``_likelihood_ratios``: ``powerlaw`` 2.0.0 ``distribution_compare``."""
    return _reference()._powerlaw_likelihood_ratios(x_sorted, x_min)[0]


def bootstrap_one_by_one(*args, max_bootstrap=None, level=0.1):
    """The previous ``_bootstrap_gof``: one synthetic set and one full x_min search at a time, one round
    (the rows below ask the new path for one round too: ``max_bootstrap=n_bootstrap``)."""
    p, used = _reference()._bootstrap_one_by_one(*args)
    return p, (math.sqrt(p * (1.0 - p) / used) if used else math.nan), used


@contextlib.contextmanager
def old_path() -> Iterator[None]:
    """``heavytail.fit_heavy_tail`` as it was: powerlaw's LR tests, one search per bootstrap replicate."""
    with mock.patch.object(heavytail, "_likelihood_ratios", powerlaw_likelihood_ratios), \
            mock.patch.object(heavytail, "_bootstrap_gof", bootstrap_one_by_one):
        yield


# --------------------------------------------------------------------------------------------------
# spectra


def planted_spectrum(blocks: int, m: int, n: int, seed: int, k: int) -> np.ndarray:
    """Singular values of ``blocks`` seeded Gaussian m x n matrices (m <= n), the k largest replaced
    by a Pareto tail with alpha = 2.5 above the k-th largest."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(blocks):
        w = rng.standard_normal((m, n)) / math.sqrt(n)
        parts.append(np.sqrt(np.clip(np.linalg.eigvalsh(w @ w.T), 0.0, None)))
    s = np.sort(np.concatenate(parts))
    s[-k:] = s[-k] * (1.0 - rng.random(k)) ** (-1.0 / 1.5)
    return s


def lognormal_pareto_spectrum(seed: int = 0) -> np.ndarray:
    """4096 values: a log-normal bulk of 3596 values below 1 and a Pareto tail (alpha = 3) of 500 above."""
    rng = np.random.default_rng(seed)
    body = np.exp(rng.normal(-0.7, 0.25, 3596))
    body = body[body < 1.0]
    body = np.concatenate([body, np.exp(rng.normal(-0.7, 0.25, 3596 - body.size)).clip(max=0.999)])
    tail = (1.0 - rng.random(500)) ** (-1.0 / (3.0 - 1.0))  # Pareto, alpha = 3, x >= 1
    return np.concatenate([body, tail])


# --------------------------------------------------------------------------------------------------


def _same(a: object, b: object) -> bool:
    """Equal, or both NaN."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def per_layer(repeats: int) -> None:
    print("1. per layer: fit_heavy_tail now vs the powerlaw-based path (ms per layer, same run)")
    print(f"   {'spectrum':34s} {'n_boot':>6s} {'old ms':>9s} {'new ms':>8s} {'ratio':>7s}  rows")
    spectra = {
        "384 sv (384x1536, 40 planted)": planted_spectrum(1, 384, 1536, seed=1, k=40),
        "4096 sv (2 x 2048x4096, 300 planted)": planted_spectrum(2, 2048, 4096, seed=2, k=300),
    }
    for label, sv in spectra.items():
        for n_boot in (0, 50):
            one_round = dict(n_bootstrap=n_boot, max_bootstrap=n_boot)  # the old path draws one round
            t_new, new = _timed(lambda: heavytail.fit_heavy_tail(sv, **one_round), repeats)
            with old_path():
                t_old, old = _timed(lambda: heavytail.fit_heavy_tail(sv, **one_round), 2)
            same = all(_same(new[k], old[k])
                       for k in ("x_min", "n_tail", "alpha_sv", "gof_p", "n_bootstrap", "verdict"))
            d_lr = max(abs(new[f"lr_{a}"] - old[f"lr_{a}"]) for a in heavytail.ALTERNATIVES)
            d_p = max(abs(new[f"lr_p_{a}"] - old[f"lr_p_{a}"]) for a in heavytail.ALTERNATIVES)
            print(f"   {label:34s} {n_boot:6d} {t_old * 1e3:9.1f} {t_new * 1e3:8.2f} {t_old / t_new:6.0f}x  "
                  f"x_min/alpha/gof_p/verdict same: {same} ({new['verdict']}, n_tail={new['n_tail']}); "
                  f"max |d lr| {d_lr:.1e}, max |d lr_p| {d_p:.1e}")


def xmin_search(repeats: int) -> None:
    import powerlaw

    sv = lognormal_pareto_spectrum()
    xs = np.sort(sv)
    print(f"\n2. x_min search: {sv.size} values (bulk < 1, Pareto tail alpha=3 of 500 values above 1)")

    t_row, row = _timed(lambda: heavytail.fit_heavy_tail(sv, n_bootstrap=0), repeats)
    print(f"   fit_heavy_tail(n_bootstrap=0), whole row  : {t_row:8.4f} s   (issue: < 5 s)")
    print(f"      x_min={row['x_min']:.4f} n_tail={row['n_tail']} alpha_sv={row['alpha_sv']:.3f} "
          f"verdict={row['verdict']} candidates={row['n_xmin_candidates']}")

    t_bounded, best_b = _timed(lambda: heavytail._best_xmin(xs, 10, 200), repeats)
    t_exact, best_e = _timed(lambda: heavytail._best_xmin(xs, 2, None), 1)

    def powerlaw_scan():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return powerlaw.Fit(sv, discrete=False, verbose=0, parameter_ranges={"alpha": [1.0, None]})

    t_pl, fit = _timed(powerlaw_scan, 1)
    print(f"   x_min search, ours bounded (<=200 cand.)  : {t_bounded:8.4f} s   alpha={best_b[1]:.4f} "
          f"x_min={xs[best_b[0]]:.4f} D={best_b[2]:.5f}")
    print(f"   x_min search, ours exact (every value)    : {t_exact:8.4f} s   alpha={best_e[1]:.4f} "
          f"x_min={xs[best_e[0]]:.4f} D={best_e[2]:.5f}")
    print(f"   x_min search, powerlaw.Fit (every value)  : {t_pl:8.3f} s   alpha={fit.power_law.alpha:.4f} "
          f"x_min={fit.xmin:.4f} D={fit.power_law.D:.5f}")
    print(f"   ratio powerlaw.Fit / ours bounded         : {t_pl / t_bounded:8.0f} x")
    print(f"   ratio powerlaw.Fit / ours exact           : {t_pl / t_exact:8.1f} x")
    print(f"   ratio powerlaw.Fit / fit_heavy_tail row   : {t_pl / t_row:8.0f} x")
    print(f"   same x_min, ours exact vs powerlaw        : {xs[best_e[0]] == fit.xmin}")

    t_boot, row_b = _timed(lambda: heavytail.fit_heavy_tail(sv, n_bootstrap=50, max_bootstrap=50, compare=False),
                           repeats)
    t_plain, _ = _timed(lambda: heavytail.fit_heavy_tail(sv, n_bootstrap=0, compare=False), repeats)
    with old_path():
        t_boot_old, _ = _timed(lambda: heavytail.fit_heavy_tail(sv, n_bootstrap=50, max_bootstrap=50, compare=False),
                               1)
    per, per_old = (t_boot - t_plain) / 50, (t_boot_old - t_plain) / 50
    print(f"   bootstrap: {per * 1e3:.2f} ms per replicate -> n_bootstrap=1000 in ~{1000 * per:.1f} s "
          f"(gof_p={row_b['gof_p']:.2f} with 50); one search per replicate: {per_old * 1e3:.2f} ms "
          f"({per_old / per:.0f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs of the new path")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"numpy {np.__version__}; OMP/OPENBLAS/MKL_NUM_THREADS=1")
    # warm-up: lazy imports (scipy.special, powerlaw and matplotlib) outside the timings
    warm = planted_spectrum(1, 64, 128, seed=0, k=8)
    heavytail.fit_heavy_tail(warm, n_bootstrap=2)
    with old_path():
        heavytail.fit_heavy_tail(warm, n_bootstrap=2)
    per_layer(args.repeats)
    xmin_search(args.repeats)


if __name__ == "__main__":
    main()
