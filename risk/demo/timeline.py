"""Calendar helpers of the demo generator: the monthly grid and numbering within a year."""

from __future__ import annotations

import numpy as np
import pandas as pd


def month_starts(years: np.ndarray) -> np.ndarray:
    """Return the first day of every month of the given consecutive years, as datetime64[D]."""
    first = np.datetime64(f"{int(years[0]):04d}-01", "M")
    return (first + np.arange(12 * len(years))).astype("datetime64[D]")


def days_in_month(starts: np.ndarray) -> np.ndarray:
    """Return the number of days of each month that starts on the given dates."""
    months = np.asarray(starts).astype("datetime64[M]")
    return ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)


def month_index(dates: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Return the position of each date's month on the monthly grid that begins at ``starts[0]``."""
    months = np.asarray(dates).astype("datetime64[M]")
    return (months - starts[0].astype("datetime64[M]")).astype(np.int64)


def random_days(
    rng: np.random.Generator, month: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """Draw a uniformly random day inside each given month of the grid."""
    length = days_in_month(starts[month])
    offset = np.floor(rng.random(len(month)) * length).astype("timedelta64[D]")
    return starts[month] + offset


def calendar_years(dates: np.ndarray) -> np.ndarray:
    """Return the calendar year of each datetime64 value."""
    return np.asarray(dates).astype("datetime64[Y]").astype(np.int64) + 1970


def sequence_within(groups: np.ndarray) -> np.ndarray:
    """Number the rows 1, 2, ... within each run of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.nonzero(groups[1:] != groups[:-1])[0] + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(groups)]))
    return np.arange(len(groups)) - run_start + 1


def yearly_ids(dates: np.ndarray, head: str, middle: str, tail: str, width: int) -> np.ndarray:
    """Build IDs ``<head><year><middle><running number><tail>`` for dates sorted in time."""
    if len(dates) == 0:
        return np.zeros(0, dtype=str)
    years = calendar_years(dates)
    numbers = np.char.zfill(sequence_within(years).astype(str), width)
    ids = np.char.add(np.char.add(head, years.astype(str)), middle)
    return np.char.add(np.char.add(ids, numbers), tail)


def timestamps(dates: np.ndarray) -> pd.DatetimeIndex:
    """Convert datetime64 days to pandas timestamps in microseconds.

    Microseconds are what pandas 3 gives when it parses date strings, so these
    frames compare and merge with ingested ones without a unit cast.
    """
    return pd.to_datetime(dates).as_unit("us")
