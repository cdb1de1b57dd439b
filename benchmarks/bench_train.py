"""Benchmark rmtweights.train against the obvious alternatives, measured in the same run.

1. Data loading: one epoch of ``mlp`` on Fashion-MNIST (batch 64, shuffled) fed by the in-memory
   loader as ``train.py`` runs it (the order of :func:`rmtweights.data.iterate_minibatches`, rows
   gathered from resident tensors with ``index_select``), by ``iterate_minibatches`` itself
   (advanced indexing ``x[idx]``), and by a plain ``torch.utils.data.DataLoader`` over a
   ``TensorDataset``; both the whole training step and the loader alone (no model) are timed.
2. Seed batching (issue 8): S seeds of ``spike_mlp`` (N = 200) and of ``mlp`` trained for one
   epoch by :func:`rmtweights.train_batched.train_seeds_batched` (one stacked model) vs
   :func:`rmtweights.train.train_model` called once per seed. Both write the same checkpoints
   and evaluate on the full test set after the epoch.

Run ``PYTHONPATH=src .venv/bin/python benchmarks/bench_train.py`` (add ``--quick`` for a
seconds-long smoke run). On a shared machine keep ``--threads 1``: OpenMP threads that wait
for cores taken by other jobs made single steps up to 20x slower in our runs, which would
measure the machine's load rather than the code.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from rmtweights import data as rdata
from rmtweights import train, train_batched, train_common


def load_fashion_mnist(n_train: int | None) -> rdata.DatasetSplits:
    """Fashion-MNIST from the Debian package, else synthetic data of the same size (with a note)."""
    try:
        splits = rdata.load_dataset("fashion_mnist")
        print(f"data: Fashion-MNIST ({splits.source})")
    except rdata.DatasetNotFoundError:
        print("data: NOTE Fashion-MNIST not found (Debian package dataset-fashion-mnist); "
              "using synthetic data of the same size (60000 + 10000 images, 1 x 28 x 28)")
        splits = rdata.load_dataset("synthetic", synthetic={"n_train": 60000, "n_test": 10000, "size": 28})
    if n_train is not None and n_train < len(splits.train_y):
        splits.train_x, splits.train_y = splits.train_x[:n_train], splits.train_y[:n_train]
    return splits


def time_loader_epoch(splits: rdata.DatasetSplits, batch_size: int, with_model: bool, loader: str,
                      seed: int = 0) -> float:
    """Seconds for one pass over the training set, optionally with an ``mlp`` SGD step per batch."""
    model = train_common.init_model("mlp", {}, splits.input_shape, splits.num_classes, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(seed)
    if loader == "memory":  # what train.py does: index batches, gathered with index_select
        batches = ((splits.train_x.index_select(0, idx), splits.train_y.index_select(0, idx))
                   for idx in train_common.index_batches(len(splits.train_y), batch_size, generator,
                                                         torch.device("cpu")))
    elif loader == "iterate":  # rmtweights.data.iterate_minibatches as it stands (advanced indexing)
        batches = rdata.iterate_minibatches(splits.train_x, splits.train_y, batch_size, shuffle=True,
                                            generator=generator)
    else:
        dataset = torch.utils.data.TensorDataset(splits.train_x, splits.train_y)
        batches = iter(torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                                   generator=generator))
    tic = time.perf_counter()
    for xb, yb in batches:
        if with_model:
            loss = train_common.scaled_cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - tic


def time_seeds(splits: rdata.DatasetSplits, model: str, kwargs: dict, seeds: list[int],
               config: train_common.TrainConfig, folder: Path) -> tuple[float, float]:
    """Seconds for one epoch of ``len(seeds)`` seeds: one after another, then batched."""
    tic = time.perf_counter()
    for seed in seeds:
        train.train_model(model, kwargs, splits, config, seed, folder / f"{model}-separate-{seed}",
                          device="cpu", log=None)
    separate = time.perf_counter() - tic
    tic = time.perf_counter()
    train_batched.train_seeds_batched(model, kwargs, splits, config, seeds,
                                      [folder / f"{model}-batched-{seed}" for seed in seeds], device="cpu", log=None)
    batched = time.perf_counter() - tic
    return separate, batched


def bench_loader(args: argparse.Namespace, batch: int) -> None:
    """Part 1: in-memory loader vs DataLoader."""
    n_loader = None if args.loader_steps is None else args.loader_steps * batch
    splits = load_fashion_mnist(n_loader)
    steps = -(-len(splits.train_y) // batch)
    print(f"\n[loader] mlp, {steps} minibatches ({'one full epoch' if n_loader is None else 'fixed count'})")
    time_loader_epoch(splits, batch, True, "memory")  # warm-up: allocator, lazy imports
    results: dict[tuple[bool, str], float] = {}
    for with_model, rounds in ((True, args.rounds), (False, 5)):
        for _ in range(rounds):  # alternate the variants, keep each one's fastest round (load noise)
            for loader in ("memory", "iterate", "dataloader"):
                seconds = time_loader_epoch(splits, batch, with_model, loader)
                results[with_model, loader] = min(seconds, results.get((with_model, loader), seconds))
    print(f"  in-memory = train.py's gather (index batches + index_select); "
          f"iterate = data.iterate_minibatches (x[idx]); best of {args.rounds} alternating rounds "
          f"(5 for loading only)")
    for with_model, label in ((True, "SGD step + loading"), (False, "loading only")):
        mem, it, dl = (results[with_model, k] for k in ("memory", "iterate", "dataloader"))
        print(f"  {label:19s} in-memory {mem:7.2f} s  iterate {it:7.2f} s  DataLoader {dl:7.2f} s   "
              f"ratio DataLoader/in-memory {dl / mem:6.2f}x  DataLoader/iterate {dl / it:6.2f}x")


def bench_seeds(args: argparse.Namespace, batch: int) -> None:
    """Part 2: seed-batched training vs one seed after another."""
    seeds = list(range(args.seeds))
    config = train_common.TrainConfig(epochs=1, batch_size=batch, lr=0.01)
    splits = load_fashion_mnist(args.seed_steps * batch)
    print(f"\n[seeds] S = {len(seeds)}, one epoch of {-(-len(splits.train_y) // batch)} minibatches per seed "
          f"({'the full epoch' if len(splits.train_y) >= 60000 else 'fixed count: a truncated training set'}), "
          f"evaluation on {len(splits.test_y)} test images, checkpoints written")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tiny = train_common.TrainConfig(epochs=1, batch_size=batch)
        warm = rdata.load_dataset("synthetic", synthetic={"n_train": 128, "n_test": 64})
        train_batched.train_seeds_batched("spike_mlp", {"width": 8}, warm, tiny, [0, 1],
                                          [folder / "w0", folder / "w1"], device="cpu",
                                          log=None)  # warm-up: vmap's one-off set-up
        for model, kwargs in (("spike_mlp", {"width": 200}), ("mlp", {})):
            if model not in args.models:
                continue
            separate, batched = time_seeds(splits, model, kwargs, seeds, config, folder)
            print(f"  {model:10s} {str(kwargs):15s} one after another {separate:8.2f} s   batched {batched:8.2f} s"
                  f"   ratio {separate / batched:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny variant: 30 minibatches, 3 seeds")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds S for the batching benchmark")
    parser.add_argument("--loader-steps", type=int, default=None,
                        help="minibatches for the loader benchmark (default: one full epoch, 938)")
    parser.add_argument("--seed-steps", type=int, default=300,
                        help="minibatches per seed for the batching benchmark (default 300; 938 = full epoch)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating rounds of the loader benchmark with the model (best round kept)")
    parser.add_argument("--only", choices=("loader", "seeds"), default=None, help="run one of the two parts")
    parser.add_argument("--models", nargs="+", choices=("spike_mlp", "mlp"), default=["spike_mlp", "mlp"],
                        help="models of the batching benchmark (default both)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.loader_steps, args.seed_steps, args.rounds = 3, 30, 30, 1
    torch.set_num_threads(args.threads)
    batch = 64
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {batch}, CPU")

    if args.only != "seeds":
        bench_loader(args, batch)
    if args.only != "loader":
        bench_seeds(args, batch)


if __name__ == "__main__":
    main()
