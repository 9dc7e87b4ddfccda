"""Outcome labels and the grid of ``as_of`` dates they are built for.

The label of an employer as of ``as_of`` counts its recognised non-commuting
injuries with ``occurred_on`` in (``as_of``, ``as_of`` + ``horizon_days``].
Commuting injuries are left out, as in the features, because prevention work at
the workplace cannot act on them.

The data end is the latest ``occurred_on`` in the incident table unless a
caller passes ``data_end``. A label is complete only when its whole horizon
lies on or before the data end, and :func:`as_of_grid` returns only such dates.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from risk.errors import InputDataError
from risk.features.build import as_of_column, check_as_of
from risk.features.prepare import PreparedTables, prepare_tables
from risk.features.windows import day_number, window_slice
from risk.tables import CanonicalTables

DEFAULT_HORIZON_DAYS = 365
# Months of history the first as_of of a grid needs: the 12-month features are
# then computed over observed data only.
DEFAULT_HISTORY_MONTHS = 12

_PERIOD_ENDS = {"monthly": "ME", "quarterly": "QE-DEC", "yearly": "YE-DEC"}


def _check_horizon(horizon_days: int) -> None:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days <= 0:
        raise ValueError(
            f"horizon_days must be a positive whole number of days, got {horizon_days!r}"
        )


def _period_ends(freq: str) -> str:
    if freq not in _PERIOD_ENDS:
        raise ValueError(f"freq must be one of {sorted(_PERIOD_ENDS)!r}, got {freq!r}")
    return _PERIOD_ENDS[freq]


def resolve_data_end(tables: CanonicalTables, data_end: dt.date | None = None) -> dt.date:
    """Return ``data_end`` if given, else the latest incident date.

    Raises
    ------
    InputDataError
        When ``data_end`` is None and the incident table is empty.
    """
    if data_end is not None:
        return check_as_of(data_end)
    latest = tables.data_end()
    if latest is None:
        raise InputDataError(
            "工伤事故表为空，无法确定数据截止日期 / the incident table is empty, so the data end is"
            " unknown; pass data_end explicitly"
        )
    return latest


def labels_from_prepared(
    prepared: PreparedTables,
    as_of: dt.date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> pd.DataFrame:
    """Build labels from the output of ``prepare_tables`` (see :func:`build_labels`)."""
    as_of = check_as_of(as_of)
    _check_horizon(horizon_days)
    incidents = prepared.incidents
    start = day_number(as_of)
    span = window_slice(incidents.day, start, start + horizon_days)
    workplace = ~incidents.is_commuting[span]
    counts = np.bincount(incidents.employer[span][workplace], minlength=prepared.n_employers)
    return pd.DataFrame(
        {
            "employer_id": pd.Series(prepared.employer_ids, dtype="str"),
            "as_of": as_of_column(as_of, prepared.n_employers),
            "injury_any": (counts > 0).astype(np.int64),
            "injury_count": counts.astype(np.int64),
        }
    )


def warn_if_incomplete(as_of: dt.date, horizon_days: int, data_end: dt.date | None) -> None:
    """Warn when the outcome window of ``as_of`` reaches past ``data_end``."""
    if data_end is not None and as_of + dt.timedelta(days=horizon_days) > data_end:
        warnings.warn(
            f"the outcome window of as_of={as_of} ends on"
            f" {as_of + dt.timedelta(days=horizon_days)},"
            f" after the data end {data_end}, so its labels miss later injuries; pick dates"
            " with as_of_grid()",
            UserWarning,
            stacklevel=3,
        )


def build_labels(
    tables: CanonicalTables,
    as_of: dt.date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> pd.DataFrame:
    """Build the outcome of every employer in the ``horizon_days`` after ``as_of``.

    Returns
    -------
    DataFrame
        One row per employer of ``tables.employers``, in its order: ``employer_id``,
        ``as_of``, ``injury_any`` (int 0/1) and ``injury_count`` (int), counting
        non-commuting injuries with ``occurred_on`` in (``as_of``, ``as_of`` + ``horizon_days``].

    Warns
    -----
    UserWarning
        When the window ends after the latest incident date, so the labels are incomplete.
    """
    as_of = check_as_of(as_of)
    _check_horizon(horizon_days)
    warn_if_incomplete(as_of, horizon_days, tables.data_end())
    return labels_from_prepared(prepare_tables(tables), as_of, horizon_days)


def as_of_grid(
    tables: CanonicalTables,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    freq: str = "quarterly",
    data_end: dt.date | None = None,
    history_months: int = DEFAULT_HISTORY_MONTHS,
) -> list[dt.date]:
    """Return the period-end ``as_of`` dates usable for fitting and backtesting.

    The first date has ``history_months`` of incident history before it: the
    window (as_of - ``history_months`` months, as_of] starts on or after the
    earliest incident. The last date has its whole outcome window observed:
    as_of + ``horizon_days`` <= data end.

    Parameters
    ----------
    freq : {"quarterly", "monthly", "yearly"}, default="quarterly"
        Quarter ends, month ends or year ends.
    data_end : datetime.date, default=None
        The last date the data covers; by default the latest incident date.

    Returns
    -------
    list of datetime.date
        Ascending; empty when the data are too short.
    """
    _check_horizon(horizon_days)
    period_end = _period_ends(freq)
    end = resolve_data_end(tables, data_end)
    start = tables.data_start()
    if start is None:
        return []
    first = pd.Timestamp(start) - pd.Timedelta(days=1) + pd.DateOffset(months=history_months)
    last = pd.Timestamp(end) - pd.Timedelta(days=horizon_days)
    if last < first:
        return []
    return [stamp.date() for stamp in pd.date_range(first, last, freq=period_end)]


def latest_as_of(
    tables: CanonicalTables, data_end: dt.date | None = None, freq: str = "quarterly"
) -> dt.date:
    """Return the last period end on or before the data end: the ``as_of`` to score with."""
    end = pd.Timestamp(resolve_data_end(tables, data_end))
    offset = pd.tseries.frequencies.to_offset(_period_ends(freq))
    # rollback keeps a date that is already a period end and moves any other back to one.
    latest: dt.date = pd.Timestamp(offset.rollback(end)).date()
    return latest
