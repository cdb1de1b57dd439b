"""Fixtures for the SLURM integration tests: a real single-node cluster and snakemake runs on it.

The cluster comes from ``tests/slurm/cluster.sh``; it runs as root from its own folder
(``RMTW_SLURM_DIR``, default /tmp/rmtw-slurm) and writes nothing outside it. slurm-wlm and munge
are installed with apt-get (``cluster.sh install``) only when asked, with ``CI=true`` or
``RMTW_INSTALL_SYSTEM_PACKAGES=1``; otherwise the tests skip, naming that variable. Every
snakemake call runs under a hard timeout drawn from one budget for the whole module
(``SLURM_BUDGET_S``), so the suite ends in bounded time even when SLURM misbehaves.
The workflow under test is described by :class:`WorkflowUnderTest`: the real workflow on the
small study of ``tests/config/slurm.yaml``. ``local_reference`` runs the same study on this
machine without SLURM, for comparing results.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SH = REPO / "tests" / "slurm" / "cluster.sh"
SLURM_PROFILE = REPO / "profiles" / "slurm"
SLURM_DIR = Path(os.environ.get("RMTW_SLURM_DIR", "/tmp/rmtw-slurm"))
SLURM_CONF = SLURM_DIR / "etc" / "slurm.conf"
# cluster.sh's srun wrapper (sets SLURM_CONF, which the slurm-jobstep executor strips inside jobs):
# first on the PATH of snakemake, and so of its jobs (sbatch --export=ALL).
SLURM_WRAPPERS = SLURM_DIR / "bin"
# Commands of slurm-wlm and munge that the cluster and these tests run.
SLURM_TOOLS = ("slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "sinfo", "scancel", "munged")
# The opt-in to installing system packages from the tests (the Makefile's rule, too).
OPT_IN = "RMTW_INSTALL_SYSTEM_PACKAGES=1"
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
# The local reference run (same study, no SLURM): its cores and wall-clock limit (s).
LOCAL_CORES = 2
LOCAL_RUN_TIMEOUT = 240
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
    one_run_args : extra arguments restricting the workflow to the single job that
        ``plant_fault`` breaks (used by the failure test).
    reference_args : extra arguments of the local reference run (``--cores 2``, no profile):
        enough targets to produce every per-run result that ``compare_results`` compares.
    train_rule : the resumable training rule, cancelled mid-way by the fault test.
    gpu_rules : rules that must be submitted with a GPU request (profile set-resources).
    group : (group name, its rules): jobs the workflow puts in one ``group:`` and the profile
        bundles (group-components); none of them may be submitted on its own.
    checkpoint_glob : glob, relative to the working directory, matching training checkpoints;
        the first match appearing while training runs triggers the scancel.
    resume_glob, resume_pattern : files in which a resumed training leaves ``resume_pattern``.
    plant_fault : ``plant_fault(workdir, reference)`` prepares a fresh working directory from the
        finished local reference run so that a job of ``fault_rule`` fails for a real reason (a
        truncated trained checkpoint); returns the broken file's path, which the error must name.
    fault_rule : the rule whose jobs then fail.
    fault_pattern : text the failing job must report (its rule log, shown by Snakemake).
    check_outputs : asserts that a completed run's results are all there and whole.
    compare_results : ``compare_results(workdir, reference)`` asserts that the run's results
        equal those of the local reference run.
    """

    snakefile: Path
    args: tuple[str, ...]
    one_run_args: tuple[str, ...]
    reference_args: tuple[str, ...]
    train_rule: str
    gpu_rules: frozenset[str]
    group: tuple[str, frozenset[str]]
    checkpoint_glob: str
    resume_glob: str
    resume_pattern: str
    plant_fault: Callable[[Path, Path], Path]
    fault_rule: str
    fault_pattern: str
    check_outputs: Callable[[Path], None]
    compare_results: Callable[[Path, Path], None]


# --- the real workflow, on the study of tests/config/slurm.yaml -------------------------------

REAL_CONFIG = REPO / "tests" / "config" / "slurm.yaml"


def _real_study() -> tuple[str, dict]:
    """(name, spec) of the one study of tests/config/slurm.yaml."""
    studies = yaml.safe_load(REAL_CONFIG.read_text())["studies"]
    assert len(studies) == 1, f"{REAL_CONFIG} must define exactly one study: {sorted(studies)}"
    return next(iter(studies.items()))


def _real_run_dirs() -> list[str]:
    """results/<study>/<dataset>/<model>/<variant>/seed<seed> of every run (RUN_DIR in common.smk)."""
    study, spec = _real_study()
    return [
        f"results/{study}/{dataset}/{model}/{variant}/seed{seed}"
        for dataset in spec["datasets"]
        for model in spec["models"]
        for variant in spec.get("variants", {"base": {}})
        for seed in spec["seeds"]
    ]


# Every per-run Parquet file the workflow writes, with the columns checked: the run keys
# (rmtweights.stages.common.add_run_keys) everywhere, and the results of training and the MP fit.
RUN_COLUMNS = {"study", "dataset", "model", "variant", "seed"}
REAL_RUN_FILES = {
    "training.parquet": RUN_COLUMNS | {"epoch", "test_acc", "seconds"},
    "spectra.parquet": RUN_COLUMNS | {"layer", "sv"},
    "mp_fit.parquet": RUN_COLUMNS | {"method", "sigma", "gamma_plus", "s_hat", "ave_w", "status"},
    **{
        f"{name}.parquet": RUN_COLUMNS
        for name in (
            "spikes",
            "avew_curve",
            "heavy_tail",
            "universality",
            "spacings",
            "number_variance",
            "porter_thomas",
            "prune",
            "lowrank",
            "correlation",
        )
    },
}
# Columns that measure time, not results: the only ones allowed to differ from the local run.
TIMING_COLUMNS = ("seconds",)


def _real_plant_fault(workdir: Path, reference: Path) -> Path:
    """The first run of the reference, trained and up to date, with its final.pt truncated.

    Training itself ignores a corrupt ``last.pt`` on purpose (it starts over), so the fault goes
    into the trained checkpoint: ``extract_spectra_and_vectors`` loads it with rmtweights.io.load_checkpoint,
    which raises io.CheckpointError naming the file. Snakemake's metadata comes along, so the
    copied training outputs count as up to date and only the broken job runs.
    """
    run = _real_run_dirs()[0]
    for part in ("resources", f"{run}/model", f"{run}/training.parquet", ".snakemake/metadata"):
        source, target = reference / part, workdir / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    final = workdir / run / "model" / "final.pt"
    data = final.read_bytes()
    final.write_bytes(data[: len(data) // 2])  # truncated, as after a crash mid-copy
    return final


def _real_check_outputs(workdir: Path) -> None:
    study, spec = _real_study()
    epochs = spec["train"]["epochs"]
    for run in _real_run_dirs():
        for name, columns in REAL_RUN_FILES.items():
            frame = pd.read_parquet(workdir / run / name)
            missing = columns - set(frame.columns)
            assert not missing, f"{run}/{name} lacks columns {missing}: {list(frame.columns)}"
        training = pd.read_parquet(workdir / run / "training.parquet")
        assert training["epoch"].tolist() == list(range(1, epochs + 1)), training
        assert training["test_acc"].between(0, 1).all(), training
        fits = pd.read_parquet(workdir / run / "mp_fit.parquet")
        assert set(fits["method"]) == {"bema", "gb", "modified_mp"}, fits
        assert set(fits["status"]) <= {"ok", "skipped", "failed"}, fits
        assert (fits["status"] == "ok").any(), fits
        for name in ("init.pt", "final.pt"):
            assert (workdir / run / "model" / name).stat().st_size > 0, name
    tables = ["table2", "training", "heavy_tail", "universality", "correlation", "lowrank"]
    for table in tables:
        frame = pd.read_parquet(workdir / f"results/tables/{study}/{table}.parquet")
        assert len(frame), f"results/tables/{study}/{table}.parquet is empty"
    first = _real_run_dirs()[0].replace("results/", "results/figures/", 1)
    for figure in ("spectrum", "universality", "avew_accuracy"):
        assert (workdir / first / f"{figure}.png").stat().st_size > 0, figure
    leftovers = [p for p in (workdir / "results").rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, f"half-written files left behind: {leftovers}"


def _real_compare_results(workdir: Path, reference: Path) -> None:
    """Every per-run Parquet file equals the local run's (training on the CPU is deterministic)."""

    def files(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.glob("results/*/*/*/*/seed*/*.parquet"))

    ours, theirs = files(workdir), files(reference)
    assert ours == theirs, (ours, theirs)
    assert len(ours) == len(_real_run_dirs()) * len(REAL_RUN_FILES), ours
    for name in ours:
        got, want = (pd.read_parquet(root / name) for root in (workdir, reference))
        drop = [c for c in TIMING_COLUMNS if c in want.columns]
        pd.testing.assert_frame_equal(
            got.drop(columns=drop), want.drop(columns=drop), check_exact=True, obj=name
        )


def _profile_threads() -> list[str]:
    """``RULE=N`` for every `set-threads` entry of profiles/slurm/config.yaml."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    return [f"{rule}={n}" for rule, n in profile["set-threads"].items()]


def _group_rules(group: str) -> frozenset[str]:
    """Rules of workflow/rules/*.smk that declare ``group: "<group>"`` (read from the source, so
    that renaming or regrouping rules does not leave this list behind)."""
    rules = set()
    texts = [smk.read_text() for smk in (REPO / "workflow" / "rules").glob("*.smk")]
    for text in texts:
        for block in re.split(r"(?m)^[ \t]*rule ", text)[1:]:
            if re.search(rf'\bgroup:\s*"{group}"', block):
                rules.add(block.split(":", 1)[0].strip())
    # `use rule A as B with:` inherits A's group
    for text in texts:
        for base, derived in re.findall(r"(?m)^use rule (\w+) as (\w+) with:", text):
            if base in rules:
                rules.add(derived)
    assert len(rules) >= 2, f"no group {group!r} of several rules in workflow/rules: {rules}"
    return frozenset(rules)


def _real_workflow() -> WorkflowUnderTest:
    config = ("--configfile", str(REAL_CONFIG), "--replace-workflow-config")
    runs = _real_run_dirs()
    epochs = _real_study()[1]["train"]["epochs"]
    assert 3 <= epochs <= 9, "the scancel needs a checkpoint mid-way; resume_pattern one digit"
    per_run = ("correlation", "heavy_tail", "universality")  # they pull in every per-run stage
    return WorkflowUnderTest(
        snakefile=REPO / "Snakefile",
        args=config,
        one_run_args=(*config, f"{runs[0]}/spectra.parquet"),
        # The profile's set-threads too: float sums (and so the weights) depend on the thread count.
        # Last: --set-threads takes every argument after it.
        reference_args=(*config, *(f"{run}/{stage}.parquet" for run in runs for stage in per_run),
                        "--set-threads", *_profile_threads()),
        train_rule="train_model",
        gpu_rules=frozenset({"train_model", "train_models_batched", "evaluate_pruning"}),
        group=("analysis", _group_rules("analysis")),
        checkpoint_glob="results/*/*/*/*/seed*/model/last.pt",
        resume_glob="logs/train_model/**/*.log",
        # rmtweights.checkpoint.try_resume; mid-way: before the last epoch
        resume_pattern=rf"resuming from \S*/model/last[.]pt \(epoch [1-{epochs - 1}]\)",
        plant_fault=_real_plant_fault,
        fault_rule="extract_spectra_and_vectors",  # the slurm study tests universality: vectors too
        fault_pattern="CheckpointError",
        check_outputs=_real_check_outputs,
        compare_results=_real_compare_results,
    )


@pytest.fixture(scope="session")
def workflow_under_test() -> WorkflowUnderTest:
    """The workflow the SLURM tests drive: the real one, on the study of tests/config/slurm.yaml.

    That study is kept to a few SLURM jobs (each costs ~15 s of Snakemake start-up on the 2-core
    test node); its training has several epochs, so a checkpoint exists mid-way for the scancel.
    """
    return _real_workflow()


# --- the cluster --------------------------------------------------------------------------------


def _cluster(command: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CLUSTER_SH), command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "RMTW_SLURM_DIR": str(SLURM_DIR)},
    )


def may_install_system_packages() -> bool:
    """Whether the tests may install system packages: only with CI=true or the opt-in."""
    return os.environ.get("CI") == "true" or os.environ.get("RMTW_INSTALL_SYSTEM_PACKAGES") == "1"


@pytest.fixture(scope="session")
def slurm_cluster():
    """Start the single-node cluster (or reuse a running one); stop it afterwards if we started it.

    Skips, with the reason, when the cluster cannot be started (no root; slurm-wlm/munge missing
    and no opt-in to installing them; apt-get or the daemons failing); set RMTW_SLURM_REQUIRED=1
    (CI) to turn that skip into a failure.
    """

    def give_up(reason: str):
        if os.environ.get("RMTW_SLURM_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    if os.geteuid() != 0:
        give_up("the SLURM test cluster needs root (its daemons run as root; mknod)")
    missing = [tool for tool in SLURM_TOOLS if shutil.which(tool) is None]
    if missing and not may_install_system_packages():
        give_up(f"slurm-wlm/munge not installed (no {missing[0]}); set {OPT_IN} (or CI=true) "
                "to let the tests install them with apt-get (root)")
    try:
        if missing:
            installed = _cluster("install", timeout=900)  # apt-get may take minutes
            if installed.returncode != 0:
                give_up("apt-get could not install slurm-wlm and munge (tests/slurm/cluster.sh "
                        "install):\n" + (installed.stdout + installed.stderr)[-2000:])
        was_running = _cluster("status", timeout=30).returncode == 0
        started = _cluster("start", timeout=300)
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
    env["PATH"] = f"{SLURM_WRAPPERS}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
    env["RMTW_SLURM_SITE"] = ""  # no site file: ignore the user's ~/.config/rmtweights/slurm.yaml
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
    """One snakemake process on the cluster (``local``: on this machine, without a profile),
    output in ``workdir/snakemake.<n>.out``."""

    workdir: Path
    workflow: WorkflowUnderTest
    extra_args: tuple[str, ...] = ()
    local: bool = False
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
        snakemake = [sys.executable, "-m", "snakemake", "--snakefile", str(self.workflow.snakefile)]
        if self.local:  # the reference: this machine, no profile
            return [*snakemake, "--cores", str(LOCAL_CORES), *self.extra_args]
        return [
            *snakemake,
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

    def start(self, workdir: Path, *args: str, local: bool = False) -> SnakemakeRun:
        return SnakemakeRun(workdir, self.workflow, tuple(args), local=local).start()

    def run(self, workdir: Path, *args: str, timeout: float, local: bool = False) -> SnakemakeRun:
        """Run snakemake to its end (or the timeout); the caller asserts on the result."""
        run = self.start(workdir, *args, local=local)
        try:
            return run.wait(self.timeout(timeout))
        finally:
            run.stop()


@pytest.fixture(scope="session")
def slurm(slurm_cluster, workflow_under_test) -> SlurmHarness:
    """Snakemake runs on the test cluster with profiles/slurm (see SlurmHarness)."""
    return SlurmHarness(workflow_under_test, SLURM_BUDGET_S)


@pytest.fixture(scope="session")
def local_reference_run(slurm, tmp_path_factory):
    """The same study run on this machine (``--cores 2``, no profile, no SLURM), started here.

    Started, not awaited: the full SLURM run starts it first, so that the two overlap (the SLURM
    run mostly waits for job status checks). ``local_reference`` waits for its end.
    """
    workdir = tmp_path_factory.mktemp("local-reference")
    run = slurm.start(workdir, *slurm.workflow.reference_args, local=True)
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture(scope="session")
def local_reference(slurm, local_reference_run) -> Path:
    """Working directory of the finished local reference run."""
    run = local_reference_run
    if run.returncode is None and not run.timed_out:
        run.wait(slurm.timeout(LOCAL_RUN_TIMEOUT))
    assert not run.timed_out, f"the local reference run did not finish in time:\n{run.tail()}"
    assert run.returncode == 0, f"the local reference run failed:\n{run.tail()}"
    return run.workdir
