r"""Porter–Thomas test of singular vectors: are the entries of each vector Gaussian, as for a random matrix?

For a random matrix the entries of each normalised right singular vector (an eigenvector of
:math:`W^\top W`) are distributed as :math:`N(0, 1/m)` (Porter and Thomas [2]_); Sec. 4 of [1]_
tests this vector by vector with a Kolmogorov–Smirnov test and finds deviations only for the vectors
of the largest singular values, where trained networks store what they learned.

References
----------
.. [1] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661), Sec. 4,
   Fig. 2.
.. [2] C. E. Porter, R. G. Thomas, "Fluctuations of nuclear reaction widths", Physical Review 104,
   483–491 (1956). :doi:`10.1103/PhysRev.104.483`
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

__all__ = ["porter_thomas"]

def _moving_average(p: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the window is truncated at the ends (mean of the available values)."""
    left, right = (window - 1) // 2, window // 2
    csum = np.concatenate(([0.0], np.cumsum(p)))
    idx = np.arange(p.size)
    lo = np.maximum(idx - left, 0)
    hi = np.minimum(idx + right + 1, p.size)
    return (csum[hi] - csum[lo]) / (hi - lo)


def _ks_normal(z_sorted: np.ndarray) -> np.ndarray:
    """Two-sided KS distance of each column of ``z_sorted`` (sorted along axis 0) to N(0, 1)."""
    m = z_sorted.shape[0]
    cdf = special.ndtr(z_sorted)
    i = np.arange(1, m + 1, dtype=np.float64)[:, None]
    return np.maximum(np.max(i / m - cdf, axis=0), np.max(cdf - (i - 1.0) / m, axis=0))


def porter_thomas(
    vectors: npt.ArrayLike,
    window: int = 15,
    *,
    null: str = "gaussian",
    n_null: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""KS test of every singular vector's entries against the Porter–Thomas (Gaussian) law, Sec. 4 of [1]_.

    For a random matrix the entries of a normalised eigenvector of the :math:`m \times m` matrix
    :math:`W^\top W` (a right singular vector of :math:`W`, length :math:`m`) are distributed as
    :math:`N(0, 1/m)` (Porter–Thomas [2]_; Sec. 4 of [1]_). For each vector :math:`v` the entries
    :math:`\sqrt m\, v_i` are compared with :math:`N(0,1)`:

    .. math::

        D = \sup_z \big| \hat F_{\sqrt m v}(z) - \Phi(z) \big| .

    Two null distributions for :math:`D` (``null``):

    * ``"gaussian"`` (paper 001): :math:`p = P(D_m \ge D)` for :math:`m` i.i.d. :math:`N(0,1)`
      values, exact finite-:math:`m` law (``scipy.stats.kstwo``, what ``scipy.stats.kstest`` uses
      for :math:`m \le 10^4`). For a *unit* vector the mean square of the entries is exactly 1, so
      this test is conservative: under the random-matrix null the p-values are stochastically larger
      than uniform (mean ≈ 0.54 for :math:`m = 300`; checked in the tests).
    * ``"sphere"``: :math:`p = (1 + \#\{D^{(b)} \ge D\})/(n_{null} + 1)` with :math:`D^{(b)}`
      the distances of ``n_null`` seeded uniformly random unit vectors of length :math:`m` (the
      exact law of a singular vector of a Gaussian matrix). Calibrated: p is uniform under the null,
      with resolution :math:`1/(n_{null}+1)`.

    Small p-values flag vectors that carry structure (learned information). As in Fig. 2 of [1]_,
    ``p_value_moving_avg`` averages the p-values over ``window`` neighbouring ranks (centred;
    truncated at the ends).

    Parameters
    ----------
    vectors : array_like, shape (m, k)
        Unit vectors as **columns**, e.g. ``Vh.T`` from ``numpy.linalg.svd(W, full_matrices=False)``
        for a layer matrix :math:`W` (:math:`n \times m`, :math:`n \ge m`): the right singular
        vectors, of length :math:`m`. The sign of each vector is irrelevant.
    window : int
        Moving-average window (15 in [1]_), >= 1.
    null : {"gaussian", "sphere"}
        Null distribution of the KS distance (see above); "gaussian" reproduces [1]_.
    n_null : int
        Number of random unit vectors for ``null="sphere"``.
    seed : int
        Seed of the ``numpy.random.Generator`` for ``null="sphere"``.

    Returns
    -------
    DataFrame
        One row per column: ``rank`` (1-based column index; with ``numpy.linalg.svd`` output rank 1
        is the largest singular value), ``position`` (:math:`(k - \mathrm{rank})/(k - 1)`: 0 for the
        smallest and 1 for the largest singular value, the x-axis of Fig. 2 of [1]_), ``ks_stat``,
        ``p_value``, ``p_value_moving_avg``, ``null``.

    References
    ----------
    .. [1] Thamm, Staats, Rosenow (2024), paper 001, Sec. 4, Fig. 2.
    .. [2] Porter, Thomas, Phys. Rev. 104, 483 (1956).
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 1:
        raise ValueError(f"vectors must be an (m, k) array with m >= 2 and k >= 1, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vectors contain NaN or Inf")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got window={window!r}")
    if null not in ("gaussian", "sphere"):
        raise ValueError(f"null must be 'gaussian' or 'sphere', got null={null!r}")
    if isinstance(n_null, bool) or not isinstance(n_null, (int, np.integer)) or n_null < 1:
        raise ValueError(f"n_null must be an integer >= 1, got n_null={n_null!r}")
    m, k = v.shape
    d = _ks_normal(np.sort(math.sqrt(m) * v, axis=0))  # sqrt(m) v ~ N(0, 1), Sec. 4 of [1]
    if null == "gaussian":
        p = np.clip(stats.kstwo.sf(d, m), 0.0, 1.0)
    else:
        rng = np.random.default_rng(seed)
        g = rng.standard_normal((m, int(n_null)))
        g /= np.linalg.norm(g, axis=0, keepdims=True)  # uniform on the unit sphere
        d_null = np.sort(_ks_normal(np.sort(math.sqrt(m) * g, axis=0)))
        exceed = d_null.size - np.searchsorted(d_null, d, side="left")  # #{D_null >= D}
        p = (1.0 + exceed) / (d_null.size + 1.0)
    rank = np.arange(1, k + 1)
    position = (k - rank) / (k - 1) if k > 1 else np.ones(1)
    return pd.DataFrame(
        {
            "rank": rank,
            "position": position,
            "ks_stat": d,
            "p_value": p,
            "p_value_moving_avg": _moving_average(p, int(window)),
            "null": null,
        }
    )
