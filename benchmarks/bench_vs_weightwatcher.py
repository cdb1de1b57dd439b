"""Benchmark: WeightWatcher 0.7.7 against ``rmtweights.analyze_model`` on four workloads, one thread.

Workloads (``--workloads``, all by default); each is an ``nn.Module`` of ``Linear`` and ``Conv2d``
layers that the parent builds once and saves (spec + state_dict) in a temporary folder; each child
rebuilds the same module, and both tools analyse the *module*:

* ``encoder``: the 37 ``nn.Linear`` layers of a 6-block transformer encoder of hidden size 384 (per
  block q, k, v, out 384x384, a 384->1536 and a 1536->384 feed-forward layer) plus a 384x384 pooler;
  each weight is ``make_layer`` of ``benchmarks/bench_spectrum.py`` (seed 0): Glorot-scaled Gaussian
  noise in float32 plus a planted rank-4 signal at 4, 3, 2.5 and 2 times the noise edge.
* ``trained``: the weight layers of the default study's trained models (``--checkpoints``: the
  ``model/final.pt`` files of ``results/demo/...``, or any torch state_dict); without paths the
  benchmark trains them itself, as the default study does: the MLP (784-1024-512-512-10) and the
  LeNet (filters 8, 16) of ``config/config.yaml``, 2 epochs of SGD (batch 64, lr 0.1) on the
  seeded synthetic data set (4000 images).
* ``heavy``: 12 layers shaped like a third of the encoder (8 x 384x384, 2 x 384x1536, 2 x 1536x384)
  with Student-t(3) entries (Glorot variance) plus a planted rank-32 signal from 1.5 to 6 times the
  noise edge: a heavy-tailed bulk with 30+ spikes, where the power-law bootstrap works hardest.
* ``large``: one 4096 x 11008 layer (a 7B language model's MLP projection), float32 Gaussian noise
  plus rank 4 as in ``encoder``: seconds per layer, one timed round (``--large-repeats``).

Rows per workload, each the best of ``--repeats`` rounds after a warm-up round (``large``: no
warm-up), timing only the analysis call (imports, module loading and the warm-up are outside the
clock; rounds interleave the calls, so load drift on a shared machine hits them alike):

* (a) ``ww.WeightWatcher(model=model).analyze()``: WeightWatcher's default (SVD of every layer and a
  power-law fit of its eigenvalues);
* (b) ``ww.WeightWatcher(model=model).analyze(mp_fit=True)``: the same plus its Marchenko–Pastur fit;
* (c) ``analyze_model(model, methods=["bema"], n_bootstrap=0)``: ours, essential;
* (d) ``analyze_model(model)``: ours, full (bema, gb, modified_mp; power-law bootstrap of 50 sets per
  round, more rounds while the p-value is within 2 standard errors of 0.1);

then where our time goes, in the same child process: the spectrum
(:func:`rmtweights.stages.spectra.spectra_tables` on the tensors of the module's state_dict, as ``analyze_model`` reads
it), the sigma fits (:func:`rmtweights.stages.fit_mp.fit_tables`, ``curve=False``), the heavy-tail
table (:func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`) and the rest (building and merging
the tables). Since (c) and (d) both compute the spectrum, ``WW default / our spectrum`` is the
largest ratio any speed-up of the rest could reach; it is printed beside each ratio. For ``encoder``
also the spectrum floor: the fastest *accurate* raw path of ``bench_spectrum.py`` (every singular
value within 1e-5 s_max of float64 gesdd; candidates gesdd f64/f32 and the float64 Gram matrix +
``scipy.linalg.eigh`` with each LAPACK driver) on the same 37 float32 matrices.

Targets (a benchmark, not a test), on every workload: (c) at least 3x faster than (a); (d) at least
2x faster than (a) and at least 30x faster than (b); our spectrum within 1.2x of the floor.

WeightWatcher runs in an environment of its own (``WW_REQUIREMENTS`` below: the numerical packages
at the versions of ours, so both sides use the same BLAS), built once outside the clone in
``<cache>/ww-venv-<hash of WW_REQUIREMENTS and the Python version>`` (cache: ``~/.cache/rmtweights``):

    make bench-ww                     # builds that environment if missing, then runs this script
    .venv/bin/python benchmarks/bench_vs_weightwatcher.py [--repeats 3] [--workloads encoder,trained]
        [--checkpoints results/demo/synthetic/mlp/base/seed0/model/final.pt ...]
        [--profile essential,full] [--max-load 1.5] [--ww-python PATH] [--cache-dir DIR]
    .venv/bin/python benchmarks/bench_vs_weightwatcher.py --build-ww-env     # the environment only

Every child runs with OMP/OPENBLAS/MKL_NUM_THREADS=1 and ``torch.set_num_threads(1)``. Before each
child the parent waits (up to ``--max-wait`` seconds) for the 1-minute load average to drop to
``--max-load`` and prints the load before and after: the machine is shared, so absolute seconds are
noisy and the ratios within one run are the result. ``--profile`` adds a cProfile of the named
calls of our child on the first workload (top entries by own and by cumulative time).
"""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"  # before numpy / scipy / torch are imported

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402  (both environments have it)
from torch import nn  # noqa: E402

torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
#: WeightWatcher's environment: its release, torch as ours (2.14.1; pip takes it from local disk),
#: and the numerical packages pinned to the versions of ours (requirements.txt) so that both sides
#: run the same numpy / scipy / OpenBLAS.
WW_REQUIREMENTS: tuple[str, ...] = (
    "weightwatcher==0.7.7", "torch==2.14.1", "numpy==2.4.6", "scipy==1.17.1", "pandas==3.1.1",
    "powerlaw==2.0.0", "scikit-learn==1.9.1", "matplotlib==3.11.2",
)
HIDDEN, FFN, BLOCKS = 384, 1536, 6
LARGE_SHAPE = (4096, 11008)  # (out, in) of the large layer: a 7B language model's MLP projection
WORKLOADS: tuple[str, ...] = ("encoder", "trained", "heavy", "large")
TARGETS = dict(essential_vs_default=3.0, full_vs_default=2.0, full_vs_mp_fit=30.0, spectrum_vs_floor=1.2)


class WeightsModule(nn.Module):
    """``Linear`` (2-d shape: out, in) and ``Conv2d`` (4-d: out, in, kh, kw) layers of given shapes.

    Weights only: the parent builds a workload as one of these and saves its spec and state_dict;
    each child rebuilds it from the spec, so both tools see the same module in their own process.
    """

    def __init__(self, spec: list[tuple[str, list[int]]]) -> None:
        super().__init__()
        self.layers = nn.ModuleDict()
        for name, shape in spec:
            if len(shape) == 2:
                layer: nn.Module = nn.Linear(shape[1], shape[0])
            elif len(shape) == 4:
                layer = nn.Conv2d(shape[1], shape[0], tuple(shape[2:]))
            else:
                raise ValueError(f"layer {name!r}: shape {shape} is neither Linear (2-d) nor Conv2d (4-d)")
            self.layers[name.replace(".", "_")] = layer


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, mod) for name, mod in model.named_modules() if isinstance(mod, (nn.Linear, nn.Conv2d))]


def load_workload(path: str) -> WeightsModule:
    saved = torch.load(path, weights_only=True)
    model = WeightsModule([(name, list(shape)) for name, shape in saved["spec"]])
    model.load_state_dict(saved["state"])
    return model.eval()


def save_workload(weights: list[tuple[str, torch.Tensor]], path: Path) -> None:
    """Save named weight tensors (biases zero) as a :class:`WeightsModule`."""
    spec = [(name, [int(d) for d in w.shape]) for name, w in weights]
    model = WeightsModule(spec)
    with torch.no_grad():
        for (_, w), (_, layer) in zip(weights, weight_layers(model)):
            layer.weight.copy_(torch.as_tensor(w, dtype=torch.float32))
            layer.bias.zero_()
    torch.save({"spec": spec, "state": model.state_dict()}, path)


# --------------------------------------------------------------------------------------------------
# WeightWatcher's environment


def ww_env_dir(cache_dir: Path) -> Path:
    """``<cache>/ww-venv-<16 hex>``: the key hashes the requirements and this Python's version."""
    key = hashlib.sha256(("\n".join(WW_REQUIREMENTS) + "\n" + sys.version).encode()).hexdigest()[:16]
    return cache_dir / f"ww-venv-{key}"


def build_ww_env(env_dir: Path) -> None:
    """Create the environment once (``.complete`` marks a finished build); a no-op when it exists."""
    if (env_dir / ".complete").exists():
        print(f"WeightWatcher's environment: {env_dir} (exists)")
        return
    base = getattr(sys, "_base_executable", sys.executable)
    print(f"building WeightWatcher's environment in {env_dir} (once; several minutes, ~6 GB: torch is a "
          f"CUDA build that runs on the CPU)", flush=True)
    shutil.rmtree(env_dir, ignore_errors=True)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([base, "-m", "venv", str(env_dir)], check=True)
    python = str(env_dir / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", *WW_REQUIREMENTS], check=True)
    subprocess.run([python, "-c", "import weightwatcher, torch; print('weightwatcher', weightwatcher.__version__, "
                    "'torch', torch.__version__)"], check=True, env=dict(os.environ, MPLBACKEND="Agg"))
    (env_dir / ".complete").touch()


# --------------------------------------------------------------------------------------------------
# children: timing inside the process, after imports


def timed_rounds(calls: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, float], dict[str, object]]:
    """One warm-up round, then ``repeats`` timed rounds over all calls; best seconds and last outputs."""
    best = dict.fromkeys(calls, math.inf)
    outputs: dict[str, object] = {}
    for round_ in range(repeats + 1):
        for name, fn in calls.items():
            start = time.perf_counter()
            outputs[name] = fn()
            seconds = time.perf_counter() - start
            if round_ > 0:
                best[name] = min(best[name], seconds)
    return best, outputs


def profile_calls(calls: dict[str, Callable[[], object]], names: list[str], top: int) -> None:
    import cProfile
    import pstats

    for name in names:
        profiler = cProfile.Profile()
        profiler.runcall(calls[name])
        for key in ("tottime", "cumulative"):
            print(f"\n--- cProfile of {name}, top {top} by {key} ---")
            pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats(key).print_stats(top)


def timed(calls: dict[str, Callable[[], object]], repeats: int, warm_up: bool) -> tuple[dict[str, float], dict]:
    """:func:`timed_rounds`, or for one round without warm-up (the large layer) a single timed call each."""
    if warm_up:
        return timed_rounds(calls, repeats)
    best, outputs = {}, {}
    for name, fn in calls.items():
        start = time.perf_counter()
        outputs[name] = fn()
        best[name] = time.perf_counter() - start
    return best, outputs


def child_ww(args: argparse.Namespace) -> dict:
    import logging

    import numpy as np
    import weightwatcher as ww

    logging.getLogger("weightwatcher").setLevel(logging.WARNING)
    results = {}
    for name, path in zip(args.names.split(","), args.weights.split(",")):
        model = load_workload(path)
        calls = {
            "ww_default": lambda: ww.WeightWatcher(model=model).analyze(),
            "ww_mp_fit": lambda: ww.WeightWatcher(model=model).analyze(mp_fit=True),
        }
        large = name == "large"
        best, out = timed(calls, args.large_repeats if large else args.repeats, warm_up=not large)
        default, mp = out["ww_default"], out["ww_mp_fit"]
        info = dict(version=ww.__version__, torch=torch.__version__, numpy=np.__version__,
                    layers=len(default), median_alpha=float(default["alpha"].median()))
        if "num_spikes" in mp:
            info["num_spikes"] = sorted(int(x) for x in set(mp["num_spikes"].dropna()))
        results[name] = dict(seconds=best, info=info)
    return results


def child_ours(args: argparse.Namespace) -> dict:
    import numpy as np
    import scipy

    sys.path.insert(0, str(HERE))
    import bench_spectrum  # noqa: E402  (the candidates and the accuracy rule of the floor)

    from rmtweights.api import analyze_model
    from rmtweights.layers import tensor_layers
    from rmtweights.methods import METHOD_NAMES
    from rmtweights.stages.fit_heavy_tail import heavy_tail_table
    from rmtweights.stages.fit_mp import fit_tables
    from rmtweights.stages.spectra import spectra_tables

    results = {}
    for index, (name, path) in enumerate(zip(args.names.split(","), args.weights.split(","))):
        model = load_workload(path)

        def module_layers(model=model):  # the layers analyze_model reads: the module's state_dict's tensors
            state = model.state_dict()
            return tensor_layers([(k, tuple(v.shape), v.dtype) for k, v in state.items()], state.__getitem__)

        def spectrum():  # what analyze_model does first, on the same module
            return spectra_tables({"trained": module_layers()}, reshape="spatial", min_dim=10)[0]

        spectra = spectrum()
        calls: dict[str, Callable[[], object]] = {
            "essential": lambda model=model: analyze_model(model, methods=["bema"], n_bootstrap=0),
            "full": lambda model=model: analyze_model(model),
            "spectrum": spectrum,
            "fits_essential": lambda: fit_tables(spectra, ["bema"], curve=False),
            "fits_full": lambda: fit_tables(spectra, METHOD_NAMES, curve=False),
            "tail_essential": lambda: heavy_tail_table(spectra, n_bootstrap=0),
            "tail_full": lambda: heavy_tail_table(spectra, n_bootstrap=50),
        }
        floor_methods = {}
        if name == "encoder":
            mats = [layer.weight.detach().numpy() for _, layer in weight_layers(model)]
            calls["layers"] = lambda: [layer.matrix for layer in module_layers() if hasattr(layer, "matrix")]
            floor_methods = bench_spectrum.value_methods(with_torch=False)  # name -> (fn of one matrix, candidate)
            for method, (fn, _) in floor_methods.items():
                calls[f"sv:{method}"] = (lambda f: lambda: [f(w) for w in mats])(fn)
        large = name == "large"
        best, out = timed(calls, args.large_repeats if large else args.repeats, warm_up=not large)

        full = out["full"]
        full = full[full.status == "ok"]  # the analysed layers (the state_dict's biases are rows too, skipped)
        bema = full[full.method == "bema"]
        per_layer = full.drop_duplicates("layer")
        info = dict(numpy=np.__version__, scipy=scipy.__version__, torch=torch.__version__,
                    layers=int(bema.layer.nunique()), bema_s_hat=sorted(int(s) for s in set(bema.s_hat.dropna())),
                    verdicts=per_layer.verdict.value_counts().to_dict(),
                    median_alpha_eig=float(per_layer.alpha_eig.median()),
                    bootstrap_sets=int(per_layer.n_bootstrap.sum()))
        if floor_methods:
            refs = [(s, None) for s in out["sv:gesdd-f64"]]
            errors = {m: bench_spectrum.value_error(out[f"sv:{m}"], refs) for m in floor_methods}
            accurate = [m for m, (_, candidate) in floor_methods.items()
                        if candidate and errors[m] <= bench_spectrum.REQUIRED]
            floor_name = min(accurate, key=lambda m: best[f"sv:{m}"])
            info.update(floor=floor_name, floor_error=errors[floor_name], sv_error=errors["singular_values"])
        if args.profile and index == 0:
            profile_calls(calls, [c for c in args.profile.split(",") if c], args.profile_top)
        results[name] = dict(seconds=best, info=info)
    return results


# --------------------------------------------------------------------------------------------------
# parent


def wait_for_idle(max_load: float, max_wait: float) -> float:
    """Sleep until the 1-minute load average is <= max_load (at most max_wait s); return it."""
    deadline = time.monotonic() + max_wait
    load = os.getloadavg()[0]
    while load > max_load and time.monotonic() < deadline:
        print(f"  load {load:.2f} > {max_load}: waiting", flush=True)
        time.sleep(20)
        load = os.getloadavg()[0]
    return load


def run_child(kind: str, python: str, workloads: dict[str, Path], args: argparse.Namespace, tmp: Path) -> dict:
    out = tmp / f"{kind}.json"
    cmd = [python, str(Path(__file__).resolve()), "--child", kind, "--names", ",".join(workloads),
           "--weights", ",".join(str(p) for p in workloads.values()), "--repeats", str(args.repeats),
           "--large-repeats", str(args.large_repeats), "--out", str(out)]
    env = dict(os.environ, MPLBACKEND="Agg", **dict.fromkeys(THREAD_VARS, "1"))
    if kind == "ours":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
        if args.profile:
            cmd += ["--profile", args.profile, "--profile-top", str(args.profile_top)]
    before = wait_for_idle(args.max_load, args.max_wait)
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.getloadavg()[0]
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"the {kind} child failed (exit {proc.returncode}): {' '.join(cmd)}")
    return dict(workloads=json.loads(out.read_text()), load_before=before, load_after=after, wall=wall,
                stdout=proc.stdout)


def compare(ours: float, theirs: float) -> str:
    return f"{theirs / ours:.1f}x faster" if ours <= theirs else f"{ours / theirs:.1f}x slower"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report_workload(name: str, label: str, ww: dict, ours: dict, repeats: int) -> dict[str, float]:
    t, s = ww["seconds"], ours["seconds"]
    a, b, c, d = t["ww_default"], t["ww_mp_fit"], s["essential"], s["full"]
    wi, oi = ww["info"], ours["info"]
    spec = s["spectrum"]
    rounds = f"best of {repeats} after a warm-up" if name != "large" else f"{repeats} round(s), no warm-up"
    print(f"\n=== {name}: {label}")
    print(f"WeightWatcher analysed {wi['layers']} layers, rmtweights {oi['layers']}. Seconds ({rounds}, one thread):")
    rows = [("(a) WW analyze()  [default: SVD + power-law fit]", a),
            ("(b) WW analyze(mp_fit=True)", b),
            ("(c) ours analyze_model(model, methods=['bema'], n_bootstrap=0)  [essential]", c),
            ("(d) ours analyze_model(model)  [full: bema, gb, modified_mp; power-law bootstrap]", d)]
    width = max(len(r[0]) for r in rows) + 2
    for row_label, sec in rows:
        per_layer = f"   ({sec / max(oi['layers'], 1):.3f} s per layer)" if name == "large" else ""
        print(f"  {row_label:<{width}}{sec:8.3f} s{per_layer}")
    bound, bound_b = a / spec, b / spec
    print(f"Ratios (bounds: WW default / our spectrum alone = {bound:.1f}x, WW mp_fit / our spectrum = "
          f"{bound_b:.1f}x, the most any ratio against (a), (b) can reach):")
    print(f"  (c) vs (a): ours essential is {compare(c, a)} than WW default   (target >= "
          f"{TARGETS['essential_vs_default']:.0f}x faster: {verdict(a / c >= TARGETS['essential_vs_default'])})")
    print(f"  (d) vs (a): ours full is {compare(d, a)} than WW default   (target >= "
          f"{TARGETS['full_vs_default']:.0f}x faster: {verdict(a / d >= TARGETS['full_vs_default'])})")
    print(f"  (d) vs (b): ours full is {compare(d, b)} than WW mp_fit   (target >= "
          f"{TARGETS['full_vs_mp_fit']:.0f}x faster: {verdict(b / d >= TARGETS['full_vs_mp_fit'])})")
    print(f"  (c) vs (b): ours essential is {compare(c, b)} than WW mp_fit")
    print("Where our time goes (same child process, each piece timed on its own):")
    for row_label, total, fits, tail in (("(c) essential", c, s["fits_essential"], s["tail_essential"]),
                                         ("(d) full", d, s["fits_full"], s["tail_full"])):
        rest = total - spec - fits - tail
        print(f"  {row_label}: total {total:.3f} s")
        for piece, sec in (("spectrum (spectra_tables)", spec), ("sigma fits (fit_tables, curve=False)", fits),
                           ("heavy tail (heavy_tail_table)", tail), ("rest: tables, merge (total - pieces)", rest)):
            print(f"      {piece:<40}{sec:8.3f} s  {100 * sec / total:5.1f} %")
    print(f"Sanity: ours bema s_hat per layer {oi['bema_s_hat']}, heavy-tail verdicts {oi['verdicts']} "
          f"({oi['bootstrap_sets']} bootstrap sets in all), median alpha_eig {oi['median_alpha_eig']:.2f}; "
          f"WW median alpha {wi['median_alpha']:.2f}"
          + (f", WW mp_fit num_spikes {wi['num_spikes']}" if "num_spikes" in wi else ""))
    if "floor" in oi:
        floor_name = oi["floor"]
        floor = s[f"sv:{floor_name}"]
        print(f"  of the spectrum: layer matrices from the module {s['layers']:.3f} s, "
              f"singular_values on the matrices {s['sv:singular_values']:.3f} s")
        print("Spectrum floor (bench_spectrum.py candidates on the same float32 matrices; accurate = every "
              "singular value within 1e-5 s_max of float64 gesdd):")
        for method in sorted((k[3:] for k in s if k.startswith("sv:")), key=lambda m: s[f"sv:{m}"]):
            sec = s["sv:" + method]
            print(f"  {method:<34}{sec:8.3f} s  {sec / floor:5.2f} x floor")
        print(f"  floor = {floor_name} {floor:.3f} s (error {oi['floor_error']:.1e} s_max); our spectrum "
              f"(spectra_tables) {spec:.3f} s = {spec / floor:.2f} x floor   (target <= 1.2x: "
              f"{verdict(spec / floor <= TARGETS['spectrum_vs_floor'])}); singular_values alone "
              f"{s['sv:singular_values'] / floor:.2f} x floor (error {oi['sv_error']:.1e} s_max)")
    return dict(essential=a / c, full=a / d, full_vs_mp_fit=b / d, bound=bound, bound_b=bound_b)


def report(ww: dict, ours: dict, labels: dict[str, str], args: argparse.Namespace) -> None:
    wi = next(iter(ww["workloads"].values()))["info"]
    oi = next(iter(ours["workloads"].values()))["info"]
    print(f"\nWeightWatcher {wi['version']} (torch {wi['torch']}, numpy {wi['numpy']}); rmtweights (torch "
          f"{oi['torch']}, numpy {oi['numpy']}, scipy {oi['scipy']}).")
    ratios = {name: report_workload(name, labels[name], ww["workloads"][name], ours["workloads"][name],
                                    args.large_repeats if name == "large" else args.repeats)
              for name in labels}
    print("\nSummary: WW time / our time (targets: essential >= 3x and full >= 2x vs WW default, full >= 30x vs "
          "WW mp_fit; bounds: WW default or WW mp_fit / our spectrum alone)")
    print(f"  {'workload':<10}{'essential':>10}{'full':>8}{'bound':>8}{'full vs mp_fit':>16}{'bound':>8}")
    for name, r in ratios.items():
        print(f"  {name:<10}{r['essential']:>9.1f}x{r['full']:>7.1f}x{r['bound']:>7.1f}x{r['full_vs_mp_fit']:>15.1f}x"
              f"{r['bound_b']:>7.1f}x")
    print(f"Load (1-min average; 2 cores shared): WW child {ww['load_before']:.2f} before, "
          f"{ww['load_after']:.2f} after ({ww['wall']:.0f} s); ours child {ours['load_before']:.2f} before, "
          f"{ours['load_after']:.2f} after ({ours['wall']:.0f} s)")


# --------------------------------------------------------------------------------------------------
# workloads (built by the parent, in our environment)


def build_encoder(path: Path, seed: int) -> str:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from bench_spectrum import make_layer  # noqa: E402  (Glorot noise + planted rank-4 signal)

    rng = np.random.default_rng(seed)
    weights = []
    for block in range(BLOCKS):
        for part, (n_out, n_in) in (("q", (HIDDEN, HIDDEN)), ("k", (HIDDEN, HIDDEN)), ("v", (HIDDEN, HIDDEN)),
                                    ("out", (HIDDEN, HIDDEN)), ("ff1", (FFN, HIDDEN)), ("ff2", (HIDDEN, FFN))):
            weights.append((f"blocks.{block}.{part}", torch.from_numpy(make_layer(n_out, n_in, rng))))
    weights.append(("pooler", torch.from_numpy(make_layer(HIDDEN, HIDDEN, rng))))
    save_workload(weights, path)
    return (f"TinyEncoder, {BLOCKS} blocks x (4 x {HIDDEN}x{HIDDEN} + {FFN}x{HIDDEN} + {HIDDEN}x{FFN}) + pooler "
            f"{HIDDEN}x{HIDDEN} = {BLOCKS * 6 + 1} Linear layers, float32 Glorot noise + planted rank 4 (seed {seed})")


def build_heavy(path: Path, seed: int, df: float = 3.0, rank: int = 32) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    shapes = [(HIDDEN, HIDDEN)] * 8 + [(FFN, HIDDEN)] * 2 + [(HIDDEN, FFN)] * 2
    weights = []
    for i, (n_out, n_in) in enumerate(shapes):
        sigma = math.sqrt(2.0 / (n_out + n_in))
        noise = rng.standard_t(df, (n_out, n_in)) * (sigma * math.sqrt((df - 2.0) / df))  # variance sigma^2
        edge = sigma * (math.sqrt(n_out) + math.sqrt(n_in))
        u = np.linalg.qr(rng.standard_normal((n_out, rank)))[0]
        v = np.linalg.qr(rng.standard_normal((n_in, rank)))[0]
        signal = (u * (edge * np.linspace(6.0, 1.5, rank))) @ v.T
        weights.append((f"layer{i}", torch.from_numpy((noise + signal).astype(np.float32))))
    save_workload(weights, path)
    return (f"{len(shapes)} layers (8 x {HIDDEN}x{HIDDEN}, 2 x {FFN}x{HIDDEN}, 2 x {HIDDEN}x{FFN}), Student-t({df:g}) "
            f"entries of Glorot variance + planted rank {rank} at 1.5..6 x the noise edge (seed {seed})")


def build_large(path: Path, seed: int) -> str:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from bench_spectrum import make_layer  # noqa: E402

    n_out, n_in = LARGE_SHAPE
    save_workload([("proj", torch.from_numpy(make_layer(n_out, n_in, np.random.default_rng(seed))))], path)
    return f"one {n_out} x {n_in} Linear layer, float32 Glorot noise + planted rank 4 (seed {seed})"


def train_default_models(seed: int) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """The default study's MLP and LeNet (config/config.yaml), trained as its demo study trains them."""
    import numpy as np

    from rmtweights.data import make_synthetic
    from rmtweights.models import build_model

    train_x, train_y, _, _ = make_synthetic({"n_train": 4000, "n_test": 1000, "channels": 1, "size": 28,
                                             "classes": 10, "signal": 0.2}, seed=seed)
    x = torch.from_numpy(np.asarray(train_x, dtype=np.float32)).reshape(-1, 1, 28, 28)
    x = (x - x.mean()) / x.std()
    y = torch.from_numpy(np.asarray(train_y, dtype=np.int64))
    out = []
    for name, kwargs in (("mlp", {"hidden": [1024, 512, 512]}), ("lenet", {"filters": [8, 16]})):
        generator = torch.Generator().manual_seed(seed)
        model = build_model(name, (1, 28, 28), 10, generator=generator, **kwargs)
        optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(2):  # epochs
            order = torch.randperm(x.shape[0], generator=generator)
            for start in range(0, x.shape[0], 64):
                batch = order[start:start + 64]
                optimiser.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                optimiser.step()
        out.append((name, model.state_dict()))
    return out


def build_trained(path: Path, checkpoints: list[str], seed: int) -> str:
    if checkpoints:
        states = []
        for ckpt in checkpoints:
            saved = torch.load(ckpt, weights_only=True)
            state = saved.get("model_state", saved)  # an rmtweights checkpoint or a plain state_dict
            label = str(saved.get("model_name", Path(ckpt).stem)) if "model_state" in saved else Path(ckpt).stem
            states.append((label, state))
        source = "checkpoints " + ", ".join(checkpoints)
    else:
        states = train_default_models(seed)
        source = f"trained here (seed {seed}): the default study's MLP and LeNet, 2 epochs on synthetic data"
    weights = []
    for i, (label, state) in enumerate(states):
        for name, w in state.items():
            if name.endswith(".weight") and w.ndim in (2, 4):
                weights.append((f"m{i}_{label}.{name.removesuffix('.weight')}", w.detach().float()))
    save_workload(weights, path)
    return f"{len(weights)} weight layers of {source}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many rounds after a warm-up")
    parser.add_argument("--large-repeats", type=int, default=1, help="rounds of the large layer (no warm-up)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated subset of {WORKLOADS}")
    parser.add_argument("--checkpoints", nargs="*", default=[],
                        help="trained checkpoints (rmtweights model/final.pt or state_dicts) for the `trained` "
                        "workload; none: train the default study's MLP and LeNet here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "rmtweights")
    parser.add_argument("--ww-python", help="WeightWatcher's python (default: the environment in --cache-dir)")
    parser.add_argument("--ours-python", default=str(REPO / ".venv" / "bin" / "python"))
    parser.add_argument("--build-ww-env", action="store_true", help="build WeightWatcher's environment and exit")
    parser.add_argument("--print-ww-env", action="store_true", help="print its folder and exit")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for this 1-min load before each child")
    parser.add_argument("--max-wait", type=float, default=300.0, help="longest wait for it, seconds")
    parser.add_argument("--profile", default="", help="comma-separated calls of our child to cProfile on the first "
                        "workload (essential, full, spectrum, fits_full, tail_full, ...)")
    parser.add_argument("--profile-top", type=int, default=20)
    parser.add_argument("--child", choices=("ww", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats < 1 or args.large_repeats < 1:
        raise ValueError(f"repeats must be >= 1, got repeats={args.repeats}, large-repeats={args.large_repeats}")

    if args.child:
        result = (child_ww if args.child == "ww" else child_ours)(args)
        Path(args.out).write_text(json.dumps(result))
        return

    names = [w for w in args.workloads.split(",") if w]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown or not names:
        raise SystemExit(f"--workloads: unknown {unknown} (choose from {', '.join(WORKLOADS)})")
    env_dir = ww_env_dir(args.cache_dir)
    if args.print_ww_env:
        print(env_dir)
        return
    if args.build_ww_env:
        build_ww_env(env_dir)
        return
    ww_python = Path(args.ww_python) if args.ww_python else env_dir / "bin" / "python"
    if not ww_python.exists() or (not args.ww_python and not (env_dir / ".complete").exists()):
        print(f"WeightWatcher's environment is missing ({env_dir}). Build it once with `make bench-ww` (which then "
              f"runs this benchmark) or `.venv/bin/python benchmarks/{Path(__file__).name} --build-ww-env`; or pass "
              "--ww-python.", file=sys.stderr)
        raise SystemExit(2)

    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; children: "
          f"OMP/OPENBLAS/MKL_NUM_THREADS=1 and torch.set_num_threads(1); OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')} in both (shared machine: absolute times are noisy, "
          "ratios within one run are the result)")
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="bench_ww_") as tmp_name:
        tmp = Path(tmp_name)
        builders = {"encoder": lambda p: build_encoder(p, args.seed),
                    "trained": lambda p: build_trained(p, args.checkpoints, args.seed),
                    "heavy": lambda p: build_heavy(p, args.seed),
                    "large": lambda p: build_large(p, args.seed)}
        workloads, labels = {}, {}
        for name in names:
            workloads[name] = tmp / f"{name}.pt"
            labels[name] = builders[name](workloads[name])
            print(f"workload {name}: {labels[name]}", flush=True)
        print(f"WeightWatcher child: {ww_python}", flush=True)
        ww = run_child("ww", str(ww_python), workloads, args, tmp)
        print(f"rmtweights child: {args.ours_python}", flush=True)
        ours = run_child("ours", args.ours_python, workloads, args, tmp)
    report(ww, ours, labels, args)
    if args.profile:
        print(ours["stdout"])


if __name__ == "__main__":
    main()
