"""How the summary writes numbers, seeds, reasons and a paper's block.

Every number says how many seeds (or noise draws) it comes from; no value is printed as NaN (a
dash or a reason instead). Numbers and run keys go through :mod:`rmtweights.formatting`, the
helpers the figures use too, with the summary's conventions as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rmtweights.formatting import fmt, number, run_label
from rmtweights.summary.tables import train_setting
from rmtweights.summary.verdicts import Verdict, combine_verdicts

__all__ = ["DASH", "decimals", "seeds", "pm", "pct", "plural", "clean", "reason", "run_path", "scope", "not_run",
           "block"]

#: What the summary writes for a missing value.
DASH = "–"


def decimals(value: Any, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, a dash when missing, never "-0.000"."""
    return fmt(value, f".{digits}f", missing=DASH, negative_zero=False)


def seeds(n: Any, total: Any = None) -> str:
    """"3 seeds", "1 seed", or "2 of 3 seeds" when some seeds have no value."""
    n_i = int(number(n, None) or 0)
    t_i = int(number(total, None) or 0)
    word = "seed" if (t_i or n_i) == 1 else "seeds"
    return f"{n_i} of {t_i} {word}" if t_i and n_i < t_i else f"{n_i} {word}"


def pm(mean: Any, sd: Any, n: Any, total: Any = None, digits: int = 3) -> str:
    """``mean ± sd (n seeds)``; no SD for one seed, a dash when there is no value."""
    if number(mean, None) is None:
        return f"{DASH} (0 of {int(number(total, None) or 0)} seeds)" if number(total, None) else DASH
    sd_text = f" ± {decimals(sd, digits)}" if number(sd, None) is not None and int(number(n, None) or 0) > 1 else ""
    return f"{decimals(mean, digits)}{sd_text} ({seeds(n, total)})"


def pct(fraction: float, digits: int = 0) -> str:
    """A fraction as a percentage: "12 %"."""
    return f"{100 * fraction:.{digits}f} %"


def plural(count: int, word: str) -> str:
    """"1 seed", "2 seeds"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def clean(text: Any) -> str:
    """A table's reason text for the summary (a NaN named in it is spelled out)."""
    return re.sub(r"(?i)\bnan\b", "not-a-number", str(text))


def reason(frame: pd.DataFrame) -> str:
    """The first reason a table's rows give (:func:`clean`), or "no value"."""
    reasons = [str(r) for r in frame.get("reason", pd.Series(dtype=str)).dropna().unique() if str(r)]
    return clean(reasons[0]) if reasons else "no value"


def run_path(row: Mapping[str, Any] | pd.Series) -> str:
    """A run as ``study/dataset/model[/variant]`` (the variants ``base``, ``given`` and ``weights``
    say nothing and are left out)."""
    return run_label(row, keys=("study", "dataset", "model", "variant"), named=False, separator="/",
                     omit={"variant": ("base", "given", "weights")}, empty="")


def _span(values: Sequence[Any]) -> str:
    values = list(values)
    if len(values) > 3 and all(isinstance(v, (int, np.integer)) for v in values):
        return f"{values[0]}…{values[-1]}"
    return ", ".join(str(v) for v in values)


def scope(studies: Mapping[str, Mapping], sweeps: Mapping[str, Any] | None) -> str:
    """The scope line: each study's data sets, models, variants, seeds and epochs, and the sweeps."""
    parts = []
    for study, spec in studies.items():
        seed_list = list(spec.get("seeds") or [])
        variants = list((spec.get("variants") or {}).keys())
        epochs = sorted({e for e in (train_setting(studies, study, v, "epochs") for v in variants or [None]) if e})
        text = (f"`{study}`: {', '.join(map(str, spec.get('datasets') or [])) or DASH} × "
                f"{', '.join(map(str, spec.get('models') or [])) or DASH}")
        if len(variants) > 1:
            text += f", variants {_span(variants)}"
        text += f", {plural(len(seed_list), 'seed')}"
        if epochs:
            text += f", {'/'.join(map(str, epochs))} epoch{'s' if epochs != [1] else ''}"
        parts.append(text)
    line = "**Scope.** Studies " + ("; ".join(parts) if parts else "none given") + "."
    extra = []
    wigner = (sweeps or {}).get("wigner")
    if wigner:
        ns = list(wigner.get("Ns") or [])
        extra.append(f"deformed Wigner N = {_span(ns)} ({plural(len(wigner.get('seeds') or []), 'seed')})")
    bbp = (sweeps or {}).get("bbp_table")
    if bbp:
        extra.append(f"Table 1 check ({plural(len(bbp.get('sizes') or []), 'size')}, "
                     f"{bbp.get('draws', DASH)} noise draws)")
    if extra:
        line += " Sweeps: " + "; ".join(extra) + "."
    return line


def not_run(name: str, why: str) -> tuple[list[str], Verdict]:
    """The line and verdict of a check that could not run, and why."""
    verdict = Verdict("not run", why)
    return [f"- **{name}**: {verdict.text()}."], verdict


def block(title: str, citation: str, checks: Sequence[tuple[str, list[str], Verdict]],
          extra: Sequence[str] = ()) -> list[str]:
    """A paper's block: title, citation, each check's lines, ``extra`` context and the paper's
    verdict (:func:`rmtweights.summary.verdicts.combine_verdicts`)."""
    lines = [f"## {title}", "", f"{citation}.", ""]
    for _, body, _ in checks:
        lines += body
    lines += list(extra)
    verdict = combine_verdicts([(name, v) for name, _, v in checks])
    return lines + ["", f"**Verdict ({title.split(':')[0]}): {verdict.text()}.**", ""]
