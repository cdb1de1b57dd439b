"""Stage summarise_wigner_outliers: error per N and the Péché table against groupbys written here."""

from __future__ import annotations

import numpy as np
import pytest

from rmtweights.stages.summarise_wigner_outliers import wigner_summary_tables
from rmtweights.sweeps.wigner_outliers import outlier_sweep, peche_check


@pytest.fixture(scope="module")
def tables():
    outliers = outlier_sweep([100, 200], [0, 1], growth="constant", c=2)
    peche = peche_check([100, 200], [0.5, 2.0], 1.0, [0, 1])
    return outliers, peche, wigner_summary_tables(outliers, peche)


def test_error_table(tables):
    outliers, _, (errors, _, rate) = tables
    assert errors.N.tolist() == [100, 200]  # one row per N
    per_draw = outliers.groupby(["N", "seed"]).abs_error.agg(["max", "mean"]).reset_index()
    ref = per_draw.groupby("N").agg(max_error=("max", "mean"), mean_error=("mean", "mean"))
    np.testing.assert_allclose(errors.max_error, ref.max_error, rtol=1e-12)
    np.testing.assert_allclose(errors.mean_error, ref.mean_error, rtol=1e-12)
    assert errors.r.tolist() == [2, 2] and errors.n_seeds.tolist() == [2, 2]  # constant growth, c = 2
    # the rate: log-log least squares over the 4 (N, seed) draws
    slope, intercept = np.polyfit(np.log(per_draw.N.to_numpy(float)), np.log(per_draw["mean"].to_numpy()), 1)
    assert rate["exponent"] == pytest.approx(slope, abs=1e-12)
    assert rate["intercept"] == pytest.approx(intercept, abs=1e-12)
    assert (errors.rate_exponent == rate["exponent"]).all()


def test_peche_table(tables):
    _, peche, (_, pe, _) = tables
    assert list(zip(pe.N, pe.theta)) == [(100, 0.5), (100, 2.0), (200, 0.5), (200, 2.0)]  # one row per (N, theta)
    ref = peche.groupby(["N", "theta"]).agg(lambda_1=("lambda_1", "mean"), limit=("limit", "first"),
                                             mean_error=("abs_error", "mean"), max_error=("abs_error", "max"))
    for column in ref.columns:
        np.testing.assert_allclose(pe[column], ref[column], rtol=1e-12, err_msg=column)
    assert (pe.n_seeds == 2).all()
    # Péché's limit (eq. (1.8) of Afanasiev et al.): 2 sigma below the transition, theta + sigma^2/theta above
    np.testing.assert_allclose(pe.limit, np.where(pe.theta > 1.0, pe.theta + 1.0 / pe.theta, 2.0), rtol=1e-12)
