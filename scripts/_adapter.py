"""What every rule's script does first: send its output to the rule's log, stop cleanly on scancel,
and print a failure's message on the console (the full traceback stays in the log).

Plumbing only, kept out of the library so that editing it reruns nothing.
"""
import os
import signal
import sys
import traceback


def start(snakemake) -> None:
    """Redirect stderr to ``snakemake.log[0]``, unwind on SIGTERM, report an uncaught error on the console."""
    log_path = snakemake.log[0]
    log = open(log_path, "w", buffering=1)
    console = sys.__stderr__
    sys.stderr = log
    # scancel / a cluster's time limit: unwind (atomic writes drop their temporary files)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    def report(kind, error, tb):
        traceback.print_exception(kind, error, tb, file=log)
        message = str(error).strip() or kind.__name__
        print(f"\nrmtweights: rule {snakemake.rule} failed ({kind.__name__}):\n{message}\n"
              f"(full traceback: {os.path.abspath(log_path)})\n", file=console, flush=True)

    sys.excepthook = report
