"""Stage write_summary (rmtweights.stages.write_summary over rmtweights.summary): each paper's block
shows our numbers beside the paper's, verdicts follow the numbers.

The study tables are built from constructed per-run rows by the workflow's own aggregation
(:func:`rmtweights.stages.aggregate_table.aggregate`, :func:`rmtweights.stages.aggregate_spike_counts.spike_count_tables`,
:func:`rmtweights.stages.summarise_wigner_outliers.wigner_summary_tables`,
:func:`rmtweights.sweeps.table1.table1_comparison`),
so the summary is tested on the columns a run really writes.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from rmtweights.stages.aggregate_table import aggregate
from rmtweights.stages.aggregate_spike_counts import spike_count_tables
from rmtweights.stages.summarise_wigner_outliers import wigner_summary_tables
from rmtweights.stages.write_summary import summary_markdown, table_key
from rmtweights.summary.verdicts import PT_REST_MAX, R_REPRODUCED, Verdict, combine_verdicts, rejections_by_chance
from rmtweights.sweeps.table1 import table1_comparison

STUDIES = {
    "demo": {"datasets": ["mnist"], "models": ["mlp"], "seeds": [0, 1, 2], "train": {"epochs": 2, "batch_size": 64},
             "variants": {"base": {}}, "compare": None, "sweep": None,
             "analyses": ["heavy_tail", "universality", "prune"]},
    "batch": {"datasets": ["mnist"], "models": ["mlp"], "seeds": [0, 1], "train": {"epochs": 2, "batch_size": 64},
              # names without digits: the batch sizes must come from the recipe
              "variants": {"small": {"train": {"batch_size": 64}}, "large": {"train": {"batch_size": 256}}},
              "compare": "batch_size", "sweep": None, "analyses": []},
    "spikes": {"datasets": ["fashion_mnist"], "models": ["spike_mlp"], "seeds": [0, 1],
               "train": {"epochs": 2, "batch_size": 64},
               "variants": {f"N{n}": {"model": {"width": n}} for n in (200, 400, 600)},
               "compare": None, "sweep": "spike_count", "analyses": []},
}
SWEEPS = {"wigner": {"Ns": [200, 400, 800], "seeds": [0, 1]},
          "bbp_table": {"sizes": [[100, 200], [250, 500]], "draws": 20}}


def assert_no_nan(text: str) -> None:
    # the workflow test's check: not even inside a word
    assert "nan" not in text.lower() and "<na>" not in text.lower() and "none" not in text.lower()


def keys(study, model="mlp", dataset="mnist", variant="base", seed=0):
    return dict(study=study, dataset=dataset, model=model, variant=variant, seed=seed)


# ------------------------------------------------------------------ constructed study tables


def correlation_table(r_implied, r_fixed=(-0.6, -0.5, -0.4), model="mlp", dataset="mnist", controls=None):
    """Per-run correlation rows aggregated as a run does. ``controls``: control -> its implied r per seed
    (default: every control 0.3 below the trained weights in every seed, so they are beaten)."""
    if controls is None:
        controls = {c: [r - 0.3 for r in r_implied] for c in ("initial", "gaussian", "shuffled")}
    rows = []
    for seed, (ri, rf) in enumerate(zip(r_implied, r_fixed)):
        states = {"trained": (ri, rf), **{c: (values[seed], rf) for c, values in controls.items()}}
        for state, (r_i, r_f) in states.items():
            for method in ("bema", "gb"):
                for reading, r in (("implied", r_i), ("fixed", r_f)):
                    reference = ri if reading == "implied" else rf
                    rows.append(dict(keys("demo", model, dataset, seed=seed), layer="fc2", state=state, method=method,
                                     reading=reading, k=102, pearson_r=r,
                                     trained_advantage=np.nan if state == "trained" else reference - r,
                                     status="ok", reason=""))
        rows.append(dict(keys("demo", model, dataset, seed=seed), layer="fc2", state="trained", method="modified_mp",
                         reading="implied", k=0, pearson_r=np.nan, trained_advantage=np.nan, status="skipped",
                         reason="modified_mp gives no threshold"))
    return aggregate("correlation", {"correlation": pd.DataFrame(rows)})


def fit_rows(study, variant, seed, layer, min_nm, s_hat, ave_w, method="bema", n=None, dataset="mnist",
             model="mlp", status="ok", reason=""):
    return dict(keys(study, model, dataset, variant, seed), state="trained", layer=layer, kind="linear",
                method=method, n=n or 2 * min_nm, m=min_nm, min_nm=min_nm, s_hat=s_hat, ave_w=ave_w, sigma=0.1,
                gamma_plus=0.2, s_hat_gd=s_hat, gamma_max=1.0, status=status, reason=reason)


def with_int_counts(frame):
    """As in a run's fit table: s-hat and s-hat_gd are nullable integers (<NA> without a count)."""
    return frame.astype({"s_hat": "Int64", "s_hat_gd": "Int64"})


def table2_table(fc2_shat=20, fc1_shat=40):
    rows = []
    for seed in range(3):
        # fc2 has the paper's shape (512) on MNIST; fc1 is 784 x 1024 here (paper: 1024)
        rows.append(fit_rows("demo", "base", seed, "fc2", 512, fc2_shat, 0.95))
        rows.append(fit_rows("demo", "base", seed, "fc2", 512, fc2_shat - 2, 0.93, method="gb"))
        rows.append(fit_rows("demo", "base", seed, "fc1", 784, fc1_shat, 0.90, n=1024))
        rows.append(fit_rows("demo", "base", seed, "fc1", 784, fc1_shat, 0.89, method="gb", n=1024))
        rows.append(fit_rows("demo", "base", seed, "fc1", 784, None, np.nan, method="modified_mp", n=1024))
        rows.append(fit_rows("demo", "base", seed, "fc4", 10, None, np.nan, status="skipped",
                             reason="m=10 <= min_dim=10: too few singular values"))
    return aggregate("table2", {"mp_fit": with_int_counts(pd.DataFrame(rows))})


def compare_table(small=(12, 0.95), large=(4, 0.83)):
    fits, training = [], []
    for variant, (s_hat, avew) in (("small", small), ("large", large)):
        for seed in range(2):
            fits.append(fit_rows("batch", variant, seed, "fc1", 784, s_hat + seed, avew + 0.01 * seed, n=1024))
            fits.append(fit_rows("batch", variant, seed, "fc2", 512, 3, 0.9))
            training.append(dict(keys("batch", variant=variant, seed=seed), epoch=2, test_acc=0.98, train_acc=0.99,
                                 test_loss=0.05, seconds=1.0))
    return aggregate("compare_batch_size", {"mp_fit": with_int_counts(pd.DataFrame(fits)),
                                            "training": pd.DataFrame(training)})


def lowrank_table(accuracy=None, fraction=0.3):
    """Per-run low-rank rows over 2 seeds: ``accuracy`` per choice (default: the per-layer rule keeps the
    dense accuracy within 0.005), ``fraction`` = params / dense params of every truncated network."""
    accuracy = accuracy or {"dense": 0.98, "bema": 0.974, "gb": 0.972, "best_avew": 0.975}
    rows = []
    for seed in range(2):
        for choice, acc in accuracy.items():
            frac = 1.0 if choice == "dense" else fraction
            rows.append(dict(keys("demo", seed=seed), choice=choice, accuracy=acc + 0.002 * seed, params_dense=1000,
                             params=int(1000 * frac), params_fraction=frac, layers_factorised=0 if frac == 1 else 2,
                             status="ok", reason=""))
        rows.append(dict(keys("demo", seed=seed), choice="modified_mp", params_dense=1000, status="skipped",
                         reason="modified_mp gives no threshold (it fits the shape of the bulk), so no rank to keep"))
    return aggregate("lowrank", {"lowrank": pd.DataFrame(rows)})


def universality_table(trained_pass, initial_pass, pt_trained=(0.5, 0.02), pt_initial=(0.05, 0.03), layers=5):
    """Per-run rows over 4 seeds x ``layers`` layers; ``*_pass`` = number of passing layer-seeds."""
    rows = []
    for state, passes, (top, rest) in (("trained", trained_pass, pt_trained), ("initial", initial_pass, pt_initial)):
        cells = [(seed, f"fc{i}") for seed in range(4) for i in range(1, layers + 1)]
        for j, (seed, layer) in enumerate(cells):
            rows.append(dict(keys("demo", seed=seed), state=state, layer=layer, ks_stat=0.05,
                             p_value=0.5 if j < passes else 0.001, pt_rejected_top=top, pt_rejected_rest=rest,
                             status="ok", reason=""))
    return aggregate("universality", {"universality": pd.DataFrame(rows)})


def spike_tables(counts):
    """Spike-count tables from per-(N, seed) counts of the N x N layer (fc2)."""
    fits, training = [], []
    for (width, seed), r in counts.items():
        for method in ("bema", "gb"):
            fits.append(dict(keys("spikes", "spike_mlp", "fashion_mnist", f"N{width}", seed), state="trained",
                             layer="fc2", method=method, n=width, m=width, s_hat=r, status="ok", reason=""))
        training.append(dict(keys("spikes", "spike_mlp", "fashion_mnist", f"N{width}", seed), epoch=2,
                             test_acc=0.88))
    return spike_count_tables(pd.DataFrame(fits).astype({"s_hat": "Int64"}), pd.DataFrame(training),
                              {f"N{w}": w for w, _ in counts})


def bbp_comparison(shift=0.0):
    """Table 1 of the paper as our own bbp_table frame, every phi and phi-hat moved by ``shift``."""
    paper = {"100x200": (200, 100, [(0.940, 0.939), (0.859, 0.860)]),
             "250x500": (500, 250, [(0.941, 0.940), (0.861, 0.862)])}
    rows = [dict(size=size, n=n, m=m, q=m / n, i=i + 1, theta=(3.0, 2.0)[i], sigma=1.0, draws=20,
                 phi=phi + shift, phi_hat=phi_hat + shift)
            for size, (n, m, values) in paper.items() for i, (phi, phi_hat) in enumerate(values)]
    return table1_comparison(pd.DataFrame(rows))


def wigner_tables(rate=-0.5, peche_shrinks=True):
    """Outlier errors 0.5 N^rate (two seeds, r = sqrt N spikes) and a Péché table whose error at the
    largest N is 1 % of the limit (or 8 % when it does not shrink)."""
    outliers, peche = [], []
    for N in (200, 400, 800):
        r = int(math.sqrt(N))
        for seed in (0, 1):
            outliers += [dict(N=N, seed=seed, r=r, j=j + 1, abs_error=0.5 * N ** rate) for j in range(r)]
            for theta in (0.5, 2.0, 3.0):
                limit = 2.0 if theta <= 1 else theta + 1 / theta
                err = (0.05 * (200 / N) if peche_shrinks else 0.08) * limit
                peche.append(dict(N=N, seed=seed, theta=theta, lambda_1=limit - err, limit=limit, abs_error=err))
    errors, pe, _ = wigner_summary_tables(pd.DataFrame(outliers), pd.DataFrame(peche))
    return errors, pe


def block(text: str, paper: str) -> str:
    """The Markdown block of one paper ("000", "001", "003")."""
    match = re.search(rf"## Paper {paper}.*?(?=\n## |\Z)", text, re.S)
    assert match, f"no block for paper {paper}"
    return match.group(0)


def line_of(text: str, title: str) -> str:
    """The bullet whose bold title starts with ``title``, with its sub-bullets."""
    match = re.search(rf"- \*\*{re.escape(title)}.*?(?=\n- \*\*|\n\n\*\*Verdict|\Z)", text, re.S)
    assert match, f"no line {title!r} in\n{text}"
    return match.group(0)


# ------------------------------------------------------------------ tests


def test_full_summary_numbers_beside_the_papers_and_verdicts():
    counts = {(200, 0): 4, (200, 1): 5, (400, 0): 6, (400, 1): 7, (600, 0): 8, (600, 1): 8}
    spike_counts, spike_growth = spike_tables(counts)
    errors, peche = wigner_tables()
    tables = {"demo/correlation": correlation_table([0.90, 0.92, 0.94]), "demo/table2": table2_table(),
              "batch/compare_batch_size": compare_table(), "demo/universality": universality_table(20, 20),
              "demo/lowrank": lowrank_table(),
              "spikes/spike_counts": spike_counts, "spikes/spike_growth": spike_growth,
              "sweeps/bbp_table": bbp_comparison(0.003), "sweeps/outlier_error": errors, "sweeps/peche": peche}
    text = summary_markdown(tables, studies=STUDIES, sweeps=SWEEPS)
    assert_no_nan(text)
    # scope: studies, datasets, models, seeds, epochs, sweeps
    scope = text.splitlines()[2]
    assert scope.startswith("**Scope.**")
    assert "`demo`: mnist × mlp, 3 seeds, 2 epochs" in scope
    assert "`spikes`: fashion_mnist × spike_mlp, variants N200, N400, N600, 2 seeds" in scope
    assert "deformed Wigner N = 200, 400, 800 (2 seeds)" in scope and "Table 1 check (2 sizes, 20 noise draws)" in scope
    # each paper cited once, with authors, title, year and arXiv id
    for arxiv in ("arXiv:2512.12911", "arXiv:2203.14661", "arXiv:2507.12182"):
        assert text.count(arxiv) == 1
    p000, p001, p003 = block(text, "000"), block(text, "001"), block(text, "003")
    assert "Nishikawa" in p000 and "Thamm" in p001 and "Afanasiev" in p003

    # Table 1: every entry moved by 0.003 -> largest difference 0.003, within 0.01
    t1 = line_of(p000, "Table 1")
    assert "0.003 for φ̂" in t1 and "0.003 for φ;" in t1 and "4 entries, 20 noise draws" in t1
    assert "→ reproduced" in t1
    # correlation: mean and SD over 3 seeds of 0.90, 0.92, 0.94 beside the paper's MLP/MNIST 0.918 ± 0.008
    corr = line_of(p000, "Ave_w vs keep-top-s accuracy")
    assert "demo/mnist/mlp (fc2): r = 0.920 ± 0.020 (3 seeds); paper MLP on MNIST: 0.918 ± 0.008 → reproduced" in corr
    fixed = [line for line in corr.splitlines() if "Fixed reading" in line]  # one line
    assert len(fixed) == 1 and "r = -0.500 ± 0.100 (3 seeds)" in fixed[0] and "falls as s grows" in fixed[0]
    # Table 2: fc2 (512 on MNIST) is comparable, 20/512 = 0.039 as in the paper; fc1 is not (784 vs 1024)
    t2 = line_of(p000, "Table 2")
    assert "| demo/mnist/mlp | fc2 | 512 | 20.0 / 18.0 | 0.039 | 0.039 / 0.186 | 0.950 / 0.930 | yes |" in t2
    assert "| demo/mnist/mlp | fc1 | 784 |" in t2 and "no: min(n, m) 784 vs 1024" in t2
    assert "fc4" not in t2  # not a layer of the paper's Table 2
    assert "within a factor 2 of the paper's in 1 of 1 → reproduced" in t2
    gap = line_of(p000, "BEMA vs GB Ave_w")
    # paired by seed: |0.95 − 0.93| = |0.90 − 0.89| + 0.01 in every seed: largest 0.020, mean 0.015 over 6 pairs
    assert "largest |BEMA − GB| = 0.020" in gap and "mean 0.015 over 6 layer-seed pairs on 2 layers" in gap
    assert "→ reproduced" in gap
    # batch size: 64 vs 256 read from the recipe (variant names carry no number)
    batch = line_of(p000, "Batch size")
    assert "batch 64: s-hat 12.5 ± 0.7 (2 seeds), Ave_w 0.955 ± 0.007 (2 seeds)" in batch
    assert "batch 256: s-hat 4.5 ± 0.7 (2 seeds), Ave_w 0.835 ± 0.007 (2 seeds)" in batch
    # both variants train 2 epochs: the larger batch takes 4x fewer steps, and the verdict says so
    assert batch.rstrip().endswith("→ reproduced (confounded with the number of steps: batch 256 at 2 epochs takes "
                                   "4× fewer SGD steps than batch 64 at 2, and no variant at batch 256 takes as many "
                                   "as batch 64).")
    low = line_of(p000, "Whole-network low rank")
    assert "paper, LeNet on CIFAR-10: BEMA 76.3 %, GB 76.3 %, per layer the method with the higher Ave_w 76.4 % at " \
           "69.2 % compression; Idelbayev and Carreira-Perpiñán (CVPR 2020): 72.6 % at 32.0 %" in low
    assert ("demo/mnist/mlp: dense 0.981 ± 0.001 (2 seeds); BEMA 0.975 ± 0.001 (2 seeds) at 70.0 % compression; "
            "GB 0.973 ± 0.001 (2 seeds) at 70.0 % compression; per-layer rule (higher Ave_w) 0.976 ± 0.001 (2 seeds) "
            "at 70.0 % compression → reproduced.") in low
    assert "**Verdict (Paper 000): reproduced.**" in p000

    # paper 001: 20 of 20 layer-seeds pass in both states; top-10 vectors rejected 50 % vs 2 % for the rest
    sp = line_of(p001, "Level spacings")
    assert "trained 20/20 pass (100 %); initial 20/20 pass (100 %) → reproduced" in sp
    pt = line_of(p001, "Porter–Thomas")
    assert "trained: top 10 rejected 50 %, rest 2 % (20 layer-seeds)" in pt and "initial: top 10 rejected 5 %" in pt
    assert "→ reproduced" in pt and "**Verdict (Paper 001): reproduced.**" in p001

    # paper 003: the growth law is the Poisson fit to the widths' total counts (the log-linear fit through three
    # points, checked against scipy here); the OLS fit of log r on log N (numpy) is the secondary estimate
    growth = line_of(p003, "Spike count")
    widths = np.array([200, 400, 600])
    totals = np.array([counts[(w, 0)] + counts[(w, 1)] for w in widths])
    poisson = optimize.minimize(lambda b: np.sum(np.exp(b[0] + b[1] * np.log(widths)) - totals * (b[0] + b[1] * np.log(widths))),
                                x0=[0.0, 0.5], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12}).x[1]
    ols = np.polyfit(np.log([w for w, _ in counts]), np.log(list(counts.values())), 1)[0]  # 6 points
    assert f"κ = {poisson:.2f} [95 % CI" in growth and "3 widths × 2 seeds" in growth
    assert f"least squares on log counts: κ = {ols:.2f}" in growth
    assert "r = 4.5 at N = 200 → 8.0 at N = 600" in growth and "→ reproduced" in growth
    err = line_of(p003, "Deformed-Wigner outliers")
    assert f"= {0.5 * 200 ** -0.5:.3f} at N = 200 (r = 14 spikes)" in err and f"{0.5 * 800 ** -0.5:.3f} at N = 800" in err
    assert "N^-0.50" in err and "2 seeds" in err and "→ reproduced" in err
    pe = line_of(p003, "Péché")
    assert "at most 1.2 % from the limit" in pe and "→ reproduced" in pe  # 0.05 * 200/800 = 1.25 %
    assert "**Verdict (Paper 003): reproduced.**" in p003


@pytest.mark.parametrize("r, kind", [(0.9, "reproduced"), (R_REPRODUCED, "reproduced"), (0.5, "partly"),
                                     (-0.5, "not reproduced"), (0.0, "not reproduced")])
def test_correlation_verdict_follows_r(r, kind):
    table = correlation_table([r, r, r], r_fixed=(0.1, 0.2, 0.3))
    corr = line_of(summary_markdown({"demo/correlation": table}, studies=STUDIES), "Ave_w vs keep-top-s accuracy")
    model_line = next(line for line in corr.splitlines() if "demo/mnist/mlp (fc2)" in line)
    assert f"r = {r:.3f} ± 0.000 (3 seeds)" in model_line and f"→ {kind}" in model_line
    assert corr.splitlines()[-1].startswith(f"  → {kind}")  # the check's verdict
    assert "falls as s grows" not in corr  # a positive fixed-reading r is not described as falling


def test_correlation_controls_decide_the_verdict():
    # the trained r is high (0.92 over 3 seeds) but a Gaussian matrix correlates better in every seed: the
    # correlation is then no property of the trained weights -> not reproduced
    trained = [0.90, 0.92, 0.94]
    beaten = [0.60, 0.62, 0.61]
    table = correlation_table(trained, controls={"initial": beaten, "gaussian": [0.95, 0.97, 0.98],
                                                 "shuffled": beaten})
    corr = line_of(summary_markdown({"demo/correlation": table}, studies=STUDIES), "Ave_w vs keep-top-s accuracy")
    model = next(line for line in corr.splitlines() if "demo/mnist/mlp (fc2)" in line)
    assert "→ not reproduced: the Gaussian control correlates better than the trained weights" in model
    gauss = next(line for line in corr.splitlines() if "control Gaussian" in line)
    # paired differences -0.05, -0.05, -0.04: mean -0.047, SD 0.0058, t(0.975, 2) = 4.303 -> [-0.061, -0.032]
    d = np.array([-0.05, -0.05, -0.04])
    half = 4.302652729911275 * d.std(ddof=1) / np.sqrt(3)
    assert f"trained − control = {d.mean():.3f} [95 % CI {d.mean() - half:.3f}, {d.mean() + half:.3f}]" in gauss
    assert gauss.endswith("→ control higher.")
    assert "control initial weights: r = 0.610 ± 0.010 (3 seeds)" in corr and "→ trained higher." in corr
    # a control that is higher in one seed and lower in the others: not distinguished -> partly
    table = correlation_table(trained, controls={"initial": beaten, "gaussian": [0.95, 0.80, 0.82], "shuffled": beaten})
    corr = line_of(summary_markdown({"demo/correlation": table}, studies=STUDIES), "Ave_w vs keep-top-s accuracy")
    assert "→ partly: not distinguished from the Gaussian control over seeds" in corr
    assert "→ not distinguished." in corr
    # one seed gives no interval: never "reproduced"
    table = correlation_table([0.9], r_fixed=(-0.2,))
    corr = line_of(summary_markdown({"demo/correlation": table}, studies=STUDIES), "Ave_w vs keep-top-s accuracy")
    assert "(1 seed: no interval)" in corr and "→ partly: not distinguished from the initial weights, Gaussian, " \
                                                 "shuffled controls over seeds" in corr


def test_correlation_other_dataset_shows_both_paper_values_and_one_seed_has_no_sd():
    table = correlation_table([0.7], r_fixed=(-0.2,), model="lenet", dataset="fashion_mnist")
    corr = line_of(summary_markdown({"demo/correlation": table}, studies=STUDIES), "Ave_w vs keep-top-s accuracy")
    assert "demo/fashion_mnist/lenet (fc2): r = 0.700 (1 seed); paper LeNet: 0.859 (MNIST), 0.932 (CIFAR-10)" in corr
    assert "partly: positive but below 0.8; not distinguished" in corr


@pytest.mark.parametrize("shift, kind", [(0.0, "reproduced"), (0.015, "partly"), (-0.05, "not reproduced")])
def test_table1_verdict_follows_the_largest_difference(shift, kind):
    line = line_of(summary_markdown({"sweeps/bbp_table": bbp_comparison(shift)}, studies={}), "Table 1")
    assert f"largest |ours − paper| = {abs(shift):.3f} for φ̂" in line and f"→ {kind}" in line


def test_table2_far_from_the_paper_is_not_reproduced():
    t2 = line_of(summary_markdown({"demo/table2": table2_table(fc2_shat=200)}, studies=STUDIES), "Table 2")
    assert "| 0.391 |" in t2 and "in 0 of 1 → not reproduced" in t2  # 200/512, ten times the paper's 20/512


@pytest.mark.parametrize("small, large, kind", [((12, 0.95), (4, 0.83), "reproduced"),
                                                ((4, 0.95), (12, 0.83), "partly"),
                                                ((4, 0.80), (12, 0.90), "not reproduced")])
def test_batch_size_verdict(small, large, kind):
    line = line_of(summary_markdown({"batch/compare_batch_size": compare_table(small, large)}, studies=STUDIES),
                   "Batch size")
    assert f"→ {kind}" in line


def test_batch_size_compares_at_equal_steps_and_names_variants_that_share_a_batch_size():
    # paper.yaml's shape: bs64 and bs256 at 2 epochs, bs256_steps at 8 epochs (as many SGD steps as bs64)
    studies = {**STUDIES, "batch": {**STUDIES["batch"], "variants": {
        "small": {"train": {"batch_size": 64}}, "large": {"train": {"batch_size": 256}},
        "large_steps": {"train": {"batch_size": 256, "epochs": 8}}}}}
    fits, training = [], []
    for variant, s_hat, avew in (("small", 12, 0.95), ("large", 4, 0.83), ("large_steps", 14, 0.97)):
        for seed in range(2):
            fits.append(fit_rows("batch", variant, seed, "fc1", 784, s_hat, avew, n=1024))
            training.append(dict(keys("batch", variant=variant, seed=seed), epoch=2, test_acc=0.98, train_acc=0.99,
                                 test_loss=0.05, seconds=1.0))
    table = aggregate("compare_batch_size", {"mp_fit": with_int_counts(pd.DataFrame(fits)),
                                             "training": pd.DataFrame(training)})
    line = line_of(summary_markdown({"batch/compare_batch_size": table}, studies=studies), "Batch size")
    # the verdict compares with the equal-steps variant (more spikes, higher Ave_w there: not reproduced)
    assert "batch 256 (large_steps, 8 epochs): s-hat 14.0" in line
    assert "compared at equal SGD steps: batch 256 at 8 epochs, batch 64 at 2" in line
    assert "(also: batch 256 (large, 2 epochs): s-hat 4.0" in line
    assert "→ not reproduced: neither more spikes nor a higher Ave_w at the small batch." in line
    assert "confounded" not in line


def test_lowrank_collapse_is_shown_and_not_reproduced():
    # the default study's Fashion-MNIST MLP: 0.862 dense, 0.313 with BEMA everywhere
    table = lowrank_table({"dense": 0.862, "bema": 0.313, "gb": 0.296, "best_avew": 0.325}, fraction=0.021)
    low = line_of(summary_markdown({"demo/lowrank": table}, studies=STUDIES), "Whole-network low rank")
    assert "dense 0.863 ± 0.001 (2 seeds); BEMA 0.314 ± 0.001 (2 seeds) at 97.9 % compression" in low
    assert "→ not reproduced: the per-layer rule loses 0.537 of the dense accuracy (rule: at most 0.01)." in low
    assert low.rstrip().endswith("(rule: the per-layer rule within 0.01 of the dense accuracy).")


def test_spacing_rejections_beyond_chance_and_porter_thomas_in_the_bulk():
    # trained: 2 of 20 rejected (chance: P(X >= 2) = 0.26); initial: 8 of 20 (far beyond chance)
    table = universality_table(18, 12, pt_trained=(0.5, 0.3))
    text = block(summary_markdown({"demo/universality": table}, studies=STUDIES), "001")
    sp = line_of(text, "Level spacings")
    assert "trained 18/20 pass (90 %); initial 12/20 pass (60 %)" in sp
    assert "partly: rejections beyond chance for the initial weights" in sp
    pt = line_of(text, "Porter–Thomas")
    assert "rest 30 %" in pt and "not reproduced" in pt and 0.3 > PT_REST_MAX
    # the top 10 deviate no more than the rest: partly
    pt = line_of(summary_markdown({"demo/universality": universality_table(20, 20, pt_trained=(0.05, 0.04))},
                                  studies=STUDIES), "Porter–Thomas")
    assert "partly: the vectors below the top 10 are random" in pt


def test_spike_growth_not_sublinear_and_wigner_not_converging():
    # r proportional to N: kappa = 1, its interval is not inside (0, 1)
    counts = {(w, s): w // 20 + s for w in (200, 400, 600) for s in (0, 1)}
    spike_counts, spike_growth = spike_tables(counts)
    errors, peche = wigner_tables(rate=0.3, peche_shrinks=False)
    text = block(summary_markdown({"spikes/spike_counts": spike_counts, "spikes/spike_growth": spike_growth,
                                   "sweeps/outlier_error": errors, "sweeps/peche": peche}, studies=STUDIES), "003")
    growth = line_of(text, "Spike count")
    row = spike_growth[spike_growth.method == "bema"].iloc[0]
    assert f"[95 % CI {row.kappa_ci_low:.2f}, {row.kappa_ci_high:.2f}]" in growth
    assert 0 < row.kappa < 1 <= row.kappa_ci_high and "partly: κ in (0, 1) but its interval" in growth
    assert "N^0.30" in line_of(text, "Deformed-Wigner") and "not reproduced: the error does not fall" in text
    pe = line_of(text, "Péché")
    assert "at most 8.0 % from the limit" in pe and "not reproduced" in pe
    assert "**Verdict (Paper 003): partly: spike growth partly; outlier error, Péché not reproduced.**" in text


def test_missing_tables_say_what_was_not_run():
    text = summary_markdown({}, studies={"spikes": STUDIES["spikes"]},
                            sweeps={"wigner": None, "bbp_table": None})
    assert_no_nan(text)
    expected = {"Table 1": "not run: sweeps.bbp_table is off in the config",
                "Ave_w vs keep-top-s accuracy": "not run: no study runs the `prune` analysis",
                "Table 2": "not run: no table2",
                "Batch size": "not run: no study compares batch_size",
                "Level spacings": "not run: no study runs the `universality` analysis",
                "Porter–Thomas": "not run: no study runs the `universality` analysis",
                "Spike count": "not run: no spike_growth table",
                "Deformed-Wigner outliers": "not run: sweeps.wigner is off in the config",
                "Péché": "not run: sweeps.wigner is off in the config"}
    for title, phrase in expected.items():
        assert phrase in line_of(text, title), title
    for paper in ("000", "001", "003"):
        assert "Verdict (Paper " + paper + "): not run" in block(text, paper)
    # without a config: the table is said to be missing
    assert "not run: no table sweeps/bbp_table" in summary_markdown({}, studies={})


def test_not_a_number_everywhere_never_prints_nan():
    """Skipped rows, a NaN reason, an all-skipped growth law and spikes nowhere: dashes and reasons only."""
    corr = correlation_table([np.nan] * 3, r_fixed=(np.nan,) * 3)
    corr["status"], corr["reason"] = "skipped", "Ave_w(s) is NaN at every s"
    t2 = table2_table(fc2_shat=0, fc1_shat=0)
    t2["ave_w_mean"] = np.nan  # s-hat = 0 everywhere: no Ave_w, so no paired gap either
    t2["ave_w_gap_bema_mean"], t2["ave_w_gap_bema_max"], t2["ave_w_gap_bema_n"] = np.nan, np.nan, 0
    growth = pd.DataFrame([dict(method="bema", layer="", status="skipped", reason="no spikes", kappa=np.nan,
                                c=np.nan)])
    text = summary_markdown({"demo/correlation": corr, "demo/table2": t2, "spikes/spike_growth": growth,
                             "batch/compare_batch_size": compare_table((0, np.nan), (0, np.nan))},
                            studies=STUDIES)
    assert_no_nan(text)
    assert "no r (Ave_w(s) is not-a-number at every s)" in text
    assert "not comparable: no layer has Ave_w under both BEMA and GB in the same seed" in text
    assert "Ave_w undefined (s-hat = 0)" in text
    assert "spikes BEMA: not estimable (no spikes)" in text


def test_rejections_by_chance_is_the_binomial_tail():
    n, p = 20, 0.05
    tail = 1 - (1 - p) ** n - n * p * (1 - p) ** (n - 1)  # P(X >= 2), closed form
    assert rejections_by_chance(2, 20) == pytest.approx(tail, rel=1e-12)  # float rounding only
    assert rejections_by_chance(0, 20) == 1.0
    with pytest.raises(ValueError, match="rejected"):
        rejections_by_chance(3, 2)


def test_combine_verdicts():
    ok, half, no = Verdict("reproduced"), Verdict("partly", "x"), Verdict("not reproduced", "y")
    idle = Verdict("not run", "z")
    assert combine_verdicts([("a", ok), ("b", idle)]).text() == "reproduced (b not run or not comparable)"
    assert combine_verdicts([("a", ok), ("b", half), ("c", no)]).text() == \
        "partly: a reproduced; b partly; c not reproduced"
    assert combine_verdicts([("c", no), ("d", idle)]).kind == "not reproduced"
    assert combine_verdicts([("d", idle)]).kind == "not run"
    with pytest.raises(ValueError, match="kind"):
        Verdict("fine")


def test_arguments_and_table_key():
    assert table_key("results/tables/demo/table2.parquet") == "demo/table2"
    assert table_key("results/tables/sweeps/bbp_table.parquet") == "sweeps/bbp_table"
    with pytest.raises(ValueError, match="'table2'"):
        summary_markdown({"table2": pd.DataFrame()}, studies={})
    with pytest.raises(ValueError, match="DataFrame"):
        summary_markdown({"demo/table2": [1, 2]}, studies={})
    with pytest.raises(ValueError, match="studies"):
        summary_markdown({}, studies=["demo"])


@pytest.mark.parametrize("kappa, low, high, kind, words", [
    (0.5, 0.2, 0.8, "reproduced", ""),
    (1.4, 1.1, 1.7, "not reproduced", "κ and its interval outside (0, 1)"),
    (0.8, 0.3, 1.3, "partly", "κ in (0, 1) but its interval [0.30, 1.30] is too wide"),
    (1.4, -6.4, 9.2, "not comparable", "κ outside (0, 1) but its interval [-6.40, 9.20] is too wide"),
])
def test_growth_verdict_reads_the_interval_not_the_point_estimate(kappa, low, high, kind, words):
    from rmtweights.summary.verdicts import growth_verdict

    verdict = growth_verdict(kappa, low, high)
    assert verdict.kind == kind and words in verdict.text()


def test_heavy_tail_context_shows_p_and_its_se_near_the_level():
    import inspect

    from rmtweights.rmt.heavytail import fit_heavy_tail
    from rmtweights.summary.verdicts import HEAVY_TAIL_LEVEL

    assert inspect.signature(fit_heavy_tail).parameters["gof_level"].default == HEAVY_TAIL_LEVEL  # one level

    def row(layer, p, se, verdict):
        return dict(keys("demo"), state="trained", layer=layer, verdict=verdict, alpha_sv=3.0, alpha_eig=2.0,
                    gof_p=p, gof_p_se=se, hill_alpha_sv=3.0, status="ok", reason="")
    # fc1: p = 0.09 ± 0.02, within 2 SE of 0.1; fc2: p = 0.5 ± 0.07, far from it
    ht = aggregate("heavy_tail", {"heavy_tail": pd.DataFrame([row("fc1", 0.09, 0.02, "inconclusive"),
                                                                row("fc2", 0.5, 0.07, "heavy_tailed")])})
    text = summary_markdown({"demo/heavy_tail": ht}, studies=STUDIES)
    line = next(line for line in text.splitlines() if "Context (heavy tails" in line)
    assert "1 heavy-tailed, 0 not heavy-tailed, 1 inconclusive" in line
    assert "within 2 Monte-Carlo SE of the level 0.1" in line and "demo/mnist/mlp fc1 p = 0.090 ± 0.020 (1 seed)" in line
    assert "fc2 p" not in line


def test_spacings_not_tested_are_counted_and_their_vectors_still_count():
    table = universality_table(20, 20)
    per_run = []
    for seed in range(4):  # a small layer: too few spacings, but its vectors were tested
        for state in ("trained", "initial"):
            per_run.append(dict(keys("demo", seed=seed), state=state, layer="conv2", ks_stat=np.nan, p_value=np.nan,
                                pt_rejected_top=1.0, pt_rejected_rest=0.02, status="skipped",
                                reason="9 spacings < 50: too few for the KS test to tell GOE from Poisson levels"))
    small = aggregate("universality", {"universality": pd.DataFrame(per_run)})
    text = block(summary_markdown({"demo/universality": pd.concat([table, small], ignore_index=True)},
                                  studies=STUDIES), "001")
    assert "trained 20/20 pass (100 %, 4 with fewer than 50 spacings not tested)" in line_of(text, "Level spacings")
    # Porter–Thomas over 24 layer-seeds: top (20 x 0.5 + 4 x 1.0) / 24 = 58 %
    assert "trained: top 10 rejected 58 %, rest 2 % (24 layer-seeds)" in line_of(text, "Porter–Thomas")
