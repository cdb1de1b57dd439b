r"""Gaussian broadening of a spectrum: the smoothed density and counting function of paper 000 App. B / paper 001 App. C.

Each level :math:`x_k` (sorted ascending) becomes a Gaussian of width

.. math::

    \sigma_k = \frac{|x_{k+a} - x_{k-a}|}{2},

indices clipped to :math:`[1, m]` (a one-sided, narrower window at the ends), a zero width (tied
levels) raised to the smallest positive one. The broadened density
:math:`P(x) = \frac1m \sum_k \phi((x - x_k)/\sigma_k)/\sigma_k` is what the Gaussian-broadening
estimator of :math:`\sigma` fits (App. B of [1]_); the broadened counting function
:math:`F(x) = \sum_k \Phi((x - x_k)/\sigma_k)` unfolds a spectrum to unit mean spacing (eqs. (4)–(5)
of [2]_). Both are evaluated in blocks, so memory stays bounded for large spectra.

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight
   Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, App. B.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   App. C, eqs. (4)–(5).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from rmtweights.checks import InsufficientDataError

__all__ = ["broadening_widths", "broadened_density", "broadened_count"]

_CHUNK_ELEMENTS = 1 << 21  # (points x levels) block: 16 MiB of float64


def broadening_widths(x_asc: np.ndarray, a: int) -> np.ndarray:
    r"""Widths :math:`\sigma_k = |x_{k+a} - x_{k-a}|/2` of ascending levels, indices clipped to the spectrum.

    Raises :class:`~rmtweights.checks.InsufficientDataError` when every width is zero (all levels equal).
    """
    m = x_asc.size
    idx = np.arange(m)
    widths = 0.5 * np.abs(x_asc[np.minimum(idx + a, m - 1)] - x_asc[np.maximum(idx - a, 0)])  # App. B of [1]
    positive = widths[widths > 0.0]
    if positive.size == 0:
        raise InsufficientDataError("all broadening widths are zero (all levels equal)")
    return np.maximum(widths, positive.min())


def broadened_density(points: np.ndarray, x_asc: np.ndarray, widths: np.ndarray) -> np.ndarray:
    r""":math:`P(x) = \frac1m \sum_k \frac{1}{\sqrt{2\pi}\sigma_k} e^{-(x - x_k)^2/(2\sigma_k^2)}` at each point (App. B of [1]_)."""
    m = x_asc.size
    inv = 1.0 / widths
    weight = inv / (m * math.sqrt(2.0 * math.pi))
    out = np.empty(points.size, dtype=float)
    step = max(1, _CHUNK_ELEMENTS // m)
    for start in range(0, points.size, step):
        z = (points[start : start + step, None] - x_asc[None, :]) * inv[None, :]
        out[start : start + step] = np.exp(-0.5 * z * z) @ weight  # App. B of [1]
    return out


def broadened_count(points: np.ndarray, x_asc: np.ndarray, widths: np.ndarray) -> np.ndarray:
    r""":math:`F(x) = \sum_k \Phi((x - x_k)/\sigma_k)` at each point (eqs. (4)–(5) of [2]_)."""
    out = np.empty(points.size)
    inv = 1.0 / widths
    step = max(1, _CHUNK_ELEMENTS // x_asc.size)
    for lo in range(0, points.size, step):
        z = (points[lo : lo + step, None] - x_asc[None, :]) * inv[None, :]
        out[lo : lo + step] = special.ndtr(z).sum(axis=1)  # eqs. (4)-(5) of [2]
    return out
