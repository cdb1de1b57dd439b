"""Benchmark: ``rmtweights.spectrum.singular_values`` against the candidate paths, one thread.

Workload A: the 37 weight matrices of a small transformer (25 x 384x384, 6 x 384x1536,
6 x 1536x384), float32, each Glorot-scaled Gaussian noise N(0, 2/(n+m)) plus a planted rank-4
signal (singular values 4, 3, 2.5, 2 x the noise edge). Workload B: a few large shapes (default
4096x4096 and 4096x11008), one matrix each, same construction.

Rows (all on a tall orientation, n >= m, of the same float32 matrices):

* ``gesdd-f64``: LAPACK gesdd values only on a float64 copy (what the library did before);
* ``gesdd-f32``: the same in float32;
* ``gram-f64 syrk+<driver>``: G = A^T A in float64 by BLAS dsyrk, eigenvalues by
  ``scipy.linalg.eigh(eigvals_only=True, driver=...)`` for each driver ev / evd / evr / evx, and
  ``numpy a.T@a + eigvalsh`` (numpy's own route);
* ``gram-f32 (reference only)``: the same Gram path in float32, never a candidate (see below);
* ``singular_values``: the library function (values only), and ``singular_values(vectors=True)``
  next to gesdd-f64 / gesdd-f32 / Gram eigh with vectors; ``singular_values(device='cpu')`` runs the
  torch code path on the CPU (torch's MKL), for information.

For each: best of ``--repeats`` after one warm-up round (workload B: ``--large-repeats`` rounds, the
first one timed too; rounds interleave the methods, so load drift on a shared machine hits all of
them alike), the ratio to the floor (the fastest *accurate* raw path: every singular value within
1e-5 x s_max of float64 gesdd) and to float64 gesdd, and the max error vs float64 gesdd in units
of s_max. For the vector rows the error column is the largest entrywise difference of |v_i| from
gesdd's over the vectors whose relative eigen-gap exceeds 1e-3, and "accurate" means <= 1e-6.
The float32 Gram row is shown for reference and never counts as the floor: its error bound,
sqrt(u32) s_max up to shape factors, is far above 1e-5 s_max (measured 6e-5 on workload A), even
where one matrix with a strong spike happens to come out closer (its "accurate" column is the
measurement on this run only).

Run (one BLAS thread is forced below, before numpy is imported):

    PYTHONPATH=src .venv/bin/python benchmarks/bench_spectrum.py [--repeats 3] [--large-repeats 1]
        [--large 4096x4096,4096x11008]      # --large '' skips workload B
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy / scipy / torch are imported

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402
from scipy.linalg import blas  # noqa: E402

from rmtweights.spectrum import singular_values  # noqa: E402

try:  # also pins pools that ignore the environment (if threadpoolctl is installed)
    from threadpoolctl import threadpool_limits

    _LIMITS = threadpool_limits(1)
except ImportError:
    _LIMITS = None
try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None

REQUIRED = 1e-5  # accuracy requirement on singular values, units of s_max
REQUIRED_VECTORS = 1e-6  # on |entries| of well-separated right vectors (Porter-Thomas statistics)
TRANSFORMER = [(384, 384)] * 25 + [(384, 1536)] * 6 + [(1536, 384)] * 6


def make_layer(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """float32 n x m: Glorot-scaled Gaussian noise plus a planted rank-4 signal above the MP edge."""
    sigma = math.sqrt(2.0 / (n + m))
    noise = rng.standard_normal((n, m), dtype=np.float32) * np.float32(sigma)
    edge = sigma * (math.sqrt(n) + math.sqrt(m))  # largest singular value of the noise
    u = np.linalg.qr(rng.standard_normal((n, 4)))[0]
    v = np.linalg.qr(rng.standard_normal((m, 4)))[0]
    signal = (u * (edge * np.array([4.0, 3.0, 2.5, 2.0]))) @ v.T
    return (noise + signal.astype(np.float32)).astype(np.float32)


def _tall(w: np.ndarray) -> np.ndarray:
    return w if w.shape[0] >= w.shape[1] else w.T


def _syrk64(w: np.ndarray) -> np.ndarray:
    return blas.dsyrk(1.0, np.asarray(_tall(w), dtype=np.float64, order="F"), trans=1)


def _syrk32(w: np.ndarray) -> np.ndarray:
    return blas.ssyrk(1.0, np.asarray(_tall(w), dtype=np.float32, order="F"), trans=1)


def _values_from_gram(lam: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(lam[::-1], 0.0))


def _gesdd(w: np.ndarray, dtype, vectors: bool = False):
    work = np.array(_tall(w), dtype=dtype, order="F", copy=True)
    if not vectors:
        return scipy.linalg.svd(work, compute_uv=False, overwrite_a=True, check_finite=False,
                                lapack_driver="gesdd")
    _, s, vt = scipy.linalg.svd(work, full_matrices=False, overwrite_a=True, check_finite=False,
                                lapack_driver="gesdd")
    return s, vt.T


def _gram_eigh(driver: str, vectors: bool = False):
    def run(w):
        g = _syrk64(w)
        if not vectors:
            return _values_from_gram(scipy.linalg.eigh(g, lower=False, eigvals_only=True, driver=driver,
                                                       overwrite_a=True, check_finite=False))
        lam, vec = scipy.linalg.eigh(g, lower=False, driver=driver, overwrite_a=True, check_finite=False)
        return _values_from_gram(lam), vec[:, ::-1]
    return run


def _numpy_gram(w):
    a = np.asarray(_tall(w), dtype=np.float64)
    return _values_from_gram(np.linalg.eigvalsh(a.T @ a))


def _gram32(w):
    return _values_from_gram(scipy.linalg.eigh(_syrk32(w), lower=False, eigvals_only=True, driver="evd",
                                               overwrite_a=True, check_finite=False)).astype(np.float64)


def _ours(vectors: bool = False, device=None):
    def run(w):
        spec = singular_values(w, vectors=vectors, device=device)
        return (spec.sv, spec.right_vectors) if vectors else spec.sv
    return run


def value_methods(with_torch: bool) -> dict[str, tuple[Callable, bool]]:
    """name -> (function of one matrix, candidate for the floor)."""
    rows: dict[str, tuple[Callable, bool]] = {
        "gesdd-f64": (lambda w: _gesdd(w, np.float64), True),
        "gesdd-f32": (lambda w: _gesdd(w, np.float32), True),
    }
    for driver in ("ev", "evd", "evr", "evx"):
        rows[f"gram-f64 syrk+{driver}"] = (_gram_eigh(driver), True)
    rows["gram-f64 numpy a.T@a+eigvalsh"] = (_numpy_gram, True)
    # not a candidate: its error bound sqrt(u32 (sqrt(n) ||A||_F^2 + m s_max^2)) is ~1e-3 s_max
    rows["gram-f32 (reference only)"] = (_gram32, False)
    rows["singular_values"] = (_ours(), False)
    if with_torch:
        rows["singular_values(device='cpu') [torch]"] = (_ours(device="cpu"), False)
    return rows


def vector_methods() -> dict[str, tuple[Callable, bool]]:
    return {
        "V gesdd-f64": (lambda w: _gesdd(w, np.float64, vectors=True), True),
        "V gesdd-f32": (lambda w: _gesdd(w, np.float32, vectors=True), True),
        "V gram-f64 syrk+evd": (_gram_eigh("evd", vectors=True), True),
        "V gram-f64 syrk+evr": (_gram_eigh("evr", vectors=True), True),
        "V singular_values(vectors=True)": (_ours(vectors=True), False),
    }


def value_error(results: list, refs: list) -> float:
    """max_i |s_i - s_i^ref| / s_max^ref over all matrices."""
    return max(float(np.max(np.abs(np.asarray(r, dtype=np.float64) - s)) / s[0])
               for r, (s, _) in zip(results, refs))


def vector_error(results: list, refs: list) -> float:
    """max entrywise ||v_i| - |v_i^ref|| over vectors with relative eigen-gap > 1e-3."""
    worst = 0.0
    for (_, vec), (s, ref_v) in zip(results, refs):
        lam = s**2
        gaps = np.abs(lam[:, None] - lam[None, :]) + np.diag(np.full(lam.size, np.inf))
        keep = gaps.min(axis=1) / lam[0] > 1e-3
        worst = max(worst, float(np.max(np.abs(np.abs(vec[:, keep]) - np.abs(ref_v[:, keep])))))
    return worst


def run_workload(label: str, mats: list[np.ndarray], methods: dict, repeats: int, vectors: bool,
                 warmup: bool = True) -> None:
    """Rounds over all methods (the first is float64 gesdd, the reference); print the table.

    With ``warmup`` the first round only measures the errors and ``repeats`` timed rounds follow;
    without it (large matrices) the first round is also timed.
    """
    names = list(methods)
    best = dict.fromkeys(names, math.inf)
    errors: dict[str, float] = {}
    refs: list = []
    for round_ in range(repeats + 1 if warmup else repeats):
        for name in names:
            fn = methods[name][0]
            start = time.perf_counter()
            out = [fn(w) for w in mats]
            seconds = time.perf_counter() - start
            if round_ == 0:
                if not refs:  # the first method is float64 gesdd
                    refs = [r if vectors else (r, None) for r in out]
                errors[name] = vector_error(out, refs) if vectors else value_error(out, refs)
            if round_ > 0 or not warmup:
                best[name] = min(best[name], seconds)
    limit = REQUIRED_VECTORS if vectors else REQUIRED
    accurate = {n for n in names if methods[n][1] and errors[n] <= limit}
    floor_name = min(accurate, key=best.__getitem__)
    floor = best[floor_name]
    base = best["V gesdd-f64" if vectors else "gesdd-f64"]
    width = max(len(n) for n in names) + 2
    err_head = "max||v|-|v_ref||" if vectors else "max err/s_max"
    print(f"\n{label}: best of {repeats}{' after a warm-up' if warmup else ''}; accurate = error <= {limit:.0e}")
    print(f"{'method':<{width}}{'seconds':>9}{'/floor':>8}{'/gesdd64':>10}{err_head:>18}  accurate")
    for name in names:
        ok = "yes" if errors[name] <= limit else "NO"
        print(f"{name:<{width}}{best[name]:>9.3f}{best[name] / floor:>8.2f}{best[name] / base:>10.2f}"
              f"{errors[name]:>18.1e}  {ok}")
    ours = "V singular_values(vectors=True)" if vectors else "singular_values"
    ratio = best[ours] / floor
    verdict = "within" if ratio <= 1.2 else "NOT within"
    print(f"floor (fastest accurate raw path) = {floor_name} {floor:.3f} s; {ours} = {best[ours]:.3f} s "
          f"= {ratio:.2f} x floor: {verdict} 1.2x; {base / best[ours]:.2f}x faster than "
          f"{'V gesdd-f64' if vectors else 'gesdd-f64'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many rounds (workload A)")
    parser.add_argument("--large", default="4096x4096,4096x11008",
                        help="comma-separated NxM shapes for workload B ('' to skip)")
    parser.add_argument("--large-repeats", type=int, default=1, help="rounds for workload B")
    parser.add_argument("--large-vectors", action="store_true", help="also time vectors on workload B")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
          f"{', torch ' + torch.__version__ if torch is not None else ''}; "
          f"OMP/OPENBLAS/MKL_NUM_THREADS=1, threadpoolctl {'on' if _LIMITS is not None else 'not installed'}; "
          f"cpus={os.cpu_count()}, load={load:.2f} (shared machine: absolute times are noisy, "
          "ratios within one run are the result)")

    rng = np.random.default_rng(args.seed)
    mats = [make_layer(n, m, rng) for n, m in TRANSFORMER]
    run_workload("A: 37 transformer layers (25 x 384x384, 6 x 384x1536, 6 x 1536x384), float32, values",
                 mats, value_methods(torch is not None), args.repeats, vectors=False)
    run_workload("A: 37 transformer layers, values + right vectors", mats, vector_methods(),
                 args.repeats, vectors=True)

    for shape in filter(None, args.large.split(",")):
        n, m = (int(x) for x in shape.lower().split("x"))
        big = [make_layer(n, m, rng)]
        methods = value_methods(False)
        del methods["gram-f64 numpy a.T@a+eigvalsh"]  # the route of syrk+ev with a general product
        run_workload(f"B: one {n}x{m} float32 matrix, values", big, methods, args.large_repeats,
                     vectors=False, warmup=False)
        if args.large_vectors:
            run_workload(f"B: one {n}x{m} float32 matrix, values + right vectors", big, vector_methods(),
                         args.large_repeats, vectors=True, warmup=False)


if __name__ == "__main__":
    main()
