"""The summary of a config with external studies only: a report per model (rmtweights.summary.external)."""

from __future__ import annotations

import pandas as pd

from rmtweights.stages.write_summary import write_summary


def _fits() -> pd.DataFrame:
    keys = dict(study="given", dataset="none", model="m", variant="weights", seed=0)
    rows = []
    for layer, m, trained, base, ave_w in [("fc1", 40, 4, 0, 0.8), ("fc2", 20, 2, 2, 0.5), ("fc3", 30, 0, 0, None)]:
        for state, s_hat in (("trained", trained), ("baseline", base)):
            rows.append(dict(keys, state=state, layer=layer, method="bema", m=m, s_hat=s_hat, ave_w=ave_w,
                             status="ok", reason=""))
    rows.append(dict(keys, state="trained", layer="fc1.bias", method="bema", m=0, s_hat=None, ave_w=None,
                     status="skipped", reason="1-d tensor (a bias or a normalisation scale): not a matrix"))
    return pd.DataFrame(rows)


def test_external_only_config_gets_a_model_report():
    heavy = pd.DataFrame(dict(study="given", model="m", state=["trained", "trained", "baseline"],
                              layer=["fc1", "fc2", "fc1"], alpha_sv_mean=[3.0, 5.0, 9.0], n_heavy_tailed=[1, 0, 0],
                              n_not_heavy_tailed=[0, 1, 1], n_inconclusive=[0, 0, 0]))
    text = write_summary({"results/tables/given/heavy_tail.parquet": heavy}, studies={},
                         sweeps={"wigner": None, "bbp_table": None},
                         external={"given": {"m": {"weights": "model.safetensors", "baseline": "shuffled"}}},
                         fits=_fits())
    assert text.startswith("# Model report") and "reproduced" not in text
    assert "Source: weights `model.safetensors`." in text
    assert "analysed 3 of 4 tensors and matrices; skipped: 1 biases and norms" in text
    # s-hat / min(n, m) over the layers: 4/40, 2/20, 0/30 -> median 0.1, range 0-0.1
    assert "ŝ/min(n, m), BEMA: median 0.1 (quartiles 0.05–0.1, range 0–0.1; 3 layers)" in text
    assert "Ave_w, BEMA: median 0.65" in text and "2 layers" in text
    assert "α (power-law exponent of the singular values): median 4" in text and "1 heavy tailed" in text
    assert "random baseline (shuffled entries of each layer)" in text
    assert "ŝ summed over 3 layers 6 (trained) vs 2 (baseline); trained above its baseline in 1 of 3 layers" in text


def test_a_config_with_trained_studies_keeps_the_paper_summary():
    text = write_summary({}, studies={}, sweeps={"wigner": {"Ns": [100], "seeds": [0]}, "bbp_table": None},
                         external={"given": {"m": {"weights": "x"}}}, fits=_fits())
    assert text.startswith("# What this run reproduced")
