"""Unlock a working directory after a crash: ``snakemake --unlock``, but only when the lock is stale.

A Snakemake run locks its working directory (``.snakemake/locks/``) and removes the lock when it
ends. A run killed without a chance to clean up (``kill -9``, a power cut, an out-of-memory kill of
the whole session) leaves the lock behind, and every later run stops with "LockException: Directory
cannot be locked". The lock is stale when no Snakemake process works in that directory any more;
then, and only then, this script runs ``snakemake --unlock`` (which deletes every lock of the
directory). While a run is active the lock is left alone, and Snakemake refuses to start a second
run in the same directory, as it should. ``make run`` calls this before Snakemake.

Usage: python scripts/unlock_stale_lock.py [SNAKEMAKE OPTIONS]
(the options of the run, e.g. ``--directory DIR --configfile FILE``; ``snakemake`` is the one
next to this interpreter).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import psutil  # a dependency of Snakemake


def working_directory(options: list[str]) -> Path:
    """The directory the run works in: ``--directory``/``-d`` of its options, else the current one."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--directory", "-d", default=".")
    known, _ = parser.parse_known_args(options)
    return Path(known.directory).resolve()


def is_snakemake(cmdline: list[str]) -> bool:
    """True for the command line of Snakemake (``.../snakemake ...``, ``python -m snakemake``) or of one
    of its jobs (a ``script:`` runs as ``python .snakemake/scripts/tmp*.py``; it may outlive a killed
    Snakemake and still be writing its outputs)."""
    return (any(Path(arg).name == "snakemake" for arg in cmdline[:2]) or cmdline[1:3] == ["-m", "snakemake"]
            or any(f".snakemake{os.sep}scripts{os.sep}" in arg for arg in cmdline[1:3]))


def snakemake_processes(directory: Path) -> list[str]:
    """Snakemake processes and jobs that may work in ``directory`` (their cwd is it, or cannot be
    read), as ``"pid: command line"``. Snakemake changes into ``--directory`` when it starts."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["pid"] == os.getpid() or not is_snakemake(cmdline):
            continue
        try:
            cwd = Path(proc.cwd()).resolve()
        except psutil.NoSuchProcess:
            continue
        except psutil.AccessDenied:  # another user's process: it may be working here
            cwd = None
        if cwd is None or cwd == directory:
            found.append(f"{proc.info['pid']}: {' '.join(cmdline)}")
    return found


def main(options: list[str]) -> int:
    directory = working_directory(options)
    locks = sorted((directory / ".snakemake" / "locks").glob("*.lock"))
    if not locks:
        return 0
    running = snakemake_processes(directory)
    if running:
        print(f"unlock_stale_lock: {directory} is locked by a running Snakemake, left alone:\n  "
              + "\n  ".join(running), file=sys.stderr)
        return 0
    print(f"unlock_stale_lock: no Snakemake runs in {directory}: removing the stale lock of an interrupted run",
          file=sys.stderr)
    snakemake = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(snakemake), "--unlock", *options], stdout=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
