"""The employer-by-month panel that the training-effect estimate reads.

One cell per employer and calendar month holds:

- ``injuries``: recognised workplace injuries (commuting injuries left out,
  because workplace training cannot act on road accidents on the way to work);
- ``headcount``: the insured headcount of the cell's year, NaN when the
  employer has no headcount row for that year (not insured then);
- ``open_major_share``: the share of the month's days on which at least one
  major hazard found at the employer was not yet rectified. A finding is open
  from ``inspected_on`` up to the day before ``rectified_on``, or to the end
  of the panel when it was never rectified;
- the months of delivered training, from ``training_records.delivered_on``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk.errors import InputDataError
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmployerMonths:
    """Monthly injuries, exposure, open major hazards and trainings of every employer.

    Attributes
    ----------
    employer_ids : ndarray of str, shape (N,)
        Employers in the order of ``tables.employers``.
    months : PeriodIndex, shape (T,)
        Consecutive calendar months.
    injuries : ndarray of int64, shape (N, T)
        Workplace injuries in the month.
    headcount : ndarray of float64, shape (N, T)
        Insured headcount of the month's year; NaN when not insured.
    open_major_share : ndarray of float64, shape (N, T)
        Share of the month's days with an unrectified major hazard.
    training_employer, training_month : ndarray of intp, shape (K,)
        Employer row and month position of each distinct training month,
        sorted by month. Several records in one month count once.
    """

    employer_ids: npt.NDArray[np.str_]
    months: pd.PeriodIndex
    injuries: npt.NDArray[np.int64]
    headcount: npt.NDArray[np.float64]
    open_major_share: npt.NDArray[np.float64]
    training_employer: npt.NDArray[np.intp]
    training_month: npt.NDArray[np.intp]

    @property
    def insured(self) -> npt.NDArray[np.bool_]:
        """Cells with a positive insured headcount: the rows the estimate uses."""
        return np.nan_to_num(self.headcount, nan=0.0) > 0


def _month_positions(dates: pd.Series, first: pd.Period, n_months: int) -> npt.NDArray[np.intp]:
    """Return each date's month position from ``first``, -1 outside the panel or when missing."""
    periods = pd.to_datetime(dates).dt.to_period("M")
    positions = np.full(len(periods), -1, dtype=np.intp)
    known = periods.notna().to_numpy()
    offsets = np.array([(period - first).n for period in periods[known]], dtype=np.intp)
    positions[known] = np.where((offsets >= 0) & (offsets < n_months), offsets, -1)
    return positions


def _employer_rows(ids: pd.Series, index: pd.Index) -> npt.NDArray[np.intp]:
    return np.asarray(index.get_indexer(ids.astype(str)), dtype=np.intp)


def _injury_counts(
    tables: CanonicalTables, index: pd.Index, first: pd.Period, n_months: int
) -> npt.NDArray[np.int64]:
    incidents = tables.incidents[~tables.incidents["is_commuting"].to_numpy(dtype=bool)]
    rows = _employer_rows(incidents["employer_id"], index)
    months = _month_positions(incidents["occurred_on"], first, n_months)
    keep = (rows >= 0) & (months >= 0)
    counts = np.zeros((len(index), n_months), dtype=np.int64)
    np.add.at(counts, (rows[keep], months[keep]), 1)
    return counts


def _headcount(
    tables: CanonicalTables, index: pd.Index, months: pd.PeriodIndex
) -> npt.NDArray[np.float64]:
    headcounts = tables.headcounts
    by_year = pd.DataFrame(
        {
            "row": _employer_rows(headcounts["employer_id"], index),
            "year": headcounts["year"].to_numpy(),
            "insured_headcount": headcounts["insured_headcount"].to_numpy(dtype=np.float64),
        }
    )
    by_year = by_year[by_year["row"] >= 0]
    years = np.unique(months.year)
    grid = by_year.pivot_table(
        index="row", columns="year", values="insured_headcount", aggfunc="max"
    )
    grid = grid.reindex(index=np.arange(len(index)), columns=years)
    year_position = np.searchsorted(years, months.year)
    return grid.to_numpy(dtype=np.float64)[:, year_position]


def _open_major_share(
    tables: CanonicalTables, index: pd.Index, months: pd.PeriodIndex
) -> npt.NDArray[np.float64]:
    findings = tables.hazard_findings
    major = findings[findings["hazard_level"].astype(str) == "major"]
    share = np.zeros((len(index), len(months)))
    if major.empty:
        return share

    first_day = months[0].start_time.normalize()
    n_days = (months[-1].end_time.normalize() - first_day).days + 1
    start = ((pd.to_datetime(major["inspected_on"]) - first_day).dt.days).to_numpy()
    end = ((pd.to_datetime(major["rectified_on"]) - first_day).dt.days).fillna(n_days).to_numpy()
    start, end = np.clip(start, 0, n_days), np.clip(end, 0, n_days).astype(np.int64)
    rows = _employer_rows(major["employer_id"], index)
    keep = (rows >= 0) & (end > start)
    employers = np.unique(rows[keep])
    if employers.size == 0:
        return share

    # A difference array per employer marks the days with at least one open finding.
    # Overlapping findings count once, because the employer is either exposed or not.
    position = np.searchsorted(employers, rows[keep])
    delta = np.zeros((employers.size, n_days + 1), dtype=np.int64)
    np.add.at(delta, (position, start[keep].astype(np.int64)), 1)
    np.add.at(delta, (position, end[keep]), -1)
    open_days = (np.cumsum(delta[:, :n_days], axis=1) > 0).astype(np.float64)
    month_starts = np.array([(month.start_time.normalize() - first_day).days for month in months])
    days_in_month = np.array([month.days_in_month for month in months], dtype=np.float64)
    share[employers] = np.add.reduceat(open_days, month_starts, axis=1) / days_in_month
    return share


def _trainings(
    tables: CanonicalTables, index: pd.Index, first: pd.Period, n_months: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    records = tables.training_records
    rows = _employer_rows(records["employer_id"], index)
    months = _month_positions(records["delivered_on"], first, n_months)
    keep = (rows >= 0) & (months >= 0)
    pairs = np.unique(np.column_stack([months[keep], rows[keep]]), axis=0)
    return pairs[:, 1].astype(np.intp), pairs[:, 0].astype(np.intp)


def panel_months(
    tables: CanonicalTables, start: dt.date | None = None, end: dt.date | None = None
) -> pd.PeriodIndex:
    """Return the months from ``start`` to ``end``; default the months of the first and last injury.

    Raises
    ------
    InputDataError
        When the incident table is empty and no bounds are given, or ``end`` is before ``start``.
    """
    first = start or tables.data_start()
    last = end or tables.data_end()
    if first is None or last is None:
        raise InputDataError(
            "工伤事故表为空，无法确定分析期 / the incident table is empty, so the panel months are"
            " unknown; pass start and end"
        )
    if last < first:
        raise InputDataError(f"end {last} is before start {first}; pass end on or after start")
    return pd.period_range(pd.Period(first, "M"), pd.Period(last, "M"), freq="M")


def build_employer_months(
    tables: CanonicalTables, start: dt.date | None = None, end: dt.date | None = None
) -> EmployerMonths:
    """Build the employer-by-month panel of ``tables`` (see the module docstring).

    Parameters
    ----------
    tables : CanonicalTables
        The data, e.g. from :func:`risk.store.read.read_tables`.
    start, end : datetime.date, optional
        First and last day to cover, rounded out to whole months; default the
        months of the earliest and latest incident. Records outside are ignored.
    """
    months = panel_months(tables, start, end)
    index = pd.Index(tables.employers["employer_id"].astype(str))
    n_months = len(months)
    injuries = _injury_counts(tables, index, months[0], n_months)
    headcount = _headcount(tables, index, months)
    open_major = _open_major_share(tables, index, months)
    training_employer, training_month = _trainings(tables, index, months[0], n_months)
    logger.info(
        "employer-month panel: %d employers, %d months (%s to %s), %d injuries, %d training months",
        len(index),
        n_months,
        months[0],
        months[-1],
        int(injuries.sum()),
        training_month.size,
    )
    return EmployerMonths(
        employer_ids=index.to_numpy(dtype=str),
        months=months,
        injuries=injuries,
        headcount=headcount,
        open_major_share=open_major,
        training_employer=training_employer,
        training_month=training_month,
    )
