"""Calibrate the cost model of ``rmtweights plan`` (:mod:`rmtweights.plan_report`) on this machine.

Measures, with the thread count the workflow's training rules use (2):

* the multiply-add rate of SGD training at batch 64 for the default MLP (784-1024-512-512-10) and the widened
  LeNet of paper 000 (50, 50 filters, FC 500), as ``3 x forward MACs x images / seconds``;
* the rate of the float64 Gram matrix and its eigenvalues (``n m^2 + m^3/3`` per layer) on one thread,

and prints each beside the constant the cost model assumes (``CPU_MACS_PER_SECOND``, ``CPU_FLOPS_EIGEN``) with
their ratio. Rerun it on the machine that will run a study to scale the estimate:
``python benchmarks/bench_plan_costs.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from rmtweights import plan_report
from rmtweights.models import build_model


def training_rate(arch: str, kwargs: dict, batches: int, threads: int) -> float:
    """Multiply-adds per second of forward + backward + SGD step on random images, batch 64."""
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    model = build_model(arch, (1, 28, 28), 10, generator=generator, **kwargs)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batches, 64, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (batches, 64), generator=generator)
    macs = plan_report._macs(model, (1, 28, 28))
    for i in range(3):  # warm-up
        torch.nn.functional.cross_entropy(model(x[i]), y[i]).backward()
    start = time.perf_counter()
    for i in range(batches):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i]), y[i]).backward()
        optimiser.step()
    return 3 * macs * 64 * batches / (time.perf_counter() - start)


def eigen_rate(shapes: list[tuple[int, int]], threads: int) -> float:
    """(n m^2 + m^3/3) per second of the float64 Gram matrix and its eigenvalues (numpy/LAPACK)."""
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    work, seconds = 0.0, 0.0
    for n, m in shapes:
        a = rng.standard_normal((n, m))
        start = time.perf_counter()
        np.linalg.eigvalsh(a.T @ a)
        seconds += time.perf_counter() - start
        work += n * m * m + m ** 3 / 3
    return work / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="training batches timed per model")
    args = parser.parse_args()
    rates = {name: training_rate(arch, kwargs, args.batches, 2)
             for name, arch, kwargs in (("MLP 1024-512-512", "mlp", {"hidden": (1024, 512, 512)}),
                                        ("LeNet 50-50-500", "lenet", {"filters": (50, 50), "fc": (500,)}))}
    assumed = plan_report.CPU_MACS_PER_SECOND
    print("training, 2 threads, batch 64 (MAC/s):")
    for name, rate in rates.items():
        print(f"  {name:<18} {rate:.3g}   assumed {assumed:.3g}   measured / assumed = {rate / assumed:.2f}")
    rate = eigen_rate([(1024, 512), (2048, 1024), (2048, 2048)], 1)
    print("Gram eigenvalues, 1 thread (multiply-adds/s):")
    print(f"  {'float64':<18} {rate:.3g}   assumed {plan_report.CPU_FLOPS_EIGEN:.3g}   "
          f"measured / assumed = {rate / plan_report.CPU_FLOPS_EIGEN:.2f}")


if __name__ == "__main__":
    main()
