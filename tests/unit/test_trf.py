"""Tests for rmtweights.rmt._trf: the steps of scipy's least_squares(method="trf"), without its overhead.

The reference is scipy.optimize.least_squares with the same model, bounds and x_scale and the
closed-form Jacobian. Both take the same steps, so they stop after the same number of evaluations
at the same point up to rounding (the subproblem is solved from the p x p normal matrix here, from an
SVD of the augmented Jacobian there: 1e-10 relative covers the difference over a few iterations).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from rmtweights.rmt._trf import trf_least_squares

T = np.linspace(0.0, 4.0, 60)
Y = 2.5 * np.exp(-1.3 * T) + 0.3 + 0.02 * np.sin(7.0 * T)  # not exactly the model: non-zero residuals


def _decay(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals and Jacobian of a * exp(-b t) + c - y."""
    a, b, c = theta
    e = np.exp(-b * T)
    return a * e + c - Y, np.stack([e, -a * T * e, np.ones_like(T)], axis=1)


def _rosenbrock(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = theta
    return np.array([10.0 * (y - x * x), 1.0 - x]), np.array([[-20.0 * x, 10.0], [-1.0, 0.0]])


def _one(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-parameter scale fit: y = 2.5 exp(-s t) with s free."""
    e = np.exp(-theta[0] * T)
    return 2.5 * e - Y, (-2.5 * T * e)[:, None]


CASES = {
    # name: (model, x0, lower, upper, x_scale)
    "decay, bounds far": (_decay, [1.0, 0.5, 0.0], [0.0, 0.01, -5.0], [10.0, 10.0, 5.0], [1.0, 1.0, 1.0]),
    "decay, scaled": (_decay, [1.0, 0.5, 0.0], [0.0, 0.01, -5.0], [10.0, 10.0, 5.0], [2.0, 0.5, 0.1]),
    "decay, active bound": (_decay, [1.0, 0.5, 0.4], [0.0, 0.01, 0.35], [10.0, 1.0, 5.0], [1.0, 1.0, 1.0]),
    "rosenbrock, active bound": (_rosenbrock, [-1.2, 1.0], [-2.0, -np.inf], [0.8, np.inf], [1.0, 1.0]),
    "one parameter": (_one, [0.2], [0.01], [100.0], [0.2]),
    "one parameter at its bound": (_one, [2.0], [1.5], [100.0], [2.0]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_steps_as_scipy_least_squares(name):
    model, x0, lower, upper, scale = (np.asarray(v, dtype=float) if i else v for i, v in enumerate(CASES[name]))
    ours = trf_least_squares(model, x0, lower, upper, scale)
    ref = optimize.least_squares(lambda t: model(t)[0], x0, jac=lambda t: model(t)[1], bounds=(lower, upper),
                                 x_scale=scale, method="trf")
    assert ours.nfev == ref.nfev
    assert ours.status == ref.status and ours.success == ref.success
    np.testing.assert_allclose(ours.x, ref.x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.residuals, ref.fun, rtol=1e-9, atol=1e-12)
    assert np.all(ours.x >= lower) and np.all(ours.x <= upper)
