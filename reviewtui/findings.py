"""Shares with their uncertainty, and when a group is large enough to say something about.

A finding ("version 4.5 is more negative than the earlier ones") states its n, shows a Wilson
interval for every share, is drawn only about groups of at least ``min_group_size`` reviews, and
calls two shares different only when their intervals do not overlap. Pure functions, no reviewtui
imports; ``[findings]`` in reviewtui.toml holds the minimum and the confidence level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (1.96 for 0.95). Raises ValueError outside (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval (low, high) of the share ``k / n``. (0, 1) when ``n`` is 0.
    Raises ValueError when ``k`` is outside 0..n."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, not k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Share:
    """``k`` of ``n`` with its Wilson interval at ``confidence``."""

    k: int
    n: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else 0.0


def share(k: int, n: int, confidence: float = 0.95) -> Share:
    """``k / n`` as a :class:`Share` with its interval."""
    low, high = wilson_interval(k, n, confidence)
    return Share(int(k), int(n), low, high, confidence)


def large_enough(n: int, min_group_size: int) -> bool:
    """True when a group of ``n`` reviews may carry a finding."""
    return n >= max(1, int(min_group_size))


def clearly_higher(a: Share, b: Share) -> bool:
    """True when ``a`` is above ``b`` beyond doubt at their confidence: a's interval lies wholly
    above b's."""
    return a.low > b.high


def clearly_different(a: Share, b: Share) -> bool:
    """True when the intervals of ``a`` and ``b`` do not overlap."""
    return clearly_higher(a, b) or clearly_higher(b, a)


__all__ = ["Share", "clearly_different", "clearly_higher", "large_enough", "share", "wilson_interval", "z_value"]
