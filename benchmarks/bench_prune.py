"""Benchmark: keep-top-s accuracy curve, naive (whole network per s) vs fast (rank-one updates).

For mlp fc2 and lenet conv2 (spatial reshape) on Fashion-MNIST's 10k test images, times both
methods of :func:`rmtweights.prune.keep_top_s_accuracy` over s = 1..k, k = 20 % of min(n, m)
(the range of Fig. 2 / the correlation of Sec. 4 of paper 000), in the same run, and prints the
ratio. Models are randomly (Glorot) initialised: the work, hence the speed, does not depend on
training. Both curves are compared too (they must agree to within one test sample).

Run:  PYTHONPATH=src .venv/bin/python benchmarks/bench_prune.py [--device cpu|cuda] [--threads N] [--paper-widths]

Wall-clock seconds; the ratio is measured within one run (same machine state for both methods as
far as a shared machine allows). The SVD of the layer is part of both timings.
"""

from __future__ import annotations

import argparse
import time

import torch

from rmtweights import data, prune
from rmtweights.models import build_model

CASES = {  # model, layer, build_model kwargs
    "default": [("mlp", "fc2", {}), ("lenet", "conv2", {})],
    # widths matching Table 2 of paper 000 (lenet conv2 min(n, m) = 250, see rmtweights.models)
    "paper": [("lenet", "conv2", {"filters": (50, 50), "fc": (500,)})],
}


def _test_images(device: str):
    try:
        splits = data.load_dataset("fashion_mnist", device=device)
        return splits.test_x, splits.test_y, splits.input_shape, "Fashion-MNIST test set"
    except data.DatasetNotFoundError:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(10_000, 1, 28, 28, generator=gen).to(device)
        y = torch.randint(0, 10, (10_000,), generator=gen).to(device)
        print("NOTE: Fashion-MNIST not found; using 10k synthetic Gaussian images of shape 1x28x28")
        return x, y, (1, 28, 28), "synthetic 10k images"


def _timed(fn, device: str):
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--n-images", type=int, default=None, help="use only the first N test images")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steadier on a shared machine)")
    parser.add_argument("--paper-widths", action="store_true", help="also lenet with Table 2 widths (50, 50)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y, input_shape, source = _test_images(args.device)
    if args.n_images is not None:
        x, y = x[: args.n_images], y[: args.n_images]
    print(f"data: {source}, {len(x)} images; device {args.device}; torch threads {torch.get_num_threads()}")
    print("models: Glorot-random initialisation (speed does not depend on training)")
    cases = CASES["default"] + (CASES["paper"] if args.paper_widths else [])
    header = (f"{'model':<8} {'layer':<6} {'widths':<24} {'min(n,m)':>8} {'k':>4} {'naive s':>9} {'fast s':>8} "
              f"{'ratio':>6} {'max|dn_correct|':>15}")
    print(header)
    for name, layer, kwargs in cases:
        gen = torch.Generator().manual_seed(0)
        model = build_model(name, input_shape, generator=gen, **kwargs).to(args.device)
        r = prune.max_rank(model.get_submodule(layer))
        k = max(1, round(0.2 * r))  # 20 % of min(n, m), Sec. 4 of paper 000
        s_values = range(1, k + 1)
        run = lambda method: prune.keep_top_s_accuracy(  # noqa: E731
            model, layer, x, y, s_values, method=method, batch_size=args.batch_size
        )
        prune.keep_top_s_accuracy(model, layer, x[:1000], y[:1000], [1, 2])  # warm-up (allocations, kernels)
        naive, t_naive = _timed(lambda: run("naive"), args.device)
        fast, t_fast = _timed(lambda: run("fast"), args.device)
        diff = int((fast["n_correct"] - naive["n_correct"]).abs().max())
        widths = str(kwargs) if kwargs else "defaults"
        print(f"{name:<8} {layer:<6} {widths:<24} {r:>8} {k:>4} {t_naive:>9.2f} {t_fast:>8.2f} "
              f"{t_naive / t_fast:>6.1f} {diff:>15}")


if __name__ == "__main__":
    main()
