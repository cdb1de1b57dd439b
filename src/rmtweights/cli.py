"""The ``rmtweights`` command: ``rmtweights analyze PATH [-o table.parquet] [--report report.html]`` analyses
one weights file; ``rmtweights diff A B [-o table.parquet] [--report r.html]`` analyses what changed from
model A to B; ``rmtweights plan CONFIG [--layers] [--csv]`` shows what a workflow config will run.

``analyze`` analyses one weights file (or folder, or sharded checkpoint) with
:func:`rmtweights.api.analyze_model` and prints one line per analysed layer, in the checkpoint's order
(:func:`rmtweights.model_table.layer_summary`: shape, per method sigma-hat, threshold, s-hat and Ave_w,
gamma_max, power-law exponent and verdict), then a footer saying how many tensors were analysed and
why the others were not (listed one by one with ``--all``). ``-o`` writes the full table in the format
its suffix names (``.parquet``, ``.csv``, ``.md``, ``.json``); ``--report`` writes a self-contained
HTML page with the figures (:mod:`rmtweights.report`). Progress goes to stderr, one line per layer:
``k/N layer shape: status seconds, ~time left``. A run that analyses nothing exits 1 and says why.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rmtweights.methods import METHOD_NAMES, check_method

__all__ = ["main"]


def _method(name: str) -> str:
    """A ``--methods`` value: a name of :data:`rmtweights.methods.METHOD_NAMES` (a renamed one is
    refused with its new name)."""
    try:
        return check_method(name).name
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_analyze(sub) -> None:
    analyze = sub.add_parser("analyze", help="analyse every layer of a weights file, layer by layer",
                             description="Analyse a weights file (.pt/.pth/.bin, .safetensors, .gguf, a sharded "
                                         "checkpoint's *.index.json or a folder holding one).")
    analyze.add_argument("path", help="weights file or folder")
    analyze.add_argument("-o", "--output", help="write the full table here (.parquet, .csv, .md or .json)")
    analyze.add_argument("--report", metavar="HTML", help="write a self-contained HTML report with the figures")
    analyze.add_argument("--all", action="store_true", help="also list every skipped tensor with its reason")
    analyze.add_argument("--reshape", default="spatial", choices=["spatial", "flatten", "slices"],
                         help="conv kernel to matrix (default spatial)")
    analyze.add_argument("--experts", action="append", metavar="REGEX",
                         help="3-d tensors that are expert stacks, besides those named experts/moe/_exps (repeatable)")
    analyze.add_argument("--split-qkv", action="store_true", help="also cut fused attention projections into q, k, v")
    analyze.add_argument("--split-gate-up", action="store_true", help="also cut fused gate_up projections in two")
    analyze.add_argument("--baseline", choices=["shuffled", "gaussian"],
                         help="also analyse a random baseline of every layer (shuffled entries, or Gaussian)")
    _add_shared(analyze)


def _add_shared(command) -> None:
    """The options ``analyze`` and ``diff`` share."""
    command.add_argument("--methods", nargs="+", type=_method, default=list(METHOD_NAMES), metavar="METHOD",
                         help=f"estimators of sigma, of {', '.join(METHOD_NAMES)} (default: all)")
    command.add_argument("--n-bootstrap", type=int, default=50,
                         help="power-law bootstrap samples (default 50; 0: none)")
    command.add_argument("--include", action="append", help="regular expression on tensor names to keep (repeatable)")
    command.add_argument("--exclude", action="append", help="regular expression on tensor names to drop (repeatable)")
    command.add_argument("--quiet", action="store_true", help="no per-layer progress lines")


def _add_plan(sub) -> None:
    planned = sub.add_parser("plan", help="what a config will run: recipes, layers, jobs, cost",
                             description="Show what a workflow config will run before it runs: one row per run "
                                         "group with the resolved training recipe, the jobs per rule and an "
                                         "estimate of CPU time and disk (rmtweights.plan_report).")
    planned.add_argument("config", help="a config file (e.g. config/paper.yaml)")
    planned.add_argument("--layers", action="store_true", help="one row per analysed layer with its matrix n x m")
    planned.add_argument("--csv", action="store_true", help="the table alone, as CSV")


def _add_diff(sub) -> None:
    diff = sub.add_parser("diff", help="analyse what changed from model A to model B, layer by layer",
                          description="The spectrum of W_B - W_A of every layer both hold (its MP fit, threshold "
                                      "and spikes: the update's effective rank), the relative norm, and the overlap "
                                      "of the two models' top singular subspaces. B may be a LoRA adapter.")
    diff.add_argument("a", help="the base model: weights file or folder")
    diff.add_argument("b", help="the changed model (weights file or folder) or a LoRA adapter")
    diff.add_argument("-o", "--output", help="write the full table here (.parquet, .csv, .md or .json)")
    diff.add_argument("--report", help="write a self-contained HTML page of the table here")
    _add_shared(diff)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rmtweights", description="Random-matrix analysis of neural-network weights.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_analyze(sub)
    _add_diff(sub)
    _add_plan(sub)
    return parser


def _analyze(args: argparse.Namespace) -> int:
    """``rmtweights analyze``; returns the exit status."""
    import pandas as pd

    from rmtweights.api import analyze_model
    from rmtweights.model_table import check_table_suffix, footer, layer_summary, skipped_layers, write_table_file
    from rmtweights.weights.common import WeightsError

    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        if args.output:
            check_table_suffix(args.output)  # before any work
        table = analyze_model(args.path, methods=args.methods, n_bootstrap=args.n_bootstrap, reshape=args.reshape,
                              include=args.include, exclude=args.exclude, experts=args.experts,
                              split_qkv=args.split_qkv, split_gate_up=args.split_gate_up, baseline=args.baseline,
                              spectra=bool(args.report), log=progress)
    except (WeightsError, FileNotFoundError, ValueError) as err:
        print(f"rmtweights analyze: {err}", file=sys.stderr)
        return 1
    if args.output:
        write_table_file(table, args.output)
    if args.report:
        from rmtweights.report import write_report
        from rmtweights.weights.source import open_weights

        with open_weights(args.path) as source:  # its header only, for the metadata it carries
            metadata = source.metadata
        settings = {"methods": ", ".join(args.methods), "power-law bootstrap samples": args.n_bootstrap,
                    "conv reshape": args.reshape, "baseline": args.baseline or "none"}
        write_report(table, args.report, source=args.path, metadata=metadata, settings=settings)
    summary = layer_summary(table)
    with pd.option_context("display.max_rows", None, "display.width", 250, "display.max_colwidth", 60):
        if len(summary):
            print(summary.to_string(index=False))
        skipped = skipped_layers(table)
        if args.all and len(skipped):
            print("\nnot analysed:")
            print(skipped.to_string(index=False))
    print(footer(table) + ("" if args.all or not len(skipped_layers(table)) else " (--all lists them)"))
    if not len(summary):
        print(f"rmtweights analyze: no layer of {args.path} could be analysed ({footer(table)})", file=sys.stderr)
        return 1
    return 0


DIFF_SHOWN = ["layer", "shape", "method", "rel_norm", "numerical_rank", "s_hat", "s_hat_a", "s_hat_b",
              "overlap", "overlap_random", "new_directions", "status", "reason"]


def _diff(args: argparse.Namespace) -> int:
    """``rmtweights diff``: print the table of :func:`rmtweights.diff.diff_models` and write it."""
    import pandas as pd

    from rmtweights.diff import diff_models
    from rmtweights.model_table import check_table_suffix, write_table_file
    from rmtweights.weights.common import WeightsError

    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        if args.output:
            check_table_suffix(args.output)  # before any work
        table = diff_models(args.a, args.b, methods=args.methods, n_bootstrap=args.n_bootstrap, include=args.include,
                            exclude=args.exclude, log=progress)
    except (WeightsError, FileNotFoundError, ValueError) as err:
        print(f"rmtweights diff: {err}", file=sys.stderr)
        return 1
    if args.output:
        write_table_file(table, args.output)
    if args.report:
        from rmtweights import io
        from rmtweights.diff_report import diff_report_html

        with io.atomic_path(args.report) as tmp:
            tmp.write_text(diff_report_html(table, args.a, args.b), encoding="utf-8")
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 40):
        print(table[[c for c in DIFF_SHOWN if c in table]].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (1 with a one-line message for bad input)."""
    args = _parser().parse_args(argv)
    return {"analyze": _analyze, "diff": _diff, "plan": _plan}[args.command](args)


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
