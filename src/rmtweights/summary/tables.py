"""The study and sweep tables the summary reads: their keys, and the rows a check uses.

The summary reads tables the workflow has already written (mean, SD and seed counts,
``results/tables/<study>/<table>.parquet``), keyed ``<study>/<table>`` (:func:`table_key`), and the
config's ``studies`` for what each study ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

import pandas as pd

__all__ = ["DEFAULT_ANALYSES", "table_key", "collect", "sweep", "train_setting", "analysed", "usable"]

#: A study's ``analyses`` when the config does not say (the schema's default).
DEFAULT_ANALYSES = ("heavy_tail", "universality", "prune")


def table_key(path: str | os.PathLike) -> str:
    """The key of a study or sweep table in the summary: ``<study>/<table>`` from
    ``results/tables/<study>/<table>.parquet``."""
    p = PurePath(path)
    if not p.parent.name or not p.stem:
        raise ValueError(f"path must look like results/tables/<study>/<table>.parquet, got {str(path)!r}")
    return f"{p.parent.name}/{p.stem}"


def collect(tables: Mapping[str, pd.DataFrame], match: Callable[[str], bool]) -> pd.DataFrame:
    """The tables whose name matches, concatenated, each with its study (the key's first part)."""
    frames = []
    for key, frame in tables.items():
        study, name = key.split("/", 1)
        if match(name) and len(frame):
            frames.append(frame if "study" in frame else frame.assign(study=study))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sweep(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    """The sweep table ``sweeps/<name>``, or None when it is absent or empty."""
    frame = tables.get(f"sweeps/{name}")
    return frame if frame is not None and len(frame) else None


def train_setting(studies: Mapping[str, Mapping], study: str, variant: str, key: str) -> Any:
    """The variant's value of a train key (the study's recipe updated by the variant's overrides)."""
    spec = studies.get(study) or {}
    train = dict(spec.get("train") or {})
    train.update(((spec.get("variants") or {}).get(variant) or {}).get("train") or {})
    return train.get(key)


def analysed(studies: Mapping[str, Mapping], analysis: str) -> bool:
    """Whether any study runs ``analysis`` (``heavy_tail``, ``universality``, ``prune``)."""
    return any(analysis in (spec.get("analyses", DEFAULT_ANALYSES) or ()) for spec in studies.values())


def usable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that carry numbers (status ok or partial; all rows when there is no status column)."""
    return frame[frame.status.isin(("ok", "partial"))] if "status" in frame else frame
