"""Correlation with a Fisher-z confidence interval, by normal approximation (numpy only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Below this many pairs a correlation is reported with a note: its interval is too wide to
# tell a real relationship from noise (at n = 30 the 95 % interval of r = 0 is +-0.36).
MIN_PAIRS = 30
Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Correlation:
    """Pearson's r of `n` pairs with its 95 % interval and two-sided p-value (Fisher z)."""

    r: float
    n: int
    low: float
    high: float
    p_value: float
    note: str | None = None

    @property
    def significant(self) -> bool:
        """The 95 % interval excludes zero."""
        return self.n > 3 and (self.low > 0 or self.high < 0)


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def correlation(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    min_pairs: int = MIN_PAIRS,
    overlap: int = 1,
) -> Correlation:
    """Pearson's r over the pairs where both values are finite.

    The interval is tanh(atanh(r) +- 1.96 / sqrt(m - 3)); the p-value tests r = 0 with
    z = atanh(r) * sqrt(m - 3), where m = n / overlap: returns over overlapping k-day
    windows share days, so n of them carry about n / k independent observations. With fewer
    than 4 pairs, or a constant series, there is no r (NaN, interval [-1, 1], p = 1).
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = int(a.size)
    note = sample_note(n, min_pairs, "pairs")
    if n < 4 or float(np.std(a)) == 0.0 or float(np.std(b)) == 0.0:
        reason = note or "one of the series is constant: no correlation to measure"
        return Correlation(math.nan, n, -1.0, 1.0, 1.0, reason)
    r = float(np.corrcoef(a, b)[0, 1])
    r = max(-1.0, min(1.0, r))
    z = math.atanh(max(-0.999999, min(0.999999, r)))
    independent = max(n / max(1, overlap), 4.0)
    se = 1.0 / math.sqrt(independent - 3)
    low, high = math.tanh(z - Z_95 * se), math.tanh(z + Z_95 * se)
    p_value = 2.0 * (1.0 - normal_cdf(abs(z) / se))
    return Correlation(r, n, low, high, p_value, note)


def sample_note(n: int, minimum: int, what: str) -> str | None:
    """The honest note for a small sample, or None when there is enough data."""
    if n == 0:
        return f"no {what}: nothing to measure"
    if n < minimum:
        return (
            f"only {n} {what} (fewer than {minimum}): too few to tell a relationship from "
            "noise; treat the figure as illustration"
        )
    return None


def mean_interval(values: npt.ArrayLike) -> tuple[float, float, float]:
    """Mean and its 95 % normal interval (mean +- 1.96 * sd / sqrt(n)); NaN when empty."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    half = Z_95 * float(v.std(ddof=1)) / math.sqrt(v.size)
    return mean, mean - half, mean + half
