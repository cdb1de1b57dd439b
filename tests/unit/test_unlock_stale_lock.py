"""scripts/unlock_stale_lock.py: `snakemake --unlock` only when no Snakemake works in the directory.

Snakemake itself is replaced by a recorder here (the tests/workflow crash test runs the real one);
a "running Snakemake" is a sleeping Python process started as `python <dir>/snakemake` in the
directory, which is what the script looks for.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unlock():
    spec = importlib.util.spec_from_file_location("unlock_stale_lock", ROOT / "scripts" / "unlock_stale_lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def calls(unlock, monkeypatch):
    """The commands the script runs (none really runs)."""
    seen = []
    monkeypatch.setattr(unlock.subprocess, "run", lambda cmd, **kwargs: seen.append(cmd) or
                        subprocess.CompletedProcess(cmd, 0))
    return seen


def locked(directory: Path) -> Path:
    locks = directory / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text(f"{directory}/results/x.parquet\n")
    return directory


def test_no_lock_nothing_to_do(unlock, calls, tmp_path):
    assert unlock.main(["--directory", str(tmp_path)]) == 0
    assert calls == []


def test_a_stale_lock_is_removed_by_snakemake_unlock(unlock, calls, tmp_path):
    directory = locked(tmp_path / "work")
    assert unlock.main(["--directory", str(directory), "--configfile", "c.yaml"]) == 0
    assert len(calls) == 1
    assert Path(calls[0][0]).name == "snakemake"
    assert calls[0][1:] == ["--unlock", "--directory", str(directory), "--configfile", "c.yaml"]


def test_a_lock_of_a_running_snakemake_is_left_alone(unlock, calls, tmp_path, capsys):
    directory = locked(tmp_path / "work")
    fake = directory / "snakemake"  # a process whose command line is `python .../snakemake`
    fake.write_text("import time\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, str(fake)], cwd=directory)
    try:
        deadline = time.monotonic() + 30
        while not unlock.snakemake_processes(directory.resolve()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert unlock.main(["-d", str(directory)]) == 0
    finally:
        proc.kill()
        proc.wait()
    assert calls == []
    assert f"{proc.pid}: " in capsys.readouterr().err
    assert (directory / ".snakemake" / "locks" / "0.output.lock").is_file()
    # once it has ended, the same lock is stale
    assert unlock.main(["-d", str(directory)]) == 0 and len(calls) == 1


@pytest.mark.parametrize("cmdline,expected", [
    (["/env/bin/python", "/env/bin/snakemake", "--cores", "2"], True),
    (["/env/bin/snakemake", "-n"], True),
    (["python", "-m", "snakemake"], True),
    (["/env/bin/python", "/work/.snakemake/scripts/tmpab12.fit_mp.py"], True),  # a job of a killed run
    (["make", "run"], False),
    (["/env/bin/python", "scripts/unlock_stale_lock.py"], False),
    (["vim", "snakemake.log"], False),
])
def test_what_counts_as_snakemake(unlock, cmdline, expected):
    assert unlock.is_snakemake(cmdline) is expected


def test_working_directory_follows_the_run_options(unlock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert unlock.working_directory(["--cores", "2"]) == tmp_path.resolve()
    assert unlock.working_directory(["--directory", "sub", "-n"]) == (tmp_path / "sub").resolve()
    assert unlock.working_directory(["-d", "/tmp"]) == Path("/tmp").resolve()
