"""Quartiles and Tukey fences, as Cardinal computes them.

Quantiles use the "approximately median-unbiased" estimator (Hyndman and Fan's type 8, the one the statrs
crate that Cardinal uses implements): ``h = (n + 1/3) p + 1/3``, interpolated between the order statistics
around ``h`` and clamped to the minimum and maximum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def quantile(values: Iterable[float], p: float) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0 or not 0.0 <= p <= 1.0:
        return math.nan
    h = (n + 1.0 / 3.0) * p + 1.0 / 3.0
    whole = int(h)
    if whole <= 0 or p == 0.0:
        return ordered[0]
    if whole >= n or p == 1.0:
        return ordered[-1]
    low, high = ordered[whole - 1], ordered[whole]
    return low + (h - whole) * (high - low)


def quartiles(values: Iterable[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return quantile(ordered, 0.25), quantile(ordered, 0.75)


def lower_fence(q1: float, q3: float) -> float:
    return q1 - 1.5 * (q3 - q1)


def upper_fence(q1: float, q3: float) -> float:
    return q3 + 1.5 * (q3 - q1)
