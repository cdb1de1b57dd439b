"""Fixtures for the SLURM integration tests: a real single-node cluster and snakemake runs on it.

The cluster comes from ``tests/slurm/cluster.sh`` (slurm-wlm + munge, installed with apt-get
when missing). Every snakemake call runs under a hard timeout drawn from one budget for the
whole module (``SLURM_BUDGET_S``), so the suite ends in bounded time even when SLURM misbehaves.
The workflow under test is described by :class:`WorkflowUnderTest`; switching from the mini
workflow to the real one means building a different instance in ``workflow_under_test``.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SH = REPO / "tests" / "slurm" / "cluster.sh"
SLURM_PROFILE = REPO / "profiles" / "slurm"
SLURM_DIR = Path(os.environ.get("RMTW_SLURM_DIR", "/tmp/rmtw-slurm"))
SLURM_CONF = SLURM_DIR / "etc" / "slurm.conf"
# Wall-clock budget (s) for all snakemake calls of the module: the issue allows 8 minutes.
SLURM_BUDGET_S = float(os.environ.get("RMTW_SLURM_BUDGET_S", "450"))
# Partitions and GPU type of the test cluster (cluster.sh), handed to the profile the way a user
# would: through the RMTW_SLURM_* environment variables (profiles/README.md).
PROFILE_ENV = {
    "RMTW_SLURM_PARTITION": "main",
    "RMTW_SLURM_GPU_PARTITION": "gpu",
    "RMTW_SLURM_GPU_MODEL": "fake",
    "RMTW_SLURM_STATUS_COMMAND": "squeue",  # no slurmdbd here, so no sacct
    "RMTW_SLURM_ACCOUNT": "",
    "RMTW_SLURM_QOS": "",
}
# Test-only settings on top of the profile (besides --cores <CPUs of the node>, so that group
# jobs fit the test node): first status check after 2 s instead of 40 s (MinJobAge=300 >= 3 x 2 s
# keeps squeue reliable); short latency wait; keep the SLURM logs of successful jobs.
FAST_ARGS = (
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--latency-wait",
    "5",
    "--slurm-keep-successful-logs",
)


@dataclass(frozen=True)
class WorkflowUnderTest:
    """What the SLURM tests need to know about the workflow they drive.

    Attributes
    ----------
    snakefile : Snakefile to run (``--snakefile``).
    args : extra snakemake arguments for a full run (config files, ``--config`` overrides).
    one_run_args : extra arguments restricting the workflow to the single run that
        ``plant_fault`` breaks (used by the failure test).
    train_rule : the resumable training rule, cancelled mid-way by the fault test.
    gpu_rules : rules that must be submitted with a GPU request (profile set-resources).
    group : (group name, its rules): jobs the workflow puts in one ``group:`` and the profile
        bundles (group-components); none of them may be submitted on its own.
    checkpoint_glob : glob, relative to the working directory, matching training checkpoints;
        the first match appearing while training runs triggers the scancel.
    resume_glob, resume_pattern : files in which a resumed training leaves ``resume_pattern``.
    plant_fault : writes a corrupt file into a fresh working directory that makes a job of
        ``fault_rule`` fail for a real reason (mini: a truncated training checkpoint); returns its
        path, which the error must name.
    fault_rule : the rule whose jobs then fail.
    fault_pattern : text the failing job must report (its rule log, shown by Snakemake).
    check_outputs : asserts that a completed run's results are all there and whole.
    """

    snakefile: Path
    args: tuple[str, ...]
    one_run_args: tuple[str, ...]
    train_rule: str
    gpu_rules: frozenset[str]
    group: tuple[str, frozenset[str]]
    checkpoint_glob: str
    resume_glob: str
    resume_pattern: str
    plant_fault: Callable[[Path], Path]
    fault_rule: str
    fault_pattern: str
    check_outputs: Callable[[Path], None]


# --- the mini workflow (tests/slurm/mini/Snakefile) -------------------------------------------

MINI_SEEDS = (0, 1)
MINI_EPOCHS = 5


def _mini_plant_fault(workdir: Path) -> Path:
    path = workdir / "resources/checkpoints/mini/seed0/last.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"epoch": 2, "seed": 0')  # truncated JSON, as after a crash mid-write
    return path


def _mini_check_outputs(workdir: Path) -> None:
    summary = json.loads((workdir / "results/mini/summary.json").read_text())
    runs = sorted((row["seed"], row["layer"]) for row in summary["runs"])
    assert runs == [(seed, layer) for seed in MINI_SEEDS for layer in ("fc1", "fc2")]
    for seed in MINI_SEEDS:
        model = json.loads((workdir / f"results/mini/seed{seed}/model.json").read_text())
        assert model == {"seed": seed, "epochs": MINI_EPOCHS, "weights": [1.0] * 8}
        history = (workdir / f"resources/checkpoints/mini/seed{seed}/history.log").read_text()
        # a GPU was handed to every training attempt (gres sets CUDA_VISIBLE_DEVICES)
        assert "CUDA_VISIBLE_DEVICES=none" not in history, history
        assert history.count("started from scratch") == 1, history
    leftovers = [p for p in (workdir / "results").rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, f"half-written files left behind: {leftovers}"


MINI = WorkflowUnderTest(
    snakefile=REPO / "tests/slurm/mini/Snakefile",
    args=("--config", f"seeds={list(MINI_SEEDS)}", f"epochs={MINI_EPOCHS}", "epoch_seconds=2"),
    one_run_args=("--config", "seeds=[0]", f"epochs={MINI_EPOCHS}", "epoch_seconds=1"),
    train_rule="train_model",
    gpu_rules=frozenset({"train_model"}),
    group=("analysis", frozenset({"analyse_model"})),
    checkpoint_glob="resources/checkpoints/mini/seed*/last.json",
    resume_glob="resources/checkpoints/mini/seed*/history.log",
    resume_pattern=r"resumed from epoch [1-9]",
    plant_fault=_mini_plant_fault,
    fault_rule="train_model",
    fault_pattern="corrupt checkpoint",
    check_outputs=_mini_check_outputs,
)


@pytest.fixture(scope="session")
def workflow_under_test() -> WorkflowUnderTest:
    """The workflow the SLURM tests drive.

    To drive the real workflow instead, return an instance along these lines (paths absolute;
    the study must stay small: each SLURM job costs ~15 s of Snakemake start-up on 2 cores, and
    training needs >= 3 epochs so that a checkpoint exists mid-way)::

        WorkflowUnderTest(
            snakefile=REPO / "Snakefile",
            args=("--configfile", str(REPO / "tests/config/slurm.yaml"),
                  "--replace-workflow-config"),
            one_run_args=(... same, plus the target of the one broken run ...),
            train_rule="train_model",
            gpu_rules=frozenset({"train_model", "train_models_batched", "evaluate_pruning"}),
            group=("analysis", frozenset({"extract_spectra", "fit_mp", ...})),  # group: "analysis"
            checkpoint_glob="results/*/*/*/*/seed*/model/last.pt",
            resume_glob="logs/train_model/**/*.log",
            resume_pattern=r"resuming from .*last[.]pt",  # rmtweights.train._try_resume
            plant_fault=...,  # a corrupt last.pt is ignored by design; break e.g. final.pt instead
            fault_rule="extract_spectra",
            fault_pattern="CheckpointError",
            check_outputs=...,  # Parquet columns of the run's stages
        )
    """
    return MINI


# --- the cluster --------------------------------------------------------------------------------


def _cluster(command: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CLUSTER_SH), command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "RMTW_SLURM_DIR": str(SLURM_DIR)},
    )


@pytest.fixture(scope="session")
def slurm_cluster():
    """Start the single-node cluster (or reuse a running one); stop it afterwards if we started it.

    Skips, with the reason, when the cluster cannot be started (no root, no apt-get, daemons
    failing); set RMTW_SLURM_REQUIRED=1 (CI) to turn that skip into a failure.
    """

    def give_up(reason: str):
        if os.environ.get("RMTW_SLURM_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    if os.geteuid() != 0:
        give_up("the SLURM test cluster needs root (daemons, apt-get, mknod)")
    try:
        was_running = _cluster("status", timeout=30).returncode == 0
        started = _cluster("start", timeout=900)  # apt-get install may take minutes
    except subprocess.TimeoutExpired as err:
        give_up(f"tests/slurm/cluster.sh timed out: {err}")
    if started.returncode != 0:
        give_up(
            "SLURM test cluster could not be started (tests/slurm/cluster.sh start):\n"
            + (started.stdout + started.stderr)[-2000:]
        )

    stopped = False

    def stop():
        nonlocal stopped
        if not stopped and not was_running:
            stopped = True
            try:
                _cluster("stop", timeout=60)
            except subprocess.TimeoutExpired:
                pass

    atexit.register(stop)  # also on an interrupted session
    try:
        yield SLURM_CONF
    finally:
        stop()


# --- snakemake on the cluster -------------------------------------------------------------------


def slurm_env() -> dict[str, str]:
    """Environment of the snakemake process (and, through sbatch --export=ALL, of its jobs)."""
    env = {**os.environ, **PROFILE_ENV}
    env["SLURM_CONF"] = str(SLURM_CONF)
    env["RMTW_SLURM_SITE"] = ""  # no site file: ignore the user's ~/.config/rmtweights/slurm.yaml
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    env.pop("SLURM_JOB_ID", None)
    return env


def scontrol_jobs() -> dict[str, dict[str, str]]:
    """All jobs slurmctld still knows (finished ones for MinJobAge s), by job id."""
    out = subprocess.run(
        ["scontrol", "-o", "show", "job"],
        capture_output=True,
        text=True,
        timeout=30,
        env=slurm_env(),
    ).stdout
    jobs = {}
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w[\w/:]*)=(\S*)", line))
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


def node_cpus() -> int:
    """CPUs of the (single) test node, as slurmctld knows them."""
    out = subprocess.run(
        ["sinfo", "-h", "-o", "%c"], capture_output=True, text=True, timeout=30, env=slurm_env()
    ).stdout.split()
    return int(out[0]) if out and out[0].isdigit() else 1


def rule_of(job: dict[str, str]) -> str:
    """Rule or group name of a job the plugin submitted (comment rule_<name>[_wildcards_...]).

    A group job reads ``<group>_<rule>``, e.g. ``analysis_analyse_model``.
    """
    comment = job.get("Comment", "")
    return re.sub(r"^rule_", "", comment.split("_wildcards_")[0])


@dataclass
class SnakemakeRun:
    """One snakemake process on the cluster, output in ``workdir/snakemake.<n>.out``."""

    workdir: Path
    workflow: WorkflowUnderTest
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    returncode: int | None = None
    seconds: float = 0.0
    timed_out: bool = False
    jobs: dict[str, dict[str, str]] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    logfile: Path | None = None
    _started: float = 0.0

    @property
    def output(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile else ""

    @property
    def run_id(self) -> str | None:
        found = re.search(r"SLURM run ID: (\S+)", self.output)
        return found.group(1) if found else None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(self.workflow.snakefile),
            "--profile",
            str(SLURM_PROFILE),
            "--cores",
            str(node_cpus()),
            *FAST_ARGS,
            *self.extra_args,
        ]

    def start(self) -> SnakemakeRun:
        self.workdir.mkdir(parents=True, exist_ok=True)
        earlier = len(list(self.workdir.glob("snakemake.*.out")))
        self.logfile = self.workdir / f"snakemake.{earlier}.out"
        with open(self.logfile, "w") as out:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                env=slurm_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a timeout can end it all
            )
        self._started = time.monotonic()
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def record_jobs(self) -> None:
        """Remember this run's SLURM jobs as slurmctld reports them now."""
        run_id = self.run_id
        if run_id is None:
            return
        for job_id, job in scontrol_jobs().items():
            if job.get("JobName") == run_id:
                self.jobs[job_id] = job

    def scancel_running(self, rule: str) -> list[str]:
        """Cancel this run's RUNNING jobs of ``rule``; remember and return their ids."""
        ids = [
            job_id
            for job_id, job in scontrol_jobs().items()
            if job.get("JobName") == self.run_id
            and job.get("JobState") == "RUNNING"
            and rule_of(job) == rule
        ]
        if ids:
            subprocess.run(["scancel", *ids], env=slurm_env(), check=True, timeout=30)
            self.cancelled.extend(ids)
        return ids

    def wait(self, timeout: float) -> SnakemakeRun:
        """Wait for the end; on timeout interrupt snakemake (it scancels its jobs), then kill."""
        try:
            self.returncode = self.process.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.stop()
        self.seconds = time.monotonic() - self._started
        self.record_jobs()
        return self

    def stop(self) -> None:
        """End a still-running snakemake: SIGINT (it cancels its jobs), SIGKILL after 30 s."""
        if not self.running():
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        if self.run_id:
            subprocess.run(["scancel", "--name", self.run_id], env=slurm_env(), timeout=30)
        self.returncode = self.process.returncode

    def tail(self, chars: int = 6000) -> str:
        return self.output[-chars:]


class SlurmHarness:
    """Starts snakemake runs of the workflow under test, each under a hard timeout.

    All calls share one wall-clock budget (``SLURM_BUDGET_S``), so the module cannot exceed it.
    """

    rule_of = staticmethod(rule_of)

    def __init__(self, workflow: WorkflowUnderTest, seconds: float):
        self.workflow = workflow
        self.deadline = time.monotonic() + seconds

    def timeout(self, wanted: float) -> float:
        left = self.deadline - time.monotonic()
        if left < 10:
            pytest.fail("the SLURM test budget (RMTW_SLURM_BUDGET_S) is used up")
        return min(wanted, left)

    def start(self, workdir: Path, *args: str) -> SnakemakeRun:
        return SnakemakeRun(workdir, self.workflow, tuple(args)).start()

    def run(self, workdir: Path, *args: str, timeout: float) -> SnakemakeRun:
        """Run snakemake to its end (or the timeout); the caller asserts on the result."""
        run = self.start(workdir, *args)
        try:
            return run.wait(self.timeout(timeout))
        finally:
            run.stop()


@pytest.fixture(scope="session")
def slurm(slurm_cluster, workflow_under_test) -> SlurmHarness:
    """Snakemake runs on the test cluster with profiles/slurm (see SlurmHarness)."""
    return SlurmHarness(workflow_under_test, SLURM_BUDGET_S)
