"""The table of :func:`rmtweights.api.analyze_model` for reading: one line per analysed layer, the skipped
tensors summarised, and the table written in the format its file name asks for.

:func:`layer_summary` turns the long table (one row per layer and method) into one row per analysed
layer of the trained weights, in the model's order: the shape in words
(:func:`rmtweights.tensors.shape_text`), per method :math:`\\hat\\sigma`, :math:`\\gamma_+`,
:math:`\\hat s` and Ave_w, then :math:`\\gamma_{\\max}`, the power-law exponent and verdict (and the
baseline's :math:`\\hat s` when the table has one). :func:`skipped_layers` lists what was not
analysed, with the reason, and :func:`footer` says in one line how much was analysed and why the rest
was not. The command line (:mod:`rmtweights.cli`) and the report (:mod:`rmtweights.report`) show these.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from rmtweights.methods import METHODS, THRESHOLD_METHODS
from rmtweights.tensors import shape_text, skip_group

__all__ = ["TABLE_SUFFIXES", "check_table_suffix", "write_table_file", "layer_summary", "skipped_layers", "footer"]

#: File suffixes :func:`write_table_file` writes, and the format of each.
TABLE_SUFFIXES: dict[str, str] = {".parquet": "Parquet", ".csv": "CSV", ".md": "Markdown", ".json": "JSON"}


def check_table_suffix(path: str | os.PathLike) -> str:
    """The suffix of ``path`` if :func:`write_table_file` can write it, else ``ValueError`` naming the choices."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"cannot tell the table format from {str(path)!r}: its name must end in "
                         f"{', '.join(TABLE_SUFFIXES)}")
    return suffix


def _markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; ``|`` in cells escaped."""

    def cell(value) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else format(value, ".4g")
        return "" if value is None or value is pd.NA else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_table_file(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` atomically in the format its suffix names (:data:`TABLE_SUFFIXES`): Parquet, CSV,
    Markdown or JSON (one object per row). A column of arrays (``sv``) is written to Parquet only."""
    from rmtweights import io

    suffix = check_table_suffix(path)
    if suffix == ".parquet":
        io.write_parquet(frame, path)
        return
    frame = frame.drop(columns=["sv"], errors="ignore")
    with io.atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif suffix == ".md":
            tmp.write_text(_markdown(frame), encoding="utf-8")
        else:
            frame.to_json(tmp, orient="records", indent=1, force_ascii=False)


def _label(method: str) -> str:
    """A method's name in a column header (short)."""
    return "mod.MP" if method == "modified_mp" else (METHODS[method].display if method in METHODS else method)


def _trained(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["state"] == "trained"] if "state" in table.columns else table


def _number(value, spec: str = ".4g") -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(x) else format(x, spec)


def layer_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per analysed layer of the trained weights, in the table's order, as display strings.

    Columns: ``layer``, ``kind``, ``shape`` (in words), ``quantisation`` (when any layer has one), per
    method ``σ̂ <method>`` (and for threshold methods ``γ₊``, ``ŝ``, ``Ave_w``), ``γ_max``, ``α``
    (power-law exponent of the singular values) and ``tail`` (the heavy-tail verdict), and
    ``ŝ baseline <method>`` when the table has a baseline state.
    """
    trained = _trained(table)
    ok = trained[trained["status"] == "ok"]
    methods = list(dict.fromkeys(ok["method"])) if len(ok) else []
    base = table[table["state"] == "baseline"] if "state" in table.columns else table.iloc[:0]
    show_quant = "quantisation" in table.columns and table["quantisation"].fillna("").astype(str).ne("").any()
    rows = []
    for layer, rows_of in ok.groupby("layer", sort=False):
        first = rows_of.iloc[0]
        row = {"layer": layer, "kind": first["kind"],
               "shape": shape_text(first["shape"], first["n"], first["m"], first["kind"], first["reshape"])}
        if show_quant:
            row["quantisation"] = first.get("quantisation", "") or ""
        by_method = rows_of.set_index("method")
        for method in methods:
            name = _label(method)
            fit = by_method.loc[method] if method in by_method.index else None
            row[f"σ̂ {name}"] = _number(None if fit is None else fit["sigma"])
            if method in THRESHOLD_METHODS:
                row[f"γ₊ {name}"] = _number(None if fit is None else fit["gamma_plus"])
                s_hat = None if fit is None else fit["s_hat"]
                row[f"ŝ {name}"] = "–" if s_hat is None or pd.isna(s_hat) else str(int(s_hat))
                row[f"Ave_w {name}"] = _number(None if fit is None else fit["ave_w"], ".3f")
        row["γ_max"] = _number(first["gamma_max"])
        if "alpha_sv" in rows_of.columns:
            row["α"] = _number(first["alpha_sv"], ".3g")
            row["tail"] = first.get("verdict") if isinstance(first.get("verdict"), str) else "–"
        if len(base):
            mine = base[(base["layer"] == layer) & (base["status"] == "ok")]
            for method in [m for m in methods if m in THRESHOLD_METHODS]:
                hit = mine[mine["method"] == method]["s_hat"]
                name = _label(method)
                row[f"ŝ baseline {name}"] = str(int(hit.iloc[0])) if len(hit) and pd.notna(hit.iloc[0]) else "–"
        rows.append(row)
    return pd.DataFrame(rows)


def skipped_layers(table: pd.DataFrame) -> pd.DataFrame:
    """One row per tensor (or part of one) of the trained weights that was not analysed: ``layer``,
    ``shape`` (in words) and ``reason``, in the table's order."""
    trained = _trained(table)
    analysed = set(trained.loc[trained["status"] == "ok", "layer"])
    skipped = trained[~trained["layer"].isin(analysed)].drop_duplicates("layer")
    return pd.DataFrame({
        "layer": skipped["layer"].tolist(),
        "shape": [shape_text(r["shape"], r["n"], r["m"], r["kind"], r["reshape"]) for _, r in skipped.iterrows()],
        "reason": skipped["reason"].astype(str).tolist(),
    })


def footer(table: pd.DataFrame) -> str:
    """``"analysed 33 of 296 tensors and matrices; skipped: 240 biases and norms, 20 integer and bool
    buffers"``: how much of the model the table covers, and why the rest is not analysed."""
    trained = _trained(table)
    analysed = int(trained[trained["status"] == "ok"]["layer"].nunique())
    skipped = skipped_layers(table)
    groups = Counter(skip_group(reason) for reason in skipped["reason"])
    text = f"analysed {analysed} of {analysed + len(skipped)} tensors and matrices"
    if groups:
        text += "; skipped: " + ", ".join(f"{count} {group}" for group, count in groups.most_common())
    return text
