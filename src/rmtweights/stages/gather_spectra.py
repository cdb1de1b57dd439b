"""Rule ``gather_spectra``: the per-job tables of a weights file (rule ``extract_weights_part``) as one run's tables."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from rmtweights import io

__all__ = ["gather_spectra"]


def gather_spectra(spectra: Sequence[str | os.PathLike],
                   porter_thomas: Sequence[str | os.PathLike]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The concatenated spectra tables and Porter–Thomas tables of a weights file's jobs, in job order."""
    return io.read_parquets(spectra), io.read_parquets(porter_thomas)
