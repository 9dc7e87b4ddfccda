"""Time-ordered slices of a panel: fit rows and the later early-stopping and calibration slice.

The outcome windows of consecutive quarterly as-of dates overlap (a 365-day
window spans four quarters), so one injury is a label of up to four rows of
the same employer. A booster checked on rows that overlap its fit rows is
checked on injuries it has already seen. On pure-noise data the validation
loss then keeps falling, so early stopping never stops, and the calibrator
learns a confidence that does not hold on new data.

The slices are therefore purged. The latest as-of date ``c`` stops the
boosting and then calibrates it, and the fit rows are only those whose
outcome window ends on or before ``c``::

    fit rows: as_of + horizon <= c | purged dates | c: early stopping, then calibration

The dates between the last fit date and ``c`` are left out of every slice.
Early stopping uses ``c`` only to pick the number of trees. A separate,
earlier early-stopping date would need its own purge gap, which costs the fit
rows another quarter of the most recent data (``docs/model.md`` gives the
measured effect).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk.errors import ModelError


@dataclass(frozen=True)
class TimeSlices:
    """The as-of dates of the fit rows, the purged gap, early stopping and calibration.

    ``early_stopping_as_of`` equals ``calibration_as_of`` (see the module docstring).
    """

    fit_as_of: tuple[dt.date, ...]
    purged_as_of: tuple[dt.date, ...]
    early_stopping_as_of: dt.date
    calibration_as_of: dt.date

    def to_dict(self) -> dict[str, Any]:
        """Return the slices with ISO dates."""
        return {
            "fit_as_of": [day.isoformat() for day in self.fit_as_of],
            "purged_as_of": [day.isoformat() for day in self.purged_as_of],
            "early_stopping_as_of": self.early_stopping_as_of.isoformat(),
            "calibration_as_of": self.calibration_as_of.isoformat(),
        }


def as_of_dates(as_of: pd.Series) -> list[dt.date]:
    """Return the distinct as-of dates of a column, ascending."""
    return sorted({pd.Timestamp(value).date() for value in pd.unique(as_of)})


def can_split(dates: list[dt.date], horizon_days: int) -> bool:
    """Return whether ``dates`` (ascending) have a fit date whose window ends by the last date."""
    return len(dates) >= 2 and dates[0] + dt.timedelta(days=horizon_days) <= dates[-1]


def split_time_slices(as_of: pd.Series, horizon_days: int) -> TimeSlices:
    """Cut the distinct as-of dates into fit, purged and early-stopping/calibration dates.

    Raises
    ------
    ModelError
        When no as-of date ends its outcome window by the latest date.
    """
    dates = as_of_dates(as_of)
    if not can_split(dates, horizon_days):
        raise ModelError(
            "训练数据的评估基准日不足 / fitting needs an as-of date whose "
            f"{horizon_days}-day outcome window ends by the latest date; got {len(dates)} dates "
            f"{[day.isoformat() for day in dates][:5]!r}{', …' if len(dates) > 5 else ''}; "
            "use a longer data history or a shorter horizon"
        )
    calibration = dates[-1]
    horizon = dt.timedelta(days=horizon_days)
    fit = tuple(day for day in dates[:-1] if day + horizon <= calibration)
    purged = tuple(day for day in dates[:-1] if day + horizon > calibration)
    return TimeSlices(fit, purged, calibration, calibration)


def slice_masks(as_of: pd.Series, slices: TimeSlices) -> dict[str, npt.NDArray[np.bool_]]:
    """Return one boolean row mask per slice: ``fit``, ``early_stopping`` and ``calibration``."""
    days = pd.to_datetime(as_of).dt.date
    return {
        "fit": days.isin(slices.fit_as_of).to_numpy(),
        "early_stopping": (days == slices.early_stopping_as_of).to_numpy(),
        "calibration": (days == slices.calibration_as_of).to_numpy(),
    }
