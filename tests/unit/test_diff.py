"""rmtweights.diff_models and ``rmtweights diff``: planted updates are found with their rank, noise-only changes
give none, LoRA adapters are analysed as their product, tensors that cannot be compared are listed."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from rmtweights import diff_models
from rmtweights.cli import main
from rmtweights.rmt.subspace import OVERLAP_COLUMNS


def noise(rng: np.random.Generator, n: int, m: int, scale: float = 1.0) -> np.ndarray:
    # entries of SD scale/sqrt(n): gamma = s/sqrt(n) has its bulk edge at scale (1 + sqrt(m/n)) / sqrt(n)
    return scale * rng.standard_normal((n, m)) / math.sqrt(n)


def planted(rng: np.random.Generator, n: int, m: int, strengths) -> np.ndarray:
    """sum_i theta_i u_i v_i^T with orthonormal u (length n), v (length m): singular values theta_i."""
    u, _ = np.linalg.qr(rng.standard_normal((n, len(strengths))))
    v, _ = np.linalg.qr(rng.standard_normal((m, len(strengths))))
    return u @ np.diag(strengths) @ v.T


@pytest.fixture(scope="module")
def models():
    """A: fc1 (512 x 256, noise plus two spikes) and fc2 (noise); B: fc1 + a rank-3 update with its own
    directions on top of a small noise, fc2 + the same small noise only. Stored in float32 like trained
    weights (the update's own noise is far above the float32 rounding of the stored models)."""
    rng = np.random.default_rng(0)
    n, m = 512, 256
    fc1 = noise(rng, n, m) + planted(rng, n, m, [6.0, 5.0])
    fc2 = noise(rng, n, m)
    # gamma units (s/sqrt(512)): the update's spikes 0.18, 0.15, 0.13 lie far above the bulk edge of its own
    # noise (0.004) and above that of fc1 (0.075), so B has them as spikes too; A's spikes are 0.27, 0.22
    update = planted(rng, n, m, [4.0, 3.5, 3.0]) + noise(rng, n, m, 0.05)
    a = {"fc1.weight": fc1, "fc2.weight": fc2, "fc1.bias": np.zeros(n), "only_a.weight": noise(rng, 40, 30)}
    b = {"fc1.weight": fc1 + update, "fc2.weight": fc2 + noise(rng, n, m, 0.05), "fc1.bias": np.ones(n),
         "only_a.weight": noise(rng, 30, 30), "only_b.weight": noise(rng, 40, 30)}
    as_tensors = lambda d: {k: torch.tensor(v, dtype=torch.float32) for k, v in d.items()}  # noqa: E731
    return as_tensors(a), as_tensors(b)


@pytest.fixture(scope="module")
def table(models):
    return diff_models(*models, methods=["bema", "gb"], n_bootstrap=0)


def test_a_planted_rank_3_update_has_three_spikes_and_noise_none(table):
    rows = table.set_index(["layer", "method"])
    for method in ("bema", "gb"):
        fc1, fc2 = rows.loc[("fc1", method)], rows.loc[("fc2", method)]
        assert fc1.s_hat == 3 and fc1.status == "ok"  # the update's effective rank
        # seeded: a noise-only update has no spike (the threshold's false-positive rate is beta = 0.1)
        assert fc2.s_hat == 0 and fc2.status == "ok"
        # B keeps A's two spike directions and adds the update's three: overlap 1, three new directions
        assert (fc1.s_hat_a, fc1.s_hat_b, fc1.k_a, fc1.k_b) == (2, 5, 2, 5)
        assert fc1.overlap > 0.99 and fc1.overlap_random == pytest.approx(5 / 256)
        assert fc1.new_directions == 3
        assert fc2.s_hat_a == fc2.s_hat_b == 0 and math.isnan(fc2.overlap)


def test_relative_norms_come_from_the_singular_values(models, table):
    a, b = models
    row = table[(table.layer == "fc1") & (table.method == "bema")].iloc[0]
    delta = b["fc1.weight"].double() - a["fc1.weight"].double()
    assert row.rel_norm == pytest.approx(float(delta.norm() / a["fc1.weight"].double().norm()), rel=1e-9)
    assert row.rel_norm_spectral == pytest.approx(float(torch.linalg.matrix_norm(delta, 2)
                                                        / torch.linalg.matrix_norm(a["fc1.weight"].double(), 2)),
                                                  rel=1e-9)


def test_tensors_that_cannot_be_compared_are_listed_with_the_reason(table):
    reasons = table[table.status == "skipped"].drop_duplicates("layer").set_index("layer").reason
    assert reasons["only_b"] == "only in model b"
    assert reasons["only_a"].startswith("shapes differ: (40, 30) in model a, (30, 30)")
    assert "1-d tensor" in reasons["fc1.bias"]
    assert (table.groupby("layer").method.count() == 2).all()  # one row per tensor and method
    assert set(OVERLAP_COLUMNS) <= set(table.columns)


def test_identical_models_change_nothing(models):
    a, _ = models
    same = diff_models(a, {k: v.clone() for k, v in a.items()}, methods=["bema"], n_bootstrap=0, include="fc1.weight")
    row = same.iloc[0]
    assert row.layer == "fc1" and row.status == "skipped" and "all-zero" in row.reason  # no update to analyse
    assert row.overlap == pytest.approx(1.0, abs=1e-12) and row.new_directions == 0


def test_a_lora_adapter_is_analysed_as_its_scaled_product(tmp_path):
    rng = np.random.default_rng(5)
    base = {"model.fc1.weight": torch.tensor(noise(rng, 96, 64)), "model.fc2.weight": torch.tensor(noise(rng, 64, 64))}
    factor_a, factor_b = torch.tensor(rng.standard_normal((2, 64))), torch.tensor(rng.standard_normal((96, 2)))
    adapter = {"base_model.model.model.fc1.lora_A.weight": factor_a,
               "base_model.model.model.fc1.lora_B.weight": factor_b,
               "base_model.model.model.other.lora_A.weight": torch.zeros(2, 8),
               "base_model.model.model.other.lora_B.weight": torch.zeros(8, 2)}
    save_file(base, str(tmp_path / "base.safetensors"))
    folder = tmp_path / "adapter"
    folder.mkdir()
    save_file(adapter, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 8}))
    table = diff_models(tmp_path / "base.safetensors", folder, methods=["bema", "modified_mp"], n_bootstrap=0)
    rows = table.set_index(["layer", "method"])
    fc1 = rows.loc[("model.fc1", "bema")]
    # float64 factors: the update 4 B A is exactly rank 2; s-hat is its numerical rank, with the reason
    assert fc1.numerical_rank == 2 and fc1.s_hat == 2 and fc1.status == "ok" and "exactly low rank" in fc1.reason
    assert fc1.lora_scale == 4.0  # lora_alpha / r
    delta = 4.0 * factor_b @ factor_a
    assert fc1.rel_norm == pytest.approx(float(delta.norm() / base["model.fc1.weight"].norm()), rel=1e-9)
    assert rows.loc[("model.fc1", "modified_mp")].status == "skipped"  # no threshold: no count to give
    assert rows.loc[("model.fc2", "bema")].reason == "only in model a"
    assert "which model a does not hold" in rows.loc[("base_model.model.model.other.lora_A", "bema")].reason


def test_the_command_prints_and_writes_the_same_table(models, tmp_path, capsys):
    a, b = models
    paths = []
    for name, state in (("a", a), ("b", b)):
        paths.append(str(tmp_path / f"{name}.safetensors"))
        save_file(state, paths[-1])
    out, report = tmp_path / "diff.parquet", tmp_path / "diff.html"
    argv = ["diff", *paths, "-o", str(out), "--report", str(report), "--methods", "bema", "--n-bootstrap", "0",
            "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    written = pd.read_parquet(out)
    expected = diff_models(*paths, methods=["bema"], n_bootstrap=0)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    # one printed line per row, with its layer, s-hat and status
    assert len(printed) == 1 + len(expected)
    fc1 = next(line for line in printed if line.split()[0] == "fc1").split()
    assert fc1[fc1.index("bema") + 3] == "3" and fc1[-1] == "ok"  # rel_norm, numerical_rank, then s_hat
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and "only in model b" in page and "<td" in page
    assert main(["diff", paths[0], str(tmp_path / "missing.safetensors")]) == 1
    assert "rmtweights diff:" in capsys.readouterr().err
