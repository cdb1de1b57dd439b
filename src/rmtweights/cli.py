"""The ``rmtweights`` command: ``rmtweights analyze PATH [-o table.parquet]`` analyses one weights file;
``rmtweights diff A B [-o table.parquet] [--report r.html]`` analyses what changed from model A to B.

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
    diff = sub.add_parser("diff", help="analyse what changed from model A to model B, layer by layer",
                          description="The spectrum of W_B - W_A of every layer both hold (its MP fit, threshold "
                                      "and spikes: the update's effective rank), the relative norm, and the overlap "
                                      "of the two models' top singular subspaces. B may be a LoRA adapter.")
    diff.add_argument("a", help="the base model: weights file or folder")
    diff.add_argument("b", help="the changed model (weights file or folder) or a LoRA adapter")
    diff.add_argument("-o", "--output", help="write the full table here (.parquet, or .csv)")
    diff.add_argument("--report", help="write a self-contained HTML page of the table here")
    diff.add_argument("--methods", nargs="+", type=_method, default=list(METHOD_NAMES), metavar="METHOD",
                      help=f"estimators of sigma, of {', '.join(METHOD_NAMES)} (default: all)")
    diff.add_argument("--n-bootstrap", type=int, default=50, help="power-law bootstrap samples (default 50; 0: none)")
    diff.add_argument("--include", action="append", help="regular expression on tensor names to keep (repeatable)")
    diff.add_argument("--exclude", action="append", help="regular expression on tensor names to drop (repeatable)")
    diff.add_argument("--quiet", action="store_true", help="no per-layer progress lines")
    return parser


DIFF_SHOWN = ["layer", "shape", "method", "rel_norm", "numerical_rank", "s_hat", "s_hat_a", "s_hat_b",
              "overlap", "overlap_random", "new_directions", "status", "reason"]


def _print_table(table, shown) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 40):
        print(table[[c for c in shown if c in table]].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _write_table(table, path: str) -> None:
    from rmtweights import io

    if path.endswith(".csv"):
        with io.atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    else:
        io.write_parquet(table, path)


def _diff(args: argparse.Namespace) -> int:
    """``rmtweights diff``: print the table of :func:`rmtweights.diff.diff_models` and write it."""
    from rmtweights.diff import diff_models
    from rmtweights.weights.common import WeightsError

    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        table = diff_models(args.a, args.b, methods=args.methods, n_bootstrap=args.n_bootstrap, include=args.include,
                            exclude=args.exclude, log=progress)
    except (WeightsError, FileNotFoundError, ValueError) as err:
        print(f"rmtweights diff: {err}", file=sys.stderr)
        return 1
    if args.output:
        _write_table(table, args.output)
    if args.report:
        from rmtweights import io
        from rmtweights.diff_report import diff_report_html

        with io.atomic_path(args.report) as tmp:
            tmp.write_text(diff_report_html(table, args.a, args.b), encoding="utf-8")
    _print_table(table, DIFF_SHOWN)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (1 with a one-line message for bad input)."""
    args = _parser().parse_args(argv)
    if args.command == "diff":
        return _diff(args)
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
