"""Rule ``compute_bbp_table``: paper 000 Table 1 beside our phi and phi-hat (a synthetic BBP check).

The simulation is :func:`rmtweights.sweeps.table1.bbp_table`, the side-by-side table
:func:`rmtweights.sweeps.table1.table1_comparison`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.sweeps.table1 import bbp_table, table1_comparison

__all__ = ["compute_bbp_table"]


def compute_bbp_table(sweep: Mapping[str, Any], *, alpha: float) -> pd.DataFrame:
    """Table 1 of paper 000 beside our values, for the config's ``sweeps.bbp_table`` block; sigma-hat
    by BEMA with ``alpha`` (``analysis.bema.alpha``)."""
    frame = bbp_table([tuple(size) for size in sweep["sizes"]], tuple(sweep["thetas"]), sweep["sigma"],
                      sweep["draws"], sweep["seed"], bema=True, alpha=alpha)
    return table1_comparison(frame)
