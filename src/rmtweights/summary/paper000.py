"""Paper 000 (Nishikawa, Shimizu, Hashiguchi): singular-value thresholds and Ave_w, checked against
Table 1, the Ave_w–accuracy correlation of Fig. 2, Table 2 and the batch sizes of Fig. 3.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Sec. 4, Tables 1–2,
   Figs. 2–3.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.controls import CONTROLS
from rmtweights.formatting import number
from rmtweights.methods import METHODS
from rmtweights.summary.markdown import block, clean, decimals, not_run, pct, pm, reason, run_path, seeds
from rmtweights.summary.papers import (
    CITATION_000,
    DATASET_NAMES,
    MODEL_NAMES,
    PAPER_BATCH,
    PAPER_CORRELATION,
    PAPER_LOWRANK,
    PAPER_METHODS,
    PAPER_SETUP,
    PAPER_TABLE1_DRAWS,
    PAPER_TABLE2,
    PAPER_TABLE2_MAX_GAP,
)
from rmtweights.summary.tables import analysed, collect, sweep, train_setting, usable
from rmtweights.summary.verdicts import (
    AVEW_GAP,
    CONTROL_CONFIDENCE,
    HEAVY_TAIL_LEVEL,
    LOWRANK_ACCURACY_DROP,
    PHI_TOLERANCE,
    R_REPRODUCED,
    SHAT_FACTOR,
    Verdict,
    control_outcome,
    correlation_verdict,
    gap_verdict,
    lowrank_verdict,
    paired_interval,
)

__all__ = ["TITLE", "CONTROL_NAMES", "paper_block", "table1_check", "correlation_check", "table2_check",
           "batch_size_check", "lowrank_check", "heavy_tail_context"]

TITLE = "Paper 000: singular-value thresholds and Ave_w"
#: How the summary names the controls of the Ave_w correlation (:data:`rmtweights.controls.CONTROLS`).
CONTROL_NAMES = {"initial": "initial weights", "gaussian": "Gaussian", "shuffled": "shuffled"}
#: "0.85–0.93": the range of the model means of Fig. 2 (Sec. 4 of [1]_).
_PAPER_R_RANGE = (f"{min(mean for mean, _ in PAPER_CORRELATION.values()):.2f}–"
                  f"{max(mean for mean, _ in PAPER_CORRELATION.values()):.2f}")


def paper_block(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping],
                sweeps: Mapping[str, Any] | None) -> list[str]:
    """Paper 000's block of the summary: its checks, the heavy-tail context and its verdict."""
    table2_lines, table2_verdict, gap = table2_check(tables, studies)
    return block(TITLE, CITATION_000, [
        ("Table 1", *table1_check(tables, sweeps)),
        ("the Ave_w–accuracy correlation", *correlation_check(tables, studies)),
        ("Table 2", table2_lines, table2_verdict), ("BEMA vs GB", [], gap),
        ("batch size", *batch_size_check(tables, studies)),
        ("low rank", *lowrank_check(tables, studies))], heavy_tail_context(tables))


def table1_check(tables: Mapping[str, pd.DataFrame], sweeps: Mapping[str, Any] | None) -> tuple[list[str], Verdict]:
    """Table 1 of [1]_: our phi and phi-hat of the sweep beside the printed ones (``sweeps/bbp_table``)."""
    name = "Table 1 (φ and φ̂ for a rank-2 signal, θ = 3, 2, σ = 1)"
    frame = sweep(tables, "bbp_table")
    if frame is None:
        off = sweeps is not None and not sweeps.get("bbp_table")
        return not_run(name, "sweeps.bbp_table is off in the config" if off else "no table sweeps/bbp_table")
    rows = frame[frame.paper_phi_hat.notna()] if "paper_phi_hat" in frame else frame.iloc[:0]
    if rows.empty:
        verdict = Verdict("not comparable", "the sweep's sizes or θ, σ are not those of the paper's Table 1")
        return [f"- **{name}**: {verdict.text()}."], verdict
    d_hat = rows.diff_phi_hat.abs().astype(float)
    d_phi = rows.diff_phi.abs().astype(float)
    worst = rows.loc[d_hat.idxmax()]
    draws = int(rows.draws.max())
    largest = max(float(d_hat.max()), float(d_phi.max()))
    if largest <= PHI_TOLERANCE:
        verdict = Verdict("reproduced")
    elif largest <= 2 * PHI_TOLERANCE:
        verdict = Verdict("partly", f"largest difference {decimals(largest)} exceeds {PHI_TOLERANCE} but not "
                                    f"{2 * PHI_TOLERANCE}")
    else:
        verdict = Verdict("not reproduced", f"largest difference {decimals(largest)} > {2 * PHI_TOLERANCE}")
    line = (f"- **{name}**: largest |ours − paper| = {decimals(d_hat.max())} for φ̂ ({worst['size']}, i = "
            f"{int(worst['i'])}: {decimals(worst.phi_hat)} vs {decimals(worst.paper_phi_hat)}), "
            f"{decimals(d_phi.max())} for φ; "
            f"{len(rows)} entries, {draws} noise draws per size (paper: {PAPER_TABLE1_DRAWS}) → {verdict.text()} "
            f"(rule: within {PHI_TOLERANCE}).")
    return [line], verdict


def _paper_r(model: str, dataset: str) -> str:
    """The paper's r for ``model`` on ``dataset`` (both data sets for another one, the range for another model)."""
    if (model, dataset) in PAPER_CORRELATION:
        mean, sd = PAPER_CORRELATION[(model, dataset)]
        return f"paper {MODEL_NAMES[model]} on {DATASET_NAMES[dataset]}: {mean:.3f} ± {sd:.3f}"
    if model in MODEL_NAMES:
        values = [f"{PAPER_CORRELATION[(model, d)][0]:.3f} ({DATASET_NAMES[d]})" for d in ("mnist", "cifar10")]
        return f"paper {MODEL_NAMES[model]}: {', '.join(values)}"
    return f"paper: {_PAPER_R_RANGE}"


def _control_line(control: str, row: pd.Series) -> tuple[str, str]:
    """One control's sub-bullet (its r, and the trained weights' paired advantage with its interval)
    and its :func:`~rmtweights.summary.verdicts.control_outcome`."""
    mean = number(row.get("trained_advantage_mean"), math.nan)
    sd = number(row.get("trained_advantage_sd"), math.nan)
    n = int(number(row.get("trained_advantage_n"), 0) or 0)
    outcome = control_outcome(mean, sd, n)
    low, high = paired_interval(mean, sd, n)
    if n >= 2 and math.isfinite(low):
        gap = (f"trained − control = {decimals(mean)} [{pct(CONTROL_CONFIDENCE)} CI {decimals(low)}, "
               f"{decimals(high)}] over {n} paired seeds")
    elif n == 1:
        gap = f"trained − control = {decimals(mean)} (1 seed: no interval)"
    else:
        gap = "no paired difference"
    r = pm(row.get("pearson_r_mean"), row.get("pearson_r_sd"), row.get("pearson_r_n"), row.get("n_seeds"))
    return f"    - control {CONTROL_NAMES[control]}: r = {r}; {gap} → {outcome}.", outcome


def correlation_check(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict]:
    """Fig. 2 of [1]_: the Pearson r of Ave_w(s) and the keep-top-s accuracy, per model, beside the
    same r of the layer's controls (:data:`rmtweights.controls.CONTROLS`) against the same accuracy
    curve (``correlation``)."""
    name = "Ave_w vs keep-top-s accuracy (Fig. 2)"
    frame = collect(tables, lambda n: n == "correlation")
    if frame.empty:
        why = ("no study runs the `prune` analysis" if studies and not analysed(studies, "prune")
               else "no correlation table")
        return not_run(name, why)
    if "state" not in frame:  # a table without controls: every row is the trained weights'
        frame = frame.assign(state="trained")
    keys = [k for k in ("study", "dataset", "model", "variant", "layer") if k in frame]
    implied = frame[(frame.reading == "implied") & frame.method.isin(PAPER_METHODS)]
    lines = [f"- **{name}**, implied reading (Pearson r over s = 1…k, mean ± SD over seeds; paper {_PAPER_R_RANGE}; "
             "the implied curve does not use the estimator's σ̂, so BEMA and GB give the same r). Controls, each "
             "correlated with the same accuracy curve: the initial weights, a Gaussian matrix of the layer's shape, "
             "the entry-shuffled trained matrix; reproduced only where the trained weights' r is higher than every "
             f"control's over seeds (paired difference, {pct(CONTROL_CONFIDENCE)} t-interval above 0):"]
    verdicts: list[tuple[str, Verdict]] = []
    for _, group in implied[implied.state == "trained"].groupby(keys, sort=True):
        ok = usable(group)
        head = group.iloc[0]
        label = f"{run_path(head)} ({head['layer']})" if "layer" in head else run_path(head)
        if ok.empty or number(ok.iloc[0].pearson_r_mean, None) is None:
            lines.append(f"  - {label}: no r ({reason(group)}).")
            continue
        row = ok.sort_values("method").iloc[0]  # bema before gb: the same r
        same = implied[(implied.method == row.method)]
        for key in keys:
            same = same[same[key] == head[key]]
        sub, outcomes = [], {}
        for control in CONTROLS:
            rows = same[same.state == control]
            if rows.empty:
                continue
            text, outcome = _control_line(control, rows.iloc[0])
            sub.append(text)
            outcomes[CONTROL_NAMES[control]] = outcome
        verdict = correlation_verdict(float(row.pearson_r_mean), outcomes)
        verdicts.append((label, verdict))
        lines.append(f"  - {label}: r = {pm(row.pearson_r_mean, row.pearson_r_sd, row.pearson_r_n, row.n_seeds)}; "
                     f"{_paper_r(str(head.get('model', '')), str(head.get('dataset', '')))} → {verdict.text()}.")
        lines += sub
    fixed = usable(frame[(frame.reading == "fixed") & (frame.method == "bema") & (frame.state == "trained")])
    fixed = fixed[pd.to_numeric(fixed.get("pearson_r_mean"), errors="coerce").notna()] if len(fixed) else fixed
    if len(fixed):
        r_fixed = fixed.pearson_r_mean.astype(float)
        trend = ("negative: with one σ̂ for every s, each added value near the bulk has φ̂ ≈ 0, so Ave_w(s) "
                 "falls as s grows (expected)" if (r_fixed < 0).all() else "see docs/reading-results.md")
        one = fixed.iloc[0]
        value = (pm(one.pearson_r_mean, one.pearson_r_sd, one.pearson_r_n, one.n_seeds) if len(fixed) == 1
                 else f"{decimals(r_fixed.min())} … {decimals(r_fixed.max())} over {len(fixed)} models "
                      "(means over seeds)")
        lines.append(f"  - Fixed reading (BEMA σ̂ for every s, trained weights): r = {value}; {trend}.")
    else:
        lines.append("  - Fixed reading (one σ̂ for every s): no r (Ave_w(s) constant or undefined: no value above "
                     "the MP edge of σ̂).")
    if not verdicts:
        verdict = Verdict("not comparable", "no model has an implied-reading r")
        return lines + [f"  → {verdict.text()}."], verdict
    good = [n for n, v in verdicts if v.kind == "reproduced"]
    positive = [n for n, v in verdicts if v.kind != "not reproduced"]
    if len(good) == len(verdicts):
        verdict = Verdict("reproduced")
    elif not positive:
        verdict = Verdict("not reproduced", f"for none of {len(verdicts)} models is r ≥ {R_REPRODUCED} and higher "
                                            "than every control's")
    else:
        verdict = Verdict("partly", f"r ≥ {R_REPRODUCED} and higher than every control's for {len(good)} of "
                                    f"{len(verdicts)} models")
    lines.append(f"  → {verdict.text()}.")
    return lines, verdict


def _table2_runs(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping]) -> pd.DataFrame:
    """Fit rows of the studies that are neither variant comparisons nor sweeps (the comparisons'
    when there are no others; never a sweep's)."""
    frame = collect(tables, lambda n: n == "table2")
    if frame.empty:
        return frame
    spec = {s: studies.get(s) or {} for s in frame.study.unique()}
    frame = frame[[not spec[s].get("sweep") for s in frame.study]]
    plain = frame[[not spec[s].get("compare") for s in frame.study]]
    return plain if len(plain) else frame


def table2_check(tables: Mapping[str, pd.DataFrame],
                 studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict, Verdict]:
    """Table 2 of [1]_: s-hat / min(n, m) per layer beside the paper's, and the BEMA–GB Ave_w gap
    (``table2``); returns the lines, the Table 2 verdict and the gap's verdict."""
    name = "Table 2 (s-hat / min(n, m) per layer)"
    gap_name = "BEMA vs GB Ave_w (Table 2)"
    frame = _table2_runs(tables, studies)
    if frame.empty:
        lines, verdict = not_run(name, "no table2 outside the spike-count sweeps")
        return lines, verdict, Verdict("not run", "no table2")
    runs = ["study", "dataset", "model", "variant"]
    rows, matched = [], []
    for key, group in frame.groupby(runs + ["layer"], sort=True):
        model, layer, dataset = key[2], key[4], key[1]
        if (model, layer) not in PAPER_TABLE2:
            continue
        paper_min, paper = PAPER_TABLE2[(model, layer)]
        by = {m: r for m, r in zip(group.method, group.to_dict("records"))}
        bema, gb = by.get("bema", {}), by.get("gb", {})
        ours_min = int(group.min_nm.iloc[0])
        frac = number(bema.get("s_hat_fraction_mean"), None)
        paper_frac = {d: paper[d]["bema"][0] / paper_min for d in paper}
        if dataset in paper and ours_min == paper_min:
            comparable = "yes"
            if frac is not None:
                ratio = frac / paper_frac[dataset] if paper_frac[dataset] else math.inf
                matched.append(1 / SHAT_FACTOR <= ratio <= SHAT_FACTOR)
        elif dataset not in paper:
            comparable = f"no: data set {dataset}"
        else:
            comparable = f"no: min(n, m) {ours_min} vs {paper_min}"
        rows.append(
            f"| {run_path(group.iloc[0])} | {layer} | {ours_min} | {decimals(bema.get('s_hat_mean'), 1)} / "
            f"{decimals(gb.get('s_hat_mean'), 1)} | {decimals(frac)} | {decimals(paper_frac['mnist'])} / "
            f"{decimals(paper_frac['cifar10'])} | {decimals(bema.get('ave_w_mean'))} / "
            f"{decimals(gb.get('ave_w_mean'))} | {comparable} |")
    most_seeds = int(frame.n_seeds.max()) if "n_seeds" in frame and len(frame) else 0
    lines = []
    if rows:
        lines.append(f"- **{name}** (means over up to {seeds(most_seeds)}; paper: {PAPER_SETUP['seeds']} seeds, "
                     f"{PAPER_SETUP['epochs']} epochs, MNIST / CIFAR-10):")
        lines.append("")
        lines.append("  | run | layer | min(n, m) | s-hat BEMA / GB | s-hat/min(n, m) BEMA | paper BEMA: MNIST / "
                     "CIFAR-10 | Ave_w BEMA / GB | same data and shape |")
        lines.append("  |---|---|---:|---:|---:|---:|---:|---|")
        lines += [f"  {r}" for r in rows]
        lines.append("")
    if matched:
        agree = sum(matched)
        if agree == len(matched):
            verdict = Verdict("reproduced")
        elif agree:
            verdict = Verdict("partly", f"{agree} of {len(matched)} comparable layers within a factor {SHAT_FACTOR:g}")
        else:
            verdict = Verdict("not reproduced", f"no comparable layer within a factor {SHAT_FACTOR:g}")
        lines.append(f"  Comparable layers: our BEMA s-hat/min(n, m) within a factor {SHAT_FACTOR:g} of the paper's "
                     f"in {agree} of {len(matched)} → {verdict.text()}.")
    elif rows:
        verdict = Verdict("not comparable", "no layer has the paper's data set (MNIST, CIFAR-10) and min(n, m); "
                                            "our fractions are shown for orientation")
        lines.append(f"  → {verdict.text()}.")
    else:
        verdict = Verdict("not comparable", "none of our models' layers is in the paper's Table 2 (MLP, LeNet, "
                                            "AlexNet)")
        lines.append(f"- **{name}**: {verdict.text()}.")
    gap_lines, gap = _gap_check(frame, gap_name)
    lines += gap_lines
    return lines, verdict, gap


def _paired_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """GB's rows of ``table2`` with a gap to BEMA's Ave_w paired by seed (``ave_w_gap_bema_*``)."""
    if "ave_w_gap_bema_n" not in frame:
        return frame.iloc[:0]
    gb = frame[frame.method == "gb"]
    return gb[pd.to_numeric(gb.ave_w_gap_bema_n, errors="coerce").fillna(0) > 0]


def _gap_check(frame: pd.DataFrame, name: str) -> tuple[list[str], Verdict]:
    """Table 2 of [1]_: |BEMA − GB| of Ave_w, paired by seed (the same run and layer under both)."""
    gaps = _paired_gaps(frame)
    if gaps.empty:
        verdict = Verdict("not comparable", "no layer has Ave_w under both BEMA and GB in the same seed (s-hat = 0)")
        return [f"- **{name}**: {verdict.text()}."], verdict
    pairs = gaps.ave_w_gap_bema_n.astype(float)
    mean = float((gaps.ave_w_gap_bema_mean.astype(float) * pairs).sum() / pairs.sum())
    worst = gaps.loc[gaps.ave_w_gap_bema_max.astype(float).idxmax()]
    verdict = gap_verdict(float(worst.ave_w_gap_bema_max), mean)
    return [f"- **{name}** (paired by seed: BEMA and GB on the same run and layer): largest |BEMA − GB| = "
            f"{decimals(worst.ave_w_gap_bema_max)} ({run_path(worst)} {worst.layer}), mean "
            f"{decimals(mean)} over {int(pairs.sum())} layer-seed pairs on {len(gaps)} layers with spikes under "
            f"both; paper at most {PAPER_TABLE2_MAX_GAP} → {verdict.text()} (rule: largest paired gap ≤ "
            f"{AVEW_GAP}, our threshold of agreement with the paper's table, not a test)."], verdict


def _steps_note(small: pd.Series, large: pd.Series) -> tuple[bool | None, str]:
    """Whether two variants take the same number of SGD steps (epochs / batch size; the training set
    is the same), and the comparison in words."""
    if not all(math.isfinite(x) for x in (small.epochs, small.batch, large.epochs, large.batch)):
        return None, "SGD steps unknown (no epochs or batch size in a recipe)"
    ratio = (small.epochs / small.batch) / (large.epochs / large.batch)
    if math.isclose(ratio, 1.0, rel_tol=1e-9):
        return True, (f"equal SGD steps: batch {large.batch:g} at {large.epochs:g} epochs, batch {small.batch:g} at "
                      f"{small.epochs:g}")
    fewer = f"{ratio:.3g}× fewer" if ratio > 1 else f"{1 / ratio:.3g}× more"
    return False, (f"batch {large.batch:g} at {large.epochs:g} epochs takes {fewer} SGD steps than batch "
                   f"{small.batch:g} at {small.epochs:g}")


def batch_size_check(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict]:
    """Fig. 3 of [1]_: more spikes and a higher Ave_w at the smaller batch (``compare_batch_size``).

    At a fixed number of epochs a larger batch also takes fewer SGD steps. Where a variant with the
    larger batch takes as many steps as the smaller batch (e.g. ``bs256_steps`` of config/paper.yaml,
    120 epochs), the verdict compares with it; otherwise the verdict says that batch size and the
    number of steps are confounded. Variants that share a batch size are named beside it.
    """
    name = "Batch size (Fig. 3)"
    frame = collect(tables, lambda n: n == "compare_batch_size")
    if frame.empty:
        return not_run(name, "no study compares batch_size")
    small_batch, large_batch = PAPER_BATCH["batch_sizes"]
    lines = [f"- **{name}** (BEMA, trained weights; paper: MLP FC_1 on MNIST, Ave_w {PAPER_BATCH['ave_w'][0]:.3f} at "
             f"batch {small_batch} vs {PAPER_BATCH['ave_w'][1]:.3f} at {large_batch}, more spikes at {small_batch}, "
             "both at 30 epochs):"]
    verdicts = []
    for key, group in frame[frame.method == PAPER_BATCH["method"]].groupby(["study", "dataset", "model"], sort=True):
        ok = usable(group)
        layers = list(dict.fromkeys(ok.layer))
        if not layers:
            lines.append(f"  - {'/'.join(key)}: no fit ({reason(group)}).")
            continue
        shown = list(dict.fromkeys(ok.layer[ok.compare_layer.astype(bool)])) if "compare_layer" in ok else []
        layer = shown[0] if shown else PAPER_BATCH["layer"] if PAPER_BATCH["layer"] in layers else layers[0]
        rows = ok[ok.layer == layer].copy()

        def batch(variant: str) -> float:
            value = train_setting(studies, key[0], variant, "batch_size")
            digits = re.findall(r"\d+", variant)
            return float(value) if value is not None else float(digits[-1]) if digits else math.inf

        rows["batch"] = [batch(v) for v in rows.variant]
        rows["epochs"] = [float(number(train_setting(studies, key[0], v, "epochs"))) for v in rows.variant]
        rows = rows.sort_values(["batch", "variant"])
        if len(rows) < 2 or rows.batch.iloc[0] == rows.batch.iloc[-1]:
            lines.append(f"  - {'/'.join(key)} {layer}: only one batch size has a fit.")
            continue
        small = rows.iloc[0]
        larges = rows[rows.batch == rows.batch.iloc[-1]]
        notes = {r.variant: _steps_note(small, r) for _, r in larges.iterrows()}
        equal = [variant for variant, (same, _) in notes.items() if same]
        large = larges[larges.variant == equal[0]].iloc[0] if equal else larges.iloc[0]
        repeated = set(rows.batch[rows.batch.duplicated(keep=False)])

        def side(r: pd.Series) -> str:
            size = f"{r.batch:g}" if math.isfinite(r.batch) else r.variant
            if r.batch in repeated:
                size += f" ({r.variant}, {r.epochs:g} epochs)"
            avew = (pm(r.ave_w_mean, r.ave_w_sd, r.ave_w_n, r.n_seeds) if number(r.ave_w_mean, None) is not None
                    else "undefined (s-hat = 0)")
            return (f"batch {size}: s-hat {pm(r.s_hat_mean, r.s_hat_sd, r.s_hat_n, r.n_seeds, 1)}, Ave_w {avew}, "
                    f"test acc. {decimals(r.get('test_acc_mean'))}")

        s_small, s_large = number(small.s_hat_mean, None) or 0.0, number(large.s_hat_mean, None) or 0.0
        a_small, a_large = number(small.ave_w_mean, None), number(large.ave_w_mean, None)
        more_spikes = s_small > s_large
        if a_small is not None and a_large is not None:
            higher = a_small > a_large
        else:
            higher = a_small is not None and a_large is None  # spikes (and Ave_w) only at the small batch
        same_steps, steps_text = notes[large.variant]
        confound = "" if same_steps else (f"confounded with the number of steps: {steps_text}, and no variant at "
                                          f"batch {large.batch:g} takes as many as batch {small.batch:g}"
                                          if same_steps is False else steps_text)
        if more_spikes and higher:
            verdict = Verdict("reproduced", confound)
        elif more_spikes or higher:
            verdict = Verdict("partly", "; ".join(filter(None, ["more spikes but not a higher Ave_w" if more_spikes
                                                                else "higher Ave_w but not more spikes", confound])))
        else:
            verdict = Verdict("not reproduced", "; ".join(filter(None, ["neither more spikes nor a higher Ave_w at "
                                                                        "the small batch", confound])))
        verdicts.append(verdict)
        others = [side(r) for _, r in larges.iterrows() if r.variant != large.variant]
        extra = f" (also: {'; '.join(others)})" if others else ""
        compared = f"; compared at {steps_text}" if same_steps else ""
        lines.append(f"  - {'/'.join(key)} {layer}: {side(small)}; {side(large)}{compared}{extra} → {verdict.text()}.")
    if not verdicts:
        return lines + ["  → not run: no layer has fits at two batch sizes"], Verdict("not run", "no comparable fits")
    kinds = {v.kind for v in verdicts}
    verdict = verdicts[0] if len(kinds) == 1 else Verdict("partly", "differs between models")
    if len(verdicts) > 1:
        lines.append(f"  → {verdict.text()}.")
    return lines, verdict


def lowrank_check(tables: Mapping[str, pd.DataFrame], studies: Mapping[str, Mapping]) -> tuple[list[str], Verdict]:
    """Sec. 4 of [1]_: the whole network with every layer truncated at its s-hat, for each method and
    for the per-layer rule (per layer, the method with the higher Ave_w), beside the paper's LeNet on
    CIFAR-10 (``lowrank``)."""
    name = "Whole-network low rank (Sec. 4)"
    frame = collect(tables, lambda n: n == "lowrank")
    if frame.empty:
        why = ("no study runs the `prune` analysis" if studies and not analysed(studies, "prune")
               else "no lowrank table")
        return not_run(name, why)
    paper = PAPER_LOWRANK
    ref = paper["reference"]
    lines = [f"- **{name}** (every analysed layer replaced by its rank-s-hat approximation; test accuracy, and "
             "compression = 1 − params / dense params of the analysed layers' weights; paper, "
             f"{MODEL_NAMES[paper['model']]} on {DATASET_NAMES[paper['dataset']]}: BEMA "
             f"{pct(paper['accuracy']['bema'], 1)}, GB {pct(paper['accuracy']['gb'], 1)}, per layer the method with "
             f"the higher Ave_w {pct(paper['accuracy']['best_avew'], 1)} at {pct(paper['compression']['best_avew'], 1)} "
             f"compression; {ref['name']}: {pct(ref['accuracy'], 1)} at {pct(ref['compression'], 1)}):"]
    verdicts = []
    names = {"dense": "dense", "best_avew": "per-layer rule (higher Ave_w)"}
    for _, group in frame.groupby(["study", "dataset", "model", "variant"], sort=True):
        head = group.iloc[0]
        by_choice = {str(r.choice): r for _, r in group.iterrows()}
        dense = by_choice.get("dense")
        parts = []
        for choice in ["dense", *[m for m in PAPER_METHODS if m in by_choice], "best_avew"]:
            row = by_choice.get(choice)
            if row is None:
                continue
            label = names.get(choice) or (METHODS[choice].display if choice in METHODS else choice)
            if row.status not in ("ok", "partial") or number(row.accuracy_mean, None) is None:
                parts.append(f"{label}: no network ({clean(row.reason) or 'no value'})")
                continue
            text = f"{label} {pm(row.accuracy_mean, row.accuracy_sd, row.accuracy_n, row.n_seeds)}"
            if choice != "dense":
                text += f" at {pct(1 - float(row.params_fraction_mean), 1)} compression"
            parts.append(text)
        rule = by_choice.get("best_avew")
        if dense is None or rule is None or number(rule.accuracy_mean, None) is None \
                or number(dense.accuracy_mean, None) is None:
            verdict = Verdict("not comparable", "no network truncated by the per-layer rule (s-hat = 0 everywhere, "
                                                "or no keep-top-s evaluation)")
        else:
            verdict = lowrank_verdict(float(dense.accuracy_mean), float(rule.accuracy_mean))
            verdicts.append(verdict)
        lines.append(f"  - {run_path(head)}: {'; '.join(parts)} → {verdict.text()}.")
    if not verdicts:
        verdict = Verdict("not comparable", "no model has a network truncated by the per-layer rule")
    elif all(v.kind == "reproduced" for v in verdicts):
        verdict = Verdict("reproduced")
    elif any(v.kind == "reproduced" for v in verdicts):
        verdict = Verdict("partly", f"accuracy kept for {sum(v.kind == 'reproduced' for v in verdicts)} of "
                                    f"{len(verdicts)} models")
    else:
        verdict = Verdict("not reproduced", f"the per-layer rule loses more than {LOWRANK_ACCURACY_DROP} of the "
                                            "dense accuracy for every model")
    lines.append(f"  → {verdict.text()} (rule: the per-layer rule within {LOWRANK_ACCURACY_DROP} of the dense "
                 "accuracy).")
    return lines, verdict


def heavy_tail_context(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """Context line: the heavy-tail verdicts of the trained layers (paper 000 uses models whose
    power-law tail is rejected), and p ± its Monte-Carlo SE for the layers whose bootstrap p-value
    (mean over seeds) lies within 2 SE of the level :data:`~rmtweights.summary.verdicts.HEAVY_TAIL_LEVEL`;
    empty without a ``heavy_tail`` table."""
    frame = collect(tables, lambda n: n == "heavy_tail")
    if frame.empty or "n_heavy_tailed" not in frame:
        return []
    trained = frame[(frame.state == "trained") & (frame.status != "skipped")] if "state" in frame else frame
    counts = {c: int(trained[f"n_{c}"].sum()) for c in ("heavy_tailed", "not_heavy_tailed", "inconclusive")}
    near = []
    if {"gof_p_mean", "gof_p_se_mean"} <= set(trained.columns):
        p = pd.to_numeric(trained.gof_p_mean, errors="coerce")
        se = pd.to_numeric(trained.gof_p_se_mean, errors="coerce")
        close = trained[(p - HEAVY_TAIL_LEVEL).abs() <= 2 * se]
        near = [f"{run_path(r)} {r.layer} p = {decimals(r.gof_p_mean)} ± {decimals(r.gof_p_se_mean)} "
                f"({seeds(r.gof_p_n, r.n_seeds)})" for _, r in close.iterrows()]
    text = (f"- *Context (heavy tails; the paper uses models whose power-law tail is rejected)*: trained layer-seed "
            f"verdicts {counts['heavy_tailed']} heavy-tailed, {counts['not_heavy_tailed']} not heavy-tailed, "
            f"{counts['inconclusive']} inconclusive")
    if near:
        shown = "; ".join(near[:5]) + (f"; and {len(near) - 5} more" if len(near) > 5 else "")
        text += (f"; bootstrap p within 2 Monte-Carlo SE of the level {HEAVY_TAIL_LEVEL} (mean p ± mean SE over "
                 f"seeds): {shown}")
    return [text + "."]
