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
    lines = printed.out.splitlines()
    header = lines[0].split()
    assert header[:3] == ["layer", "kind", "shape"] and "γ_max" in header and "tail" in header
    assert [line.split()[0] for line in lines[1:3]] == ["fc1", "fc2"]  # one line per analysed layer, in order
    assert lines[3] == "analysed 2 of 3 tensors and matrices; skipped: 1 biases and norms (--all lists them)"
    written = pd.read_parquet(out)
    ref = analyze_model(weights_path, n_bootstrap=3)
    pd.testing.assert_frame_equal(written, ref, check_dtype=False)  # Parquet keeps values, not every dtype


def test_all_lists_the_skipped_tensors_without_a_verdict(weights_path, capsys):
    assert main(["analyze", weights_path, "--n-bootstrap", "0", "--quiet", "--all", "--methods", "bema"]) == 0
    out = capsys.readouterr().out
    block = out.split("not analysed:\n", 1)[1].splitlines()
    assert block[1].split()[0] == "fc1.bias" and "1-d tensor" in block[1]
    assert "inconclusive" not in block[1] and out.rstrip().endswith("biases and norms")


@pytest.mark.parametrize("suffix", [".csv", ".md", ".json"])
def test_options_reach_analyze_model_and_the_suffix_names_the_format(weights_path, tmp_path, capsys, suffix):
    out = tmp_path / f"table{suffix}"
    argv = ["analyze", weights_path, "-o", str(out), "--methods", "bema", "--n-bootstrap", "0",
            "--include", "fc2", "--exclude", "bias"]
    assert main(argv) == 0
    progress = capsys.readouterr().err.splitlines()
    assert len(progress) == 1 and progress[0].startswith("1/1 trained fc2 40×64 matrix: ok ")  # k/N name shape
    ref = analyze_model(weights_path, methods=["bema"], n_bootstrap=0, include=["fc2"], exclude=["bias"])
    if suffix == ".csv":
        written = pd.read_csv(out)
        assert written.sigma.iloc[0] == pytest.approx(ref.sigma.iloc[0], rel=1e-12)  # CSV: 17 significant digits
    elif suffix == ".json":
        written = pd.read_json(out, orient="records")
        assert written.sigma.iloc[0] == pytest.approx(ref.sigma.iloc[0], rel=1e-9)
    else:
        text = out.read_text().splitlines()
        assert text[0].startswith("| layer | kind |") and text[2].startswith("| fc2 | linear |")
        return
    assert written.layer.tolist() == ref.layer.tolist() == ["fc2"] and written.method.tolist() == ["bema"]


def test_unknown_suffix_is_refused_before_any_work(weights_path, tmp_path, capsys):
    assert main(["analyze", weights_path, "-o", str(tmp_path / "table.xlsx"), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "table.xlsx" in captured.err and ".parquet, .csv, .md, .json" in captured.err and captured.out == ""
    assert not (tmp_path / "table.xlsx").exists()


def test_nothing_to_analyse_exits_1_and_says_why(tmp_path, capsys):
    path = tmp_path / "biases.safetensors"
    save_file({"a.bias": torch.zeros(5), "ids": torch.zeros(3, dtype=torch.int64)}, str(path))
    assert main(["analyze", str(path), "--quiet", "--n-bootstrap", "0"]) == 1
    err = capsys.readouterr().err
    assert "no layer of" in err and "1 biases and norms" in err and "1 integer and bool buffers" in err


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
    assert header[:3] == ["layer", "kind", "shape"]
    assert {"fc1", "fc2"} <= {line.split()[0] for line in result.stdout.splitlines()[1:]}
