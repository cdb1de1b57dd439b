"""Rule ``simulate_wigner_outliers``: the deformed-Wigner outlier sweep and the Péché check (paper 003).

The simulations are :func:`rmtweights.sweeps.wigner_outliers.outlier_sweep` and
:func:`rmtweights.sweeps.wigner_outliers.peche_check`; rule ``summarise_wigner_outliers`` turns them into tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rmtweights.sweeps.wigner_outliers import outlier_sweep, peche_check

__all__ = ["simulate_wigner_outliers"]


def simulate_wigner_outliers(sweep: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outliers of every draw and the Péché check, for the config's ``sweeps.wigner`` block."""
    outliers = outlier_sweep(sweep["Ns"], sweep["seeds"], sigma=sweep["sigma"], interval=tuple(sweep["interval"]),
                             growth=sweep["growth"], c=sweep["c"], bulk=sweep["bulk"])
    peche = peche_check(sweep["Ns"], sweep["peche_thetas"], sweep["sigma"], sweep["seeds"])
    return outliers, peche
