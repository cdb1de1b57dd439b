"""The ``rmtweights analyze`` command: exit codes, the written table, one-line errors, ``python -m rmtweights``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from rmtweights.api import analyze_model
from rmtweights.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def weights_path(tmp_path_factory) -> str:
    g = torch.Generator().manual_seed(0)
    path = tmp_path_factory.mktemp("cli") / "model.safetensors"
    save_file({"fc1.weight": torch.randn(64, 32, generator=g), "fc1.bias": torch.randn(64, generator=g),
               "fc2.weight": torch.randn(40, 64, generator=g)}, str(path))
    return str(path)


def test_analyze_writes_the_table_of_analyze_model(weights_path, tmp_path, capsys):
    out = tmp_path / "table.parquet"
    assert main(["analyze", weights_path, "-o", str(out), "--n-bootstrap", "3", "--quiet"]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""  # --quiet: no progress lines
    assert "fc1" in printed.out and "fc2" in printed.out and "fc1.bias" in printed.out
    written = pd.read_parquet(out)
    ref = analyze_model(weights_path, n_bootstrap=3)
    pd.testing.assert_frame_equal(written, ref, check_dtype=False)  # Parquet keeps values, not every dtype


def test_options_reach_analyze_model(weights_path, tmp_path, capsys):
    out = tmp_path / "table.csv"
    argv = ["analyze", weights_path, "-o", str(out), "--methods", "bema", "--n-bootstrap", "0",
            "--include", "fc2", "--exclude", "bias"]
    assert main(argv) == 0
    progress = capsys.readouterr().err.splitlines()
    assert len(progress) == 1 and progress[0].startswith("trained fc2 40x64")  # one line per layer
    written = pd.read_csv(out)
    ref = analyze_model(weights_path, methods=["bema"], n_bootstrap=0, include=["fc2"], exclude=["bias"])
    assert written.layer.tolist() == ref.layer.tolist() == ["fc2"] and written.method.tolist() == ["bema"]
    assert written.sigma.iloc[0] == pytest.approx(ref.sigma.iloc[0], rel=1e-12)  # CSV: 17 significant digits


@pytest.mark.parametrize("kind", ["text", "zip", "missing"])
def test_bad_input_exits_1_with_one_line_naming_the_file(tmp_path, capsys, kind):
    path = tmp_path / "notes.txt"
    if kind == "text":
        path.write_bytes(b"hello, not a checkpoint\n")
    elif kind == "zip":  # a zip archive starts like a torch.save file
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.txt", "hello")
    assert main(["analyze", str(path)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rmtweights analyze: ") and str(path) in lines[0]
    assert captured.out == ""


def test_unmatched_include_exits_1(weights_path, capsys):
    assert main(["analyze", weights_path, "--include", "nomatch", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nomatch" in err[0]


def test_python_dash_m(weights_path):
    python = ROOT / ".venv" / "bin" / "python"
    result = subprocess.run([str(python if python.exists() else sys.executable), "-m", "rmtweights", "analyze",
                             weights_path, "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["layer", "kind", "shape", "method"]
    assert {"fc1", "fc2", "fc1.bias"} <= {line.split()[0] for line in result.stdout.splitlines()[1:]}
