r"""Trust-region reflective least squares for a few parameters: the path of ``least_squares(method="trf")``.

The Gaussian-broadening and modified-MP fits of :mod:`rmtweights.rmt.estimators` minimise
:math:`\tfrac12\|r(\theta)\|^2` over one or two bounded parameters. Their objectives have many
shallow local minima (a cusp wherever a singular value crosses an edge of the model's support), so
*which* minimum a fit returns depends on the optimiser's path. The fits have always followed the path
of ``scipy.optimize.least_squares(method="trf", x_scale=..., bounds=...)`` (Branch, Coleman & Li
[1]_; the trust-region subproblem by Moré's method [2]_). :func:`trf_least_squares` takes the same
steps with the same rules (Coleman–Li scaling, reflective step selection, radius update, ``ftol``,
``xtol``, ``gtol`` termination, strictly feasible iterates), but works with the :math:`p \times p`
matrix :math:`J_h^\top J_h + \operatorname{diag}(d_h)` instead of an SVD of the
:math:`(m+p) \times p` augmented Jacobian, and calls the model once per point (residuals and
Jacobian together). For one or two parameters and a few hundred residuals this removes most of the
time ``least_squares`` spends per iteration, while its steps stay those of scipy up to rounding.

References
----------
.. [1] M. A. Branch, T. F. Coleman, Y. Li, "A Subspace, Interior, and Conjugate Gradient Method for
   Large-Scale Bound-Constrained Minimization Problems", SIAM J. Sci. Comput. 21(1), 1–23 (1999).
   :doi:`10.1137/S1064827595289108`
.. [2] J. J. Moré, "The Levenberg-Marquardt Algorithm: Implementation and Theory", Numerical Analysis,
   Lecture Notes in Mathematics 630, Springer, 105–116 (1977). :doi:`10.1007/BFb0067700`
.. [3] scipy.optimize.least_squares, ``scipy/optimize/_lsq/trf.py`` (``trf_bounds``) and
   ``_lsq/common.py``, SciPy 1.17: the reference implementation these steps follow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["TrfResult", "trf_least_squares"]

_EPS = float(np.finfo(float).eps)

#: ``model(theta)`` -> residuals (m,) and their Jacobian (m, p)
Model = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TrfResult:
    """End point of :func:`trf_least_squares`: parameters, residuals, Jacobian there, status, evaluations.

    ``status`` as scipy's: 0 evaluation limit, 1 ``gtol``, 2 ``ftol``, 3 ``xtol``, 4 both.
    """

    x: np.ndarray
    residuals: np.ndarray
    jacobian: np.ndarray
    status: int
    nfev: int

    @property
    def success(self) -> bool:
        return self.status > 0


def _strictly_feasible(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, rstep: float) -> np.ndarray:
    """Move ``x`` inside the bounds (``make_strictly_feasible`` of [3]_)."""
    if rstep == 0 and np.all((x > lower) & (x < upper)):
        return x  # nothing active: the copy it would make (the common case, every iteration)
    out = x.copy()
    low_dist, up_dist = x - lower, upper - x
    if rstep == 0:
        low_active, up_active = x <= lower, x >= upper
        out[low_active] = np.nextafter(lower[low_active], upper[low_active])
        out[up_active] = np.nextafter(upper[up_active], lower[up_active])
    else:
        low_thr, up_thr = rstep * np.maximum(1.0, np.abs(lower)), rstep * np.maximum(1.0, np.abs(upper))
        low_active = np.isfinite(lower) & (low_dist <= np.minimum(up_dist, low_thr))
        up_active = np.isfinite(upper) & (up_dist <= np.minimum(low_dist, up_thr))
        low_active &= ~up_active  # the upper bound wins a tie, as in [3]
        out[low_active] = lower[low_active] + low_thr[low_active]
        out[up_active] = upper[up_active] - up_thr[up_active]
    tight = (out < lower) | (out > upper)
    out[tight] = 0.5 * (lower[tight] + upper[tight])
    return out


def _coleman_li(x: np.ndarray, g: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaling vector v and its derivative dv (eq. (2.2) of [1]_, signs as in [3]_)."""
    v = np.ones_like(x)
    dv = np.zeros_like(x)
    to_upper = (g < 0) & np.isfinite(upper)
    v[to_upper] = upper[to_upper] - x[to_upper]
    dv[to_upper] = -1.0
    to_lower = (g > 0) & np.isfinite(lower)
    v[to_lower] = x[to_lower] - lower[to_lower]
    dv[to_lower] = 1.0
    return v, dv


def _quadratic(gram: np.ndarray, g: np.ndarray, s: np.ndarray, diag: np.ndarray) -> float:
    """0.5 s^T (J^T J + diag) s + g^T s, with ``gram`` = J^T J."""
    return float(0.5 * (s @ gram @ s + s @ (diag * s)) + g @ s)


def _quadratic_1d(
    gram: np.ndarray, g: np.ndarray, s: np.ndarray, diag: np.ndarray, s0: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Coefficients a, b, c of t -> the quadratic at s0 + t s (``build_quadratic_1d`` of [3]_)."""
    a = 0.5 * float(s @ gram @ s + s @ (diag * s))
    b = float(g @ s)
    c = 0.0
    if s0 is not None:
        b += float(s0 @ gram @ s + s0 @ (diag * s))
        c = 0.5 * float(s0 @ gram @ s0 + s0 @ (diag * s0)) + float(g @ s0)
    return a, b, c


def _minimise_1d(a: float, b: float, lo: float, hi: float, c: float = 0.0) -> tuple[float, float]:
    """Minimum of a t^2 + b t + c on [lo, hi] (``minimize_quadratic_1d`` of [3]_)."""
    ts = [lo, hi]
    if a != 0:
        extremum = -0.5 * b / a
        if lo < extremum < hi:
            ts.append(extremum)
    values = [t * (a * t + b) + c for t in ts]
    best = int(np.argmin(values))
    return ts[best], values[best]


def _step_to_bound(x: np.ndarray, s: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[float, np.ndarray]:
    """Smallest t >= 0 with x + t s on a bound, and which bounds are hit (``step_size_to_bound``)."""
    steps = np.full_like(x, np.inf)
    nz = s != 0
    with np.errstate(over="ignore"):
        steps[nz] = np.maximum((lower - x)[nz] / s[nz], (upper - x)[nz] / s[nz])
    t = float(steps.min())
    return t, (steps == t) * np.sign(s).astype(int)


def _to_trust_boundary(x: np.ndarray, s: np.ndarray, radius: float) -> tuple[float, float]:
    """Roots t of ||x + t s|| = radius, negative then positive (``intersect_trust_region``)."""
    a = float(s @ s)
    b = float(x @ s)
    c = float(x @ x) - radius * radius
    d = math.sqrt(b * b - a * c)
    q = -(b + math.copysign(d, b))
    t1, t2 = q / a, c / q
    return (t1, t2) if t1 < t2 else (t2, t1)


def _trust_region_step(
    lam: np.ndarray, V: np.ndarray, suf: np.ndarray, radius: float, alpha0: float, m: int
) -> tuple[np.ndarray, float]:
    """Moré's solution of min ||J_aug p + f_aug|| subject to ||p|| <= radius ([2]_, ``solve_lsq_trust_region``).

    Works from the eigen-decomposition ``V diag(lam) V^T`` of ``J_aug^T J_aug`` (``lam`` descending:
    the squared singular values of J_aug) and ``suf = V^T J_aug^T f_aug`` (= s * U^T f_aug).
    """
    n = lam.size
    s = np.sqrt(np.maximum(lam, 0.0))
    full_rank = m >= n and s[-1] > _EPS * m * s[0]
    if full_rank:
        p = -V @ (suf / lam)  # Gauss-Newton step
        if np.linalg.norm(p) <= radius:
            return p, 0.0

    def phi_and_derivative(alpha: float) -> tuple[float, float]:
        denom = lam + alpha
        p_norm = float(np.linalg.norm(suf / denom))
        return p_norm - radius, -float(np.sum(suf**2 / denom**3)) / p_norm

    alpha_upper = float(np.linalg.norm(suf)) / radius
    if full_rank:
        phi, phi_prime = phi_and_derivative(0.0)
        alpha_lower = -phi / phi_prime
    else:
        alpha_lower = 0.0
    if alpha0 is None or not full_rank and alpha0 == 0:
        alpha = max(0.001 * alpha_upper, (alpha_lower * alpha_upper) ** 0.5)
    else:
        alpha = alpha0
    for _ in range(10):
        if alpha < alpha_lower or alpha > alpha_upper:
            alpha = max(0.001 * alpha_upper, (alpha_lower * alpha_upper) ** 0.5)
        phi, phi_prime = phi_and_derivative(alpha)
        if phi < 0:
            alpha_upper = alpha
        ratio = phi / phi_prime
        alpha_lower = max(alpha_lower, alpha - ratio)
        alpha -= (phi + radius) * ratio / radius
        if abs(phi) < 0.01 * radius:
            break
    p = -V @ (suf / (lam + alpha))
    p *= radius / np.linalg.norm(p)  # on the boundary exactly
    return p, alpha


def _select_step(
    x: np.ndarray, gram_h: np.ndarray, diag_h: np.ndarray, g_h: np.ndarray, p: np.ndarray, p_h: np.ndarray,
    d: np.ndarray, radius: float, lower: np.ndarray, upper: np.ndarray, theta: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The trust-region step, or its reflection at a bound, or the scaled gradient step (``select_step`` of [3]_)."""
    if np.all((x + p >= lower) & (x + p <= upper)):
        return p, p_h, -_quadratic(gram_h, g_h, p_h, diag_h)
    p_stride, hits = _step_to_bound(x, p, lower, upper)
    r_h = p_h.copy()
    r_h[hits.astype(bool)] *= -1
    r = d * r_h
    p = p * p_stride
    p_h = p_h * p_stride
    x_on_bound = x + p
    _, to_tr = _to_trust_boundary(p_h, r_h, radius)
    to_bound, _ = _step_to_bound(x_on_bound, r, lower, upper)
    r_stride = min(to_bound, to_tr)
    if r_stride > 0:
        r_stride_l = (1 - theta) * p_stride / r_stride
        r_stride_u = theta * to_bound if r_stride == to_bound else to_tr
    else:
        r_stride_l, r_stride_u = 0.0, -1.0
    if r_stride_l <= r_stride_u:
        a, b, c = _quadratic_1d(gram_h, g_h, r_h, diag_h, s0=p_h)
        r_stride, r_value = _minimise_1d(a, b, r_stride_l, r_stride_u, c=c)
        r_h = r_h * r_stride + p_h
        r = r_h * d
    else:
        r_value = np.inf
    p = p * theta
    p_h = p_h * theta
    p_value = _quadratic(gram_h, g_h, p_h, diag_h)
    ag_h = -g_h
    ag = d * ag_h
    to_tr = radius / np.linalg.norm(ag_h)
    to_bound, _ = _step_to_bound(x, ag, lower, upper)
    ag_stride = theta * to_bound if to_bound < to_tr else to_tr
    a, b, _ = _quadratic_1d(gram_h, g_h, ag_h, diag_h)
    ag_stride, ag_value = _minimise_1d(a, b, 0.0, ag_stride)
    ag_h = ag_h * ag_stride
    ag = ag * ag_stride
    if p_value < r_value and p_value < ag_value:
        return p, p_h, -p_value
    if r_value < p_value and r_value < ag_value:
        return r, r_h, -r_value
    return ag, ag_h, -ag_value


def trf_least_squares(
    model: Model,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    x_scale: np.ndarray,
    *,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
) -> TrfResult:
    r"""Minimise :math:`\tfrac12\|r(x)\|^2` on ``lower <= x <= upper`` by the steps of scipy's ``trf``.

    The same algorithm, options and defaults as ``scipy.optimize.least_squares(fun, x0, jac,
    bounds=(lower, upper), x_scale=x_scale, method="trf")`` with a dense Jacobian and the linear loss
    ([1]_, [3]_): iterates kept strictly feasible, the trust region in Coleman–Li scaled variables,
    Moré's subproblem solution [2]_, the reflective step selection, at most ``100 p`` evaluations.
    ``model(x)`` returns the residuals and their Jacobian.
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    scale = np.asarray(x_scale, dtype=float)
    scale_inv = 1.0 / scale
    x = _strictly_feasible(np.asarray(x0, dtype=float), lower, upper, rstep=1e-10)
    f, J = model(x)
    nfev = 1
    m, n = J.shape
    max_nfev = 100 * n
    cost = 0.5 * float(f @ f)
    g = J.T @ f
    v, dv = _coleman_li(x, g, lower, upper)
    v[dv != 0] *= scale_inv[dv != 0]
    radius = float(np.linalg.norm(x * scale_inv / v**0.5)) or 1.0
    alpha = 0.0
    status: int | None = None
    x_new, f_new, cost_new = x, f, cost
    while True:
        v, dv = _coleman_li(x, g, lower, upper)
        g_norm = float(np.max(np.abs(g * v)))
        if g_norm < gtol:
            status = 1
        if status is not None or nfev == max_nfev:
            break
        v[dv != 0] *= scale_inv[dv != 0]
        d = v**0.5 * scale
        diag_h = g * dv * scale
        g_h = d * g
        gram_h = (J.T @ J) * np.outer(d, d)  # J_h^T J_h, J_h = J diag(d)
        if n == 1:
            lam, V = gram_h[0] + diag_h, np.ones((1, 1))
        else:
            lam, V = np.linalg.eigh(gram_h + np.diag(diag_h))  # = J_aug^T J_aug
            lam, V = lam[::-1], V[:, ::-1]
        suf = V.T @ g_h  # J_aug^T f_aug = J_h^T f = g_h
        theta = max(0.995, 1.0 - g_norm)
        actual_reduction = -1.0
        while actual_reduction <= 0 and nfev < max_nfev:
            p_h, alpha = _trust_region_step(lam, V, suf, radius, alpha, m)
            p = d * p_h
            step, step_h, predicted_reduction = _select_step(
                x, gram_h, diag_h, g_h, p, p_h, d, radius, lower, upper, theta
            )
            x_new = _strictly_feasible(x + step, lower, upper, rstep=0)
            f_new, J_new = model(x_new)
            nfev += 1
            step_h_norm = float(np.linalg.norm(step_h))
            if not np.all(np.isfinite(f_new)):
                radius = 0.25 * step_h_norm
                continue
            cost_new = 0.5 * float(f_new @ f_new)
            actual_reduction = cost - cost_new
            # radius update (update_tr_radius of [3])
            if predicted_reduction > 0:
                ratio = actual_reduction / predicted_reduction
            elif predicted_reduction == actual_reduction == 0:
                ratio = 1.0
            else:
                ratio = 0.0
            if ratio < 0.25:
                radius_new = 0.25 * step_h_norm
            elif ratio > 0.75 and step_h_norm > 0.95 * radius:
                radius_new = 2.0 * radius
            else:
                radius_new = radius
            # termination (check_termination of [3])
            ftol_ok = actual_reduction < ftol * cost and ratio > 0.25
            xtol_ok = float(np.linalg.norm(step)) < xtol * (xtol + float(np.linalg.norm(x)))
            if ftol_ok or xtol_ok:
                status = 4 if ftol_ok and xtol_ok else (2 if ftol_ok else 3)
                break
            alpha *= radius / radius_new
            radius = radius_new
        if actual_reduction > 0:
            x, f, J, cost = x_new, f_new, J_new, cost_new
            g = J.T @ f
    return TrfResult(x=x, residuals=f, jacobian=J, status=0 if status is None else status, nfev=nfev)
