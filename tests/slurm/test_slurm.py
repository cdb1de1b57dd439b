"""The SLURM profile on a real single-node SLURM cluster (tests/slurm/cluster.sh).

One full run of the real workflow (study of tests/config/slurm.yaml) with a fault: the training
jobs are scancel'ed once the first checkpoint is written; with the profile's retries the run still
completes and training resumes from that checkpoint. On that run: outputs whole and equal to a
local run's (``--cores 2``, no SLURM), GPU rules submitted with a GPU on the GPU partition,
per-run analysis jobs grouped, and a second invocation submits nothing. A separate run with a
corrupt trained checkpoint fails, with the reason in Snakemake's output, in bounded time.

Run with ``make test-slurm`` (or ``pytest tests/slurm -m slurm``); needs root, and slurm-wlm and
munge installed, or ``RMTW_INSTALL_SYSTEM_PACKAGES=1`` (or ``CI=true``) to let the tests install
them with apt-get. Nothing is written outside the cluster's folder (``RMTW_SLURM_DIR``), pytest's
temporary directories, ``~/.cache`` (Snakemake's caches) and this clone. The workflow under test
comes from the ``workflow_under_test`` fixture in conftest.py.
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

# Wall-clock limits (s) per snakemake call, each also capped by the session's shared budget.
FULL_RUN_TIMEOUT = 360
RERUN_TIMEOUT = 90
FAILING_RUN_TIMEOUT = 150


@pytest.fixture(scope="module")
def faulted_run(slurm, local_reference_run, tmp_path_factory):
    """A full run in which a training job is cancelled mid-way (after its first checkpoint).

    The local reference run (``local_reference_run``) is started just before and runs alongside.
    """
    wf = slurm.workflow
    workdir = tmp_path_factory.mktemp("slurm-full-run")
    run = slurm.start(workdir, *wf.args)
    deadline = time.monotonic() + slurm.timeout(FULL_RUN_TIMEOUT)
    try:
        while run.running() and time.monotonic() < deadline:
            run.record_jobs()  # GPU requests etc. are read from slurmctld while it has them
            if not run.cancelled and any(workdir.glob(wf.checkpoint_glob)):
                run.scancel_running(wf.train_rule)
            time.sleep(0.2)  # an epoch of the test study lasts ~0.3 s
        run.wait(deadline - time.monotonic())
    finally:
        run.stop()
    return run


def test_run_completes_despite_cancelled_training(faulted_run, slurm):
    run = faulted_run
    assert not run.timed_out, f"snakemake did not finish in time:\n{run.tail()}"
    assert run.cancelled, f"no running training job was found to cancel:\n{run.tail()}"
    assert run.returncode == 0, run.tail()
    slurm.workflow.check_outputs(run.workdir)


def test_cancelled_training_was_retried_and_resumed(faulted_run, slurm):
    wf = slurm.workflow
    run = faulted_run
    assert run.cancelled, "nothing was cancelled; see test_run_completes_despite_cancelled_training"
    for job_id in run.cancelled:
        assert run.jobs[job_id]["JobState"] == "CANCELLED", run.jobs[job_id]
    # the resubmission resumed from the checkpoint instead of starting over
    logs = "\n".join(p.read_text() for p in run.workdir.glob(wf.resume_glob))
    assert re.search(wf.resume_pattern, logs), logs
    # ... and asked for more time: the training runtime grows with the attempt
    cancelled = run.jobs[run.cancelled[0]]
    retries = [
        job
        for job in run.jobs.values()
        if job.get("Comment") == cancelled["Comment"] and job["JobId"] not in run.cancelled
    ]
    assert retries, f"no resubmission of {cancelled['Comment']}: {list(run.jobs.values())}"
    assert all(job["JobState"] == "COMPLETED" for job in retries), retries
    assert minutes(retries[-1]["TimeLimit"]) > minutes(cancelled["TimeLimit"]), retries


def test_gpu_rules_were_submitted_with_a_gpu(faulted_run, slurm):
    gpu_rules = slurm.workflow.gpu_rules
    jobs = list(faulted_run.jobs.values())
    gpu_jobs = [job for job in jobs if slurm.rule_of(job) in gpu_rules]
    other_jobs = [job for job in jobs if slurm.rule_of(job) not in gpu_rules]
    assert gpu_jobs and other_jobs, jobs
    for job in gpu_jobs:
        # set-resources gpu=1 + gpu_model (RMTW_SLURM_GPU_MODEL=fake) -> sbatch --gpus=fake:1
        assert job.get("TresPerJob") == "gres:gpu:fake:1", job
        assert job["Partition"] == "gpu", job  # RMTW_SLURM_GPU_PARTITION
    for job in other_jobs:
        assert "gpu" not in job.get("TresPerJob", ""), job
        assert job["Partition"] == "main", job  # RMTW_SLURM_PARTITION


def test_per_run_analysis_jobs_were_grouped(faulted_run, slurm):
    group, rules = slurm.workflow.group
    submitted = [slurm.rule_of(job) for job in faulted_run.jobs.values()]
    alone = [rule for rule in submitted if rule in rules]
    assert not alone, f"{alone} submitted on their own, not in group {group}: {submitted}"
    group_jobs = [rule for rule in submitted if rule.startswith(f"{group}_")]
    grouped = sum(job_stats(faulted_run.output).get(rule, 0) for rule in rules)
    # group-components bundled several components (runs, layers) into each SLURM job
    assert 1 <= len(group_jobs) < grouped, (group_jobs, grouped)


def test_results_equal_a_local_run(faulted_run, local_reference, slurm):
    assert faulted_run.returncode == 0, "the full run failed; see the tests above"
    # the cancelled and resumed training ends with the weights of an uninterrupted one
    slurm.workflow.compare_results(faulted_run.workdir, local_reference)


def test_second_invocation_submits_nothing(faulted_run, slurm):
    assert faulted_run.returncode == 0, "the full run failed; see the tests above"
    again = slurm.run(faulted_run.workdir, *slurm.workflow.args, timeout=RERUN_TIMEOUT)
    assert again.returncode == 0, again.tail()
    assert "Nothing to be done" in again.output, again.tail()
    assert "has been submitted with SLURM jobid" not in again.output, again.tail()
    assert not again.jobs, again.jobs


def test_corrupt_file_fails_the_run_with_its_reason(slurm, local_reference, tmp_path_factory):
    wf = slurm.workflow
    workdir = tmp_path_factory.mktemp("slurm-corrupt")
    planted = wf.plant_fault(workdir, local_reference)
    # one retry: the error is real, so it recurs; the run must still end, not loop or hang
    run = slurm.run(workdir, *wf.one_run_args, "--retries", "1", timeout=FAILING_RUN_TIMEOUT)
    assert not run.timed_out, f"a failing run hung:\n{run.tail()}"
    assert run.returncode != 0, run.tail()
    assert wf.fault_pattern in run.output, run.tail()
    named = (str(planted), str(planted.relative_to(workdir)))
    assert any(name in run.output for name in named), run.tail()  # the reason names the file
    failed = [job for job in run.jobs.values() if runs_rule(slurm.rule_of(job), wf.fault_rule, wf)]
    assert [job["JobState"] for job in failed] == ["FAILED", "FAILED"], list(run.jobs.values())


def runs_rule(submitted: str, rule: str, wf) -> bool:
    """Whether a SLURM job (rule or group job name, see conftest.rule_of) runs ``rule``.

    A group job's name lists its rules: ``<group>_<rule>[_<rule>...]``.
    """
    group, rules = wf.group
    if rule not in rules:
        return submitted == rule
    return submitted.startswith(f"{group}_") and rule in submitted[len(group) + 1 :]


def job_stats(output: str) -> dict[str, int]:
    """Jobs per rule from the first "Job stats" table Snakemake prints."""
    table = output.split("Job stats:", 1)[-1].split("total", 1)[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def minutes(limit: str) -> int:
    """SLURM TimeLimit as scontrol prints it ([D-]HH:MM:SS) in whole minutes."""
    days, _, clock = limit.rpartition("-")
    hours, mins, _secs = (int(part) for part in clock.split(":"))
    return (int(days or 0) * 24 + hours) * 60 + mins


def test_job_stats_reads_the_table():
    out = "Job stats:\njob  count\n---  ---\ntrain_model  2\nanalyse_model  4\ntotal  6\n"
    assert job_stats(out) == {"train_model": 2, "analyse_model": 4}


def test_minutes_reads_scontrol_time_limits():
    assert minutes("00:05:00") == 5
    assert minutes("00:10:00") == 10
    assert minutes("1-02:03:00") == (24 + 2) * 60 + 3
