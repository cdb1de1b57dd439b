"""How much of analyze_matrix is the SVD? (target: everything else < 10 % of the SVD's time)

Times, on one float32 n x m Gaussian matrix with a few spikes (default 4096 x 9216, the size of a
large AlexNet-style layer):

* ``layer_spectrum(W)``: the decomposition ``analyze_matrix`` makes (float64 Gram eigenvalues,
  :mod:`rmtweights.spectrum`);
* ``analyze_matrix(W, method)`` for BEMA and Gaussian broadening (SVD included);
* ``analyze_spectrum(sv, n, m, method)`` on the precomputed singular values (everything else);
* phi-hat for the spikes: the closed form (``phi_hat``) against eq. (4) evaluated literally
  (``phi_hat_numeric``: quadrature + root finding per spike), the obvious alternative.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_core.py [--n 4096 --m 9216 --repeats 1]``.
BLAS threads follow the environment (``OPENBLAS_NUM_THREADS``); the header prints what was used.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from collections.abc import Callable

import numpy as np

from rmtweights.analyze import analyze_spectrum
from rmtweights.api import analyze_matrix
from rmtweights.spectrum import layer_spectrum
from rmtweights.rmt.bbp import phi_hat, phi_hat_numeric


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Smallest wall time of ``repeats`` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def make_matrix(n: int, m: int, seed: int = 0) -> np.ndarray:
    """float32 n x m: N(0, 0.05^2) noise plus five spikes of gamma size 2..6 x sigma."""
    rng = np.random.default_rng(seed)
    sigma = 0.05
    big = max(n, m)
    w = rng.standard_normal((n, m), dtype=np.float32) * np.float32(sigma)
    left = np.linalg.qr(rng.standard_normal((n, 5)))[0]
    right = np.linalg.qr(rng.standard_normal((m, 5)))[0]
    thetas = sigma * np.arange(6.0, 1.0, -1.0) * math.sqrt(big)  # gamma units -> raw
    w += ((left * thetas) @ right.T).astype(np.float32)
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--m", type=int, default=9216)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs per row")
    args = parser.parse_args()

    w = make_matrix(args.n, args.m)
    n, m = max(w.shape), min(w.shape)
    print(f"matrix {args.n} x {args.m} float32 (n={n}, m={m}); python {platform.python_version()}, "
          f"numpy {np.__version__}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"cpus={os.cpu_count()}, load={os.getloadavg()[0]:.1f}; best of {args.repeats}")

    t_svd, result = best_of(lambda: layer_spectrum(w if w.shape[0] >= w.shape[1] else w.T, min_dim=0), args.repeats)
    sv = result.sv
    rows = [("spectrum: layer_spectrum (float64 Gram eigenvalues)", t_svd)]
    results = {}
    for method in ("bema", "gb", "modified_mp"):
        t_spec, res = best_of(lambda: analyze_spectrum(sv, n, m, method), args.repeats)
        results[method] = res
        rows.append((f"analyze_spectrum(sv, method={method!r})", t_spec))
    for method in ("bema", "gb"):
        t_full, res = best_of(lambda: analyze_matrix(w, method), args.repeats)
        rows.append((f"analyze_matrix(W, method={method!r})", t_full))

    res = results["bema"]
    spikes = res.gammas[: max(res.s_hat, 1)]
    t_closed, closed = best_of(lambda: phi_hat(spikes, res.sigma, res.q), max(args.repeats, 20))
    t_numeric, numeric = best_of(lambda: phi_hat_numeric(spikes, res.sigma, res.q), args.repeats)
    assert np.allclose(closed, numeric, atol=1e-9)

    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{'step':<{width}}{'seconds':>10}{'/ SVD':>10}")
    for name, seconds in rows:
        print(f"{name:<{width}}{seconds:>10.3f}{seconds / t_svd:>10.1%}")
    print(f"\nphi-hat for s_hat = {res.s_hat} spikes: closed form {t_closed * 1e6:.1f} us, eq. (4) by "
          f"quadrature {t_numeric * 1e3:.1f} ms (x{t_numeric / t_closed:.0f}); max |diff| "
          f"{np.max(np.abs(closed - numeric)):.1e}")
    for method, r in results.items():
        print(f"{method:>7}: sigma={r.sigma:.5f} (true 0.05), gamma_+={r.gamma_plus:.5f}, s_hat={r.s_hat} "
              f"(true 5), Ave_w={r.ave_w:.4f}, status={r.status}")
    worst = max(seconds for name, seconds in rows if name.startswith("analyze_spectrum"))
    verdict = "meets" if worst < 0.1 * t_svd else "MISSES"
    print(f"\nnon-SVD work (slowest method) = {worst / t_svd:.1%} of the SVD: {verdict} the < 10 % target")


if __name__ == "__main__":
    main()
