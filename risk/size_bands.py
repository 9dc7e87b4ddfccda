"""Employer size bands by insured headcount, shared by scores, filters and backtest slices.

The bands follow the employee thresholds for industrial enterprises in the
2011 SME classification rules (中小企业划型标准规定): micro under 20, small
20-299, medium 300-999, large 1000 and more. Inspectors filter the ranking by
these bands and the backtest reports its slices by the same ones, so a model's
quality can be read for exactly the group an inspector is looking at.
"""

from __future__ import annotations

import numpy as np

# (code, upper bound, Chinese name, English name). Each band runs from the previous bound
# (inclusive) to its own (exclusive).
SIZE_BANDS: tuple[tuple[str, float, str, str], ...] = (
    ("micro", 20, "微型", "micro"),
    ("small", 300, "小型", "small"),
    ("medium", 1000, "中型", "medium"),
    ("large", float("inf"), "大型", "large"),
)
UNKNOWN_SIZE = "unknown"
SIZE_BAND_CODES: tuple[str, ...] = tuple(code for code, *_ in SIZE_BANDS) + (UNKNOWN_SIZE,)


def assign_size_bands(headcount: np.ndarray) -> np.ndarray:
    """Return the size band code of each insured headcount, or ``"unknown"`` where it is missing."""
    values = np.asarray(headcount, dtype=np.float64)
    bands = np.full(values.shape, UNKNOWN_SIZE, dtype=object)
    lower = 0.0
    for code, upper, _, _ in SIZE_BANDS:
        bands[(values >= lower) & (values < upper)] = code
        lower = upper
    return bands
