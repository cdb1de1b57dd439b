"""The ``rmtweights`` command: ``rmtweights analyze PATH [-o table.parquet]`` analyses one weights file;
``rmtweights plan CONFIG [--layers] [--csv]`` shows what a workflow config will run.

Prints one line per layer and method (sigma-hat, threshold, s-hat, Ave_w, power-law exponent and
verdict) and, with ``-o``, writes the full table of :func:`rmtweights.api.analyze_model` (Parquet, or
CSV for a ``.csv`` name).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rmtweights.methods import METHOD_NAMES, check_method

__all__ = ["main"]

SHOWN = ["layer", "kind", "shape", "method", "n", "m", "sigma", "gamma_plus", "s_hat", "ave_w", "alpha_sv",
         "verdict", "status", "reason"]


def _method(name: str) -> str:
    """A ``--methods`` value: a name of :data:`rmtweights.methods.METHOD_NAMES` (a renamed one is
    refused with its new name)."""
    try:
        return check_method(name).name
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rmtweights", description="Random-matrix analysis of neural-network weights.")
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="analyse every layer of a weights file, layer by layer",
                             description="Analyse a weights file (.pt/.pth/.bin, .safetensors, a sharded "
                                         "checkpoint's *.index.json or a folder holding one).")
    analyze.add_argument("path", help="weights file or folder")
    analyze.add_argument("-o", "--output", help="write the full table here (.parquet, or .csv)")
    analyze.add_argument("--methods", nargs="+", type=_method, default=list(METHOD_NAMES), metavar="METHOD",
                         help=f"estimators of sigma, of {', '.join(METHOD_NAMES)} (default: all)")
    analyze.add_argument("--n-bootstrap", type=int, default=50, help="power-law bootstrap samples (default 50; 0: none)")
    analyze.add_argument("--reshape", default="spatial", choices=["spatial", "flatten", "slices"],
                         help="conv kernel to matrix (default spatial)")
    analyze.add_argument("--include", action="append", help="regular expression on tensor names to keep (repeatable)")
    analyze.add_argument("--exclude", action="append", help="regular expression on tensor names to drop (repeatable)")
    analyze.add_argument("--quiet", action="store_true", help="no per-layer progress lines")
    planned = sub.add_parser("plan", help="what a config will run: recipes, layers, jobs, cost",
                             description="Show what a workflow config will run before it runs: one row per run "
                                         "group with the resolved training recipe, the jobs per rule and an "
                                         "estimate of CPU time and disk (rmtweights.plan_report).")
    planned.add_argument("config", help="a config file (e.g. config/paper.yaml)")
    planned.add_argument("--layers", action="store_true", help="one row per analysed layer with its matrix n x m")
    planned.add_argument("--csv", action="store_true", help="the table alone, as CSV")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (1 with a one-line message for bad input)."""
    args = _parser().parse_args(argv)
    if args.command == "plan":
        return _plan(args)
    import pandas as pd

    from rmtweights.api import analyze_model
    from rmtweights.weights.common import WeightsError

    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        table = analyze_model(args.path, methods=args.methods, n_bootstrap=args.n_bootstrap, reshape=args.reshape,
                              include=args.include, exclude=args.exclude, log=progress)
    except (WeightsError, FileNotFoundError, ValueError) as err:
        print(f"rmtweights analyze: {err}", file=sys.stderr)
        return 1
    if args.output:
        from rmtweights import io

        if args.output.endswith(".csv"):
            with io.atomic_path(args.output) as tmp:
                table.to_csv(tmp, index=False)
        else:
            io.write_parquet(table, args.output)
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 40):
        print(table[[c for c in SHOWN if c in table]].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _plan(args: argparse.Namespace) -> int:
    """``rmtweights plan CONFIG``: :func:`rmtweights.plan_report.report` to stdout."""
    from rmtweights.config import ConfigError
    from rmtweights.plan_report import report

    try:
        sys.stdout.write(report(args.config, layers=args.layers, csv=args.csv))
    except (ConfigError, FileNotFoundError, ValueError) as err:
        print(f"rmtweights plan: {err}", file=sys.stderr)
        return 1
    return 0
