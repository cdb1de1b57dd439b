"""Benchmark: WeightWatcher 0.7.7 against ``rmtweights.analyze_model`` on a small transformer, one thread.

Workload: the 37 ``nn.Linear`` layers of a 6-block transformer encoder of hidden size 384 (per block
q, k, v, out 384x384, a 384->1536 and a 1536->384 feed-forward layer) plus a 384x384 pooler. Each
weight is ``make_layer`` of ``benchmarks/bench_spectrum.py`` (seed 0): Glorot-scaled Gaussian noise
N(0, 2/(n+m)) in float32 plus a planted rank-4 signal at 4, 3, 2.5 and 2 times the noise edge;
biases are zero. The parent process builds the module once and saves its state_dict (``model.pt``)
in a temporary folder; each child process loads it into the same ``nn.Module`` class, and both
tools analyse the *module* (WeightWatcher takes a module; ours takes it too).

Rows, each the best of ``--repeats`` rounds after a warm-up round, timing only the analysis call
(imports, model loading and the warm-up are outside the clock; rounds interleave the calls, so load
drift on a shared machine hits them alike):

* (a) ``ww.WeightWatcher(model=model).analyze()``: WeightWatcher's default (SVD of every layer and a
  power-law fit of its eigenvalues);
* (b) ``ww.WeightWatcher(model=model).analyze(mp_fit=True)``: the same plus its Marchenko–Pastur fit;
* (c) ``analyze_model(model, methods=["bema"], n_bootstrap=0)``: ours, essential;
* (d) ``analyze_model(model)``: ours, full (bema, gb, mp_fit; 50 bootstrap samples of the
  power-law goodness of fit);

then where our time goes, in the same child process: the spectrum
(:func:`rmtweights.stages.spectra.spectra_tables` on the module's layers, as ``analyze_model`` calls
it), the sigma fits (:func:`rmtweights.stages.fit_mp.fit_tables`, ``curve=False``) and the heavy-tail
table (:func:`rmtweights.stages.fit_heavy_tail.heavy_tail_table`) for (c) and (d), and the spectrum floor:
the fastest *accurate* raw path of ``bench_spectrum.py`` (every singular value within 1e-5 s_max of
float64 gesdd; candidates gesdd f64/f32 and the float64 Gram matrix + ``scipy.linalg.eigh`` with each
LAPACK driver) on the same 37 float32 matrices.

Targets (a benchmark, not a test): (c) at least 2x faster than (a); (d) no slower than (a) and at
least 20x faster than (b); our spectrum within 1.2x of the floor.

WeightWatcher runs in an environment of its own (``WW_REQUIREMENTS`` below: the numerical packages
at the versions of ours, so both sides use the same BLAS), built once outside the clone in
``<cache>/ww-venv-<hash of WW_REQUIREMENTS and the Python version>`` (cache: ``~/.cache/rmtweights``):

    make bench-ww                     # builds that environment if missing, then runs this script
    .venv/bin/python benchmarks/bench_vs_weightwatcher.py [--repeats 3] [--profile essential,full]
        [--max-load 1.5] [--ww-python PATH] [--cache-dir DIR]
    .venv/bin/python benchmarks/bench_vs_weightwatcher.py --build-ww-env     # the environment only

Every child runs with OMP/OPENBLAS/MKL_NUM_THREADS=1 and ``torch.set_num_threads(1)``. Before each
child the parent waits (up to ``--max-wait`` seconds) for the 1-minute load average to drop to
``--max-load`` and prints the load before and after: the machine is shared, so absolute seconds are
noisy and the ratios within one run are the result. ``--profile`` adds a cProfile of the named
calls of our child (top entries by own and by cumulative time).
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
TARGETS = dict(essential_vs_default=2.0, full_vs_mp_fit=20.0, spectrum_vs_floor=1.2)


class TinyEncoder(nn.Module):
    """The Linear layers of a 6-block encoder (hidden 384, feed-forward 1536) and a pooler: weights only."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.ModuleDict(dict(q=nn.Linear(HIDDEN, HIDDEN), k=nn.Linear(HIDDEN, HIDDEN), v=nn.Linear(HIDDEN, HIDDEN),
                               out=nn.Linear(HIDDEN, HIDDEN), ff1=nn.Linear(HIDDEN, FFN), ff2=nn.Linear(FFN, HIDDEN)))
            for _ in range(BLOCKS))
        self.pooler = nn.Linear(HIDDEN, HIDDEN)


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    return [(name, mod) for name, mod in model.named_modules() if isinstance(mod, nn.Linear)]


def load_model(path: str) -> TinyEncoder:
    model = TinyEncoder()
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()


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


def child_ww(args: argparse.Namespace) -> dict:
    import logging

    import weightwatcher as ww

    logging.getLogger("weightwatcher").setLevel(logging.WARNING)
    model = load_model(args.weights)
    calls = {
        "ww_default": lambda: ww.WeightWatcher(model=model).analyze(),
        "ww_mp_fit": lambda: ww.WeightWatcher(model=model).analyze(mp_fit=True),
    }
    best, out = timed_rounds(calls, args.repeats)
    default, mp = out["ww_default"], out["ww_mp_fit"]
    import numpy as np

    info = dict(version=ww.__version__, torch=torch.__version__, numpy=np.__version__,
                layers=len(default), median_alpha=float(default["alpha"].median()))
    if "num_spikes" in mp:
        info["num_spikes"] = sorted(int(x) for x in set(mp["num_spikes"].dropna()))
    return dict(seconds=best, info=info)


def child_ours(args: argparse.Namespace) -> dict:
    import numpy as np
    import scipy

    sys.path.insert(0, str(HERE))
    import bench_spectrum  # noqa: E402  (the candidates and the accuracy rule of the floor)

    from rmtweights.api import DEFAULT_METHODS, _module_layers, analyze_model
    from rmtweights.stages.fit_heavy_tail import heavy_tail_table
    from rmtweights.stages.fit_mp import fit_tables
    from rmtweights.stages.spectra import spectra_tables

    model = load_model(args.weights)
    mats = [mod.weight.detach().numpy() for _, mod in linear_layers(model)]

    def spectrum():  # what analyze_model does first, on the same module
        return spectra_tables({"trained": _module_layers(model, "spatial", None, None)}, reshape="spatial",
                              min_dim=10)[0]

    spectra = spectrum()
    floor_methods = bench_spectrum.value_methods(with_torch=False)  # name -> (fn of one matrix, candidate)
    calls: dict[str, Callable[[], object]] = {
        "essential": lambda: analyze_model(model, methods=["bema"], n_bootstrap=0),
        "full": lambda: analyze_model(model),
        "spectrum": spectrum,
        "layers": lambda: [layer.matrix for layer in _module_layers(model, "spatial", None, None)],
        "fits_essential": lambda: fit_tables(spectra, ["bema"], curve=False),
        "fits_full": lambda: fit_tables(spectra, DEFAULT_METHODS, curve=False),
        "tail_essential": lambda: heavy_tail_table(spectra, n_bootstrap=0),
        "tail_full": lambda: heavy_tail_table(spectra, n_bootstrap=50),
    }
    for name, (fn, _) in floor_methods.items():
        calls[f"sv:{name}"] = (lambda f: lambda: [f(w) for w in mats])(fn)
    best, out = timed_rounds(calls, args.repeats)

    refs = [(s, None) for s in out["sv:gesdd-f64"]]
    errors = {name: bench_spectrum.value_error(out[f"sv:{name}"], refs) for name in floor_methods}
    accurate = [n for n, (_, candidate) in floor_methods.items() if candidate and errors[n] <= bench_spectrum.REQUIRED]
    floor_name = min(accurate, key=lambda n: best[f"sv:{n}"])
    full = out["full"]
    bema = full[full.method == "bema"]
    info = dict(numpy=np.__version__, scipy=scipy.__version__, torch=torch.__version__,
                layers=int(bema.layer.nunique()), floor=floor_name, floor_error=errors[floor_name],
                sv_error=errors["singular_values"], bema_s_hat=sorted(int(s) for s in set(bema.s_hat.dropna())),
                verdicts=full.drop_duplicates("layer").verdict.value_counts().to_dict(),
                median_alpha_eig=float(full.drop_duplicates("layer").alpha_eig.median()))
    if args.profile:
        profile_calls(calls, [p for p in args.profile.split(",") if p], args.profile_top)
    return dict(seconds=best, info=info)


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


def run_child(kind: str, python: str, weights: Path, args: argparse.Namespace, tmp: Path) -> dict:
    out = tmp / f"{kind}.json"
    cmd = [python, str(Path(__file__).resolve()), "--child", kind, "--weights", str(weights),
           "--repeats", str(args.repeats), "--out", str(out)]
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
    result = json.loads(out.read_text())
    result.update(load_before=before, load_after=after, wall=wall, stdout=proc.stdout)
    return result


def compare(ours: float, theirs: float) -> str:
    return f"{theirs / ours:.1f}x faster" if ours <= theirs else f"{ours / theirs:.1f}x slower"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(ww: dict, ours: dict, repeats: int) -> None:
    t, s = ww["seconds"], ours["seconds"]
    a, b, c, d = t["ww_default"], t["ww_mp_fit"], s["essential"], s["full"]
    wi, oi = ww["info"], ours["info"]
    print(f"\nWeightWatcher {wi['version']} (torch {wi['torch']}, numpy {wi['numpy']}) analysed {wi['layers']} layers; "
          f"rmtweights (torch {oi['torch']}, numpy {oi['numpy']}, scipy {oi['scipy']}) {oi['layers']}.")
    print(f"Seconds, best of {repeats} after a warm-up, one thread, analysis call only:")
    rows = [("(a) WW analyze()  [default: SVD + power-law fit]", a),
            ("(b) WW analyze(mp_fit=True)", b),
            ("(c) ours analyze_model(model, methods=['bema'], n_bootstrap=0)  [essential]", c),
            ("(d) ours analyze_model(model)  [full: bema, gb, mp_fit; 50 bootstrap]", d)]
    width = max(len(r[0]) for r in rows) + 2
    for label, sec in rows:
        print(f"  {label:<{width}}{sec:8.3f} s")
    print("Ratios:")
    print(f"  (c) vs (a): ours essential is {compare(c, a)} than WW default   (target >= 2x faster: "
          f"{verdict(a / c >= TARGETS['essential_vs_default'])})")
    print(f"  (d) vs (a): ours full is {compare(d, a)} than WW default   (target: no slower: {verdict(d <= a)})")
    print(f"  (d) vs (b): ours full is {compare(d, b)} than WW mp_fit   (target >= 20x faster: "
          f"{verdict(b / d >= TARGETS['full_vs_mp_fit'])})")
    print(f"  (c) vs (b): ours essential is {compare(c, b)} than WW mp_fit")

    spec = s["spectrum"]
    print("\nWhere our time goes (same child process, each piece timed on its own, best of "
          f"{repeats}):")
    for label, total, fits, tail in (("(c) essential", c, s["fits_essential"], s["tail_essential"]),
                                     ("(d) full", d, s["fits_full"], s["tail_full"])):
        rest = total - spec - fits - tail
        print(f"  {label}: total {total:.3f} s")
        for name, sec in (("spectrum (spectra_tables)", spec), ("sigma fits (fit_tables, curve=False)", fits),
                          ("heavy tail (heavy_tail_table)", tail), ("rest (total - pieces; +-noise)", rest)):
            print(f"      {name:<40}{sec:8.3f} s  {100 * sec / total:5.1f} %")
    floor_name = oi["floor"]
    floor = s[f"sv:{floor_name}"]
    print(f"  of the spectrum: layer matrices from the module {s['layers']:.3f} s, "
          f"singular_values on the 37 matrices {s['sv:singular_values']:.3f} s")
    print("\nSpectrum floor (bench_spectrum.py candidates on the same 37 float32 matrices; accurate = every "
          "singular value within 1e-5 s_max of float64 gesdd):")
    for name in sorted((k[3:] for k in s if k.startswith("sv:")), key=lambda n: s[f"sv:{n}"]):
        sec = s["sv:" + name]
        print(f"  {name:<34}{sec:8.3f} s  {sec / floor:5.2f} x floor")
    print(f"  floor = {floor_name} {floor:.3f} s (error {oi['floor_error']:.1e} s_max); our spectrum "
          f"(spectra_tables) {spec:.3f} s = {spec / floor:.2f} x floor   (target <= 1.2x: "
          f"{verdict(spec / floor <= TARGETS['spectrum_vs_floor'])}); singular_values alone "
          f"{s['sv:singular_values'] / floor:.2f} x floor (error {oi['sv_error']:.1e} s_max)")
    print("\nSanity: ours bema s_hat per layer " + str(oi["bema_s_hat"]) + " (planted rank 4), heavy-tail verdicts "
          f"{oi['verdicts']}, median alpha_eig {oi['median_alpha_eig']:.2f}; WW median alpha {wi['median_alpha']:.2f}"
          + (f", WW mp_fit num_spikes {wi['num_spikes']}" if "num_spikes" in wi else ""))
    print(f"Load (1-min average; 2 cores shared): WW child {ww['load_before']:.2f} before, "
          f"{ww['load_after']:.2f} after "
          f"({ww['wall']:.0f} s); ours child {ours['load_before']:.2f} before, {ours['load_after']:.2f} after "
          f"({ours['wall']:.0f} s)")


def build_weights(path: Path, seed: int) -> None:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from bench_spectrum import make_layer  # noqa: E402  (Glorot noise + planted rank-4 signal)

    rng = np.random.default_rng(seed)
    model = TinyEncoder()
    with torch.no_grad():
        for _, mod in linear_layers(model):
            mod.weight.copy_(torch.from_numpy(make_layer(mod.out_features, mod.in_features, rng)))
            mod.bias.zero_()
    torch.save(model.state_dict(), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many rounds after a warm-up")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "rmtweights")
    parser.add_argument("--ww-python", help="WeightWatcher's python (default: the environment in --cache-dir)")
    parser.add_argument("--ours-python", default=str(REPO / ".venv" / "bin" / "python"))
    parser.add_argument("--build-ww-env", action="store_true", help="build WeightWatcher's environment and exit")
    parser.add_argument("--print-ww-env", action="store_true", help="print its folder and exit")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for this 1-min load before each child")
    parser.add_argument("--max-wait", type=float, default=300.0, help="longest wait for it, seconds")
    parser.add_argument("--profile", default="", help="comma-separated calls of our child to cProfile "
                        "(essential, full, spectrum, fits_full, tail_full, ...)")
    parser.add_argument("--profile-top", type=int, default=20)
    parser.add_argument("--child", choices=("ww", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats < 1:
        raise ValueError(f"repeats must be >= 1, got repeats={args.repeats}")

    if args.child:
        result = (child_ww if args.child == "ww" else child_ours)(args)
        Path(args.out).write_text(json.dumps(result))
        return

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
    print(f"workload: TinyEncoder, {BLOCKS} blocks x (4 x {HIDDEN}x{HIDDEN} + {FFN}x{HIDDEN} + {HIDDEN}x{FFN}) "
          "+ pooler "
          f"{HIDDEN}x{HIDDEN} = {BLOCKS * 6 + 1} Linear layers, float32 Glorot noise + planted rank 4 (seed "
          f"{args.seed}); both tools analyse the nn.Module loaded from the saved state_dict")
    with tempfile.TemporaryDirectory(prefix="bench_ww_") as tmp_name:
        tmp = Path(tmp_name)
        weights = tmp / "model.pt"
        build_weights(weights, args.seed)
        print(f"WeightWatcher child: {ww_python}", flush=True)
        ww = run_child("ww", str(ww_python), weights, args, tmp)
        print(f"rmtweights child: {args.ours_python}", flush=True)
        ours = run_child("ours", args.ours_python, weights, args, tmp)
    report(ww, ours, args.repeats)
    if args.profile:
        print(ours["stdout"])


if __name__ == "__main__":
    main()
