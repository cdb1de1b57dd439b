"""Snakemake adapter of rule unpack_batched_seed: expose one seed of a batched training as a run."""
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snakemake.script import snakemake
sys.stderr = open(snakemake.log[0], "w", buffering=1)  # tracebacks land in the log
import signal

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # scancel: unwind, drop temp files
import shutil
from pathlib import Path

source = Path(snakemake.input.done).parent / f"seed{snakemake.wildcards.seed}"
for name in ("final", "init", "metrics"):
    filename = "training.parquet" if name == "metrics" else f"{name}.pt"
    shutil.copyfile(source / filename, snakemake.output[name])
