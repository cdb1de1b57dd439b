"""Argument checks shared by the numerical modules: one wording for every bad value.

Each check raises ``ValueError`` naming the argument and its value (``q must lie in (0, 1], got
q=1.5``) and returns the value converted to its type. :class:`InsufficientDataError` marks a spectrum
that is valid but too small or degenerate for a method: callers turn it into a row with a status.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["InsufficientDataError", "check_int", "check_q", "check_sigma", "check_open_unit", "check_a"]


class InsufficientDataError(ValueError):
    """The spectrum is too small or degenerate for the requested method."""


def check_int(name: str, value: Any, minimum: int) -> int:
    """An integer (not a bool; an integral float is refused too) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def check_a(a: Any) -> int:
    """The half-width ``a`` of a Gaussian-broadening window: an integer >= 1."""
    if isinstance(a, bool) or not isinstance(a, (int, np.integer, float)) or int(a) != a or int(a) < 1:
        raise ValueError(f"a must be an integer >= 1 (the half-width of the broadening window), got a={a!r}")
    return int(a)


def check_q(q: Any) -> float:
    """The aspect ratio ``q = m/n`` in (0, 1]."""
    q_f = float(q)
    if not (0.0 < q_f <= 1.0):
        raise ValueError(f"q = m/n must lie in (0, 1], got q={q!r}")
    return q_f


def check_sigma(sigma: Any) -> float:
    """A noise level: finite and > 0."""
    s_f = float(sigma)
    if not (math.isfinite(s_f) and s_f > 0.0):
        raise ValueError(f"sigma must be finite and > 0, got sigma={sigma!r}")
    return s_f


def check_open_unit(name: str, value: Any, upper: float = 1.0) -> float:
    """A number in the open interval (0, ``upper``): a probability level, a trimming fraction."""
    v = float(value)
    if not (0.0 < v < upper):
        raise ValueError(f"{name} must lie in (0, {upper:g}), got {name}={value!r}")
    return v
