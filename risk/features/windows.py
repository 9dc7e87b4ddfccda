"""Date windows ending at ``as_of``, as day numbers, and the sums taken over them.

A window of ``w`` months as of ``as_of`` is the half-open interval
(``as_of`` - ``w`` calendar months, ``as_of``]. A record dated on ``as_of`` is
inside it, and one dated exactly ``w`` months earlier is outside. Month arithmetic
follows ``pandas.DateOffset``, so 12 months before 2024-02-29 is 2023-02-28.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.features.prepare import FloatArray, IntArray

DAYS_PER_MONTH = 365.25 / 12
# Day number marking "no event yet": far enough in the past to reach any cap, and
# small enough in magnitude that ``as_of - NO_EVENT`` does not overflow int64.
NO_EVENT = np.iinfo(np.int64).min // 2


@dataclass(frozen=True)
class AsOfWindows:
    """Day numbers of ``as_of`` and of the excluded start of each window."""

    as_of: dt.date
    day: int
    start: dict[int, int]


def day_number(value: dt.date | pd.Timestamp) -> int:
    """Return a date as days since 1970-01-01."""
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def as_of_windows(as_of: dt.date, windows_months: tuple[int, ...]) -> AsOfWindows:
    """Return the window bounds of every window in ``windows_months`` as of ``as_of``."""
    start = {
        months: day_number(pd.Timestamp(as_of) - pd.DateOffset(months=months))
        for months in windows_months
    }
    return AsOfWindows(as_of=as_of, day=day_number(as_of), start=start)


def window_slice(sorted_days: IntArray, start_exclusive: int, end_inclusive: int) -> slice:
    """Return the slice of ``sorted_days`` that lies in (``start_exclusive``, ``end_inclusive``]."""
    low = int(np.searchsorted(sorted_days, start_exclusive, side="right"))
    high = int(np.searchsorted(sorted_days, end_inclusive, side="right"))
    return slice(low, high)


def sum_by_employer(
    employer: IntArray, n_employers: int, weights: FloatArray | None = None
) -> FloatArray:
    """Return per-employer counts (or sums of ``weights``) as float64."""
    return np.bincount(employer, weights=weights, minlength=n_employers).astype(np.float64)


def annual_rate_per_100(total: FloatArray, headcount: FloatArray, window_months: int) -> FloatArray:
    """Return ``total`` per 100 insured workers per year; NaN where the headcount is missing or 0.

    The window's exposure is the headcount times the window's length in years.
    """
    exposure_years = headcount * (window_months / 12.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 100.0 * total / exposure_years
    return np.where(exposure_years > 0, rate, np.nan)


def months_between(earlier_day: IntArray, later_day: int, cap: float) -> FloatArray:
    """Return months from ``earlier_day`` to ``later_day``, capped at ``cap``.

    An ``earlier_day`` of ``NO_EVENT`` (nothing happened) gives ``cap``.
    """
    months = (later_day - earlier_day) / DAYS_PER_MONTH
    return np.minimum(months, cap)
