"""Calendar quarters as integers: ``quarter_index = year * 4 + quarter - 1``.

The MSHA panel writes a quarter as a decimal year (2000.0 is the first quarter
of 2000, 2000.75 the fourth). An integer index makes "four quarters later" a
plain addition and sorts in time order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def index_of_decimal_quarter(values: pd.Series) -> pd.Series:
    """Return the quarter index of decimal years such as ``2000.25``; invalid values give NA.

    A value is valid when it is a number whose fractional part is 0, .25, .5 or .75.
    """
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    scaled = numbers * 4
    on_grid = np.isclose(scaled, np.round(scaled)) & numbers.notna()
    index = pd.Series(np.round(scaled.where(on_grid)), index=values.index)
    return index.astype("Int64")


def index_of_year_quarter(years: pd.Series, quarters: pd.Series) -> pd.Series:
    """Return the quarter index of a year and a quarter number 1-4; invalid values give NA."""
    year = pd.to_numeric(years, errors="coerce")
    quarter = pd.to_numeric(quarters, errors="coerce")
    valid = year.notna() & quarter.isin([1, 2, 3, 4])
    index = (year * 4 + quarter - 1).where(valid)
    return index.astype("Int64")


def index_of_date(dates: pd.Series) -> pd.Series:
    """Return the quarter index of each date."""
    stamps = pd.to_datetime(dates)
    return (stamps.dt.year * 4 + (stamps.dt.month - 1) // 3).astype("int64")


def year_of(index: np.ndarray | pd.Series | int) -> np.ndarray | pd.Series | int:
    """Return the calendar year of quarter indices."""
    return index // 4


def start_of(index: pd.Series) -> pd.Series:
    """Return the first day of each quarter."""
    index = index.astype("int64")
    return pd.to_datetime(
        pd.DataFrame({"year": index // 4, "month": (index % 4) * 3 + 1, "day": 1})
    ).astype("datetime64[us]")


def end_of(index: pd.Series) -> pd.Series:
    """Return the last day of each quarter."""
    return (start_of(index.astype("int64") + 1) - pd.Timedelta(days=1)).astype("datetime64[us]")


def middle_of(index: pd.Series) -> pd.Series:
    """Return the 15th of each quarter's middle month: the date of events known only by quarter."""
    index = index.astype("int64")
    return pd.to_datetime(
        pd.DataFrame({"year": index // 4, "month": (index % 4) * 3 + 2, "day": 15})
    ).astype("datetime64[us]")


def label_of(index: int) -> str:
    """Return a quarter index as text, for example ``"2012Q4"``."""
    return f"{index // 4}Q{index % 4 + 1}"


def end_date_of(index: int) -> pd.Timestamp:
    """Return the last day of one quarter."""
    return pd.Timestamp(
        year=(index + 1) // 4, month=((index + 1) % 4) * 3 + 1, day=1
    ) - pd.Timedelta(days=1)
