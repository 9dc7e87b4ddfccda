"""The oracle: scores from the true injury rates that the demo generator used.

On demo data the generator writes each employer's true expected number of
non-commuting injuries per month. Summed over an as-of date's outcome window,
that is the best possible expected count, so the oracle's metrics are the
ceiling that the backtest compares every model with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk.errors import InputDataError

ORACLE_COLUMN = "oracle_expected_injuries"
_TRUTH_COLUMNS = ("employer_id", "month", "expected_injuries")


def _month_periods(month: pd.Series) -> pd.PeriodIndex:
    if isinstance(month.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(month.astype("period[M]"))
    return pd.PeriodIndex(pd.to_datetime(month.astype(str)), freq="M")


def _window_weights(
    months: pd.PeriodIndex, as_of: dt.date, horizon_days: int
) -> npt.NDArray[np.float64]:
    """Return the share of each month's days inside the window (as_of, as_of + horizon_days]."""
    first_day = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    last_day = pd.Timestamp(as_of) + pd.Timedelta(days=horizon_days)
    month_start = months.start_time.normalize()
    month_end = months.end_time.normalize()
    overlap_start = np.maximum(month_start.to_numpy(), first_day.to_datetime64())
    overlap_end = np.minimum(month_end.to_numpy(), last_day.to_datetime64())
    overlap_days = (overlap_end - overlap_start) / np.timedelta64(1, "D") + 1
    return np.clip(overlap_days, 0, None) / months.days_in_month.to_numpy()


def oracle_expected_injuries(
    truth: pd.DataFrame, as_of_dates: Iterable[dt.date], horizon_days: int
) -> pd.DataFrame:
    """Sum each employer's true monthly expected injuries over each as-of date's outcome window.

    A month that straddles a window boundary counts in proportion to its days
    inside the window, as if injuries were spread evenly over the month.

    Parameters
    ----------
    truth : DataFrame
        ``employer_id``, ``month`` (a month period, or any date or text that
        pandas reads as a date in that month) and ``expected_injuries``.
    as_of_dates : iterable of datetime.date
        The as-of dates to score.
    horizon_days : int
        Length of the outcome window in days.

    Returns
    -------
    DataFrame
        ``employer_id``, ``as_of`` (datetime64) and ``oracle_expected_injuries``.
    """
    missing = [column for column in _TRUTH_COLUMNS if column not in truth.columns]
    if missing:
        raise InputDataError(
            f"真实发生率文件缺少列 / the truth table lacks columns {missing!r}; "
            f"expected {list(_TRUTH_COLUMNS)!r}, got {list(truth.columns)!r}"
        )

    months = _month_periods(truth["month"])
    matrix = (
        pd.DataFrame(
            {
                "employer_id": truth["employer_id"].astype(str).to_numpy(),
                "month": months,
                "expected_injuries": truth["expected_injuries"].astype(np.float64).to_numpy(),
            }
        )
        .pivot_table(
            index="employer_id", columns="month", values="expected_injuries", aggfunc="sum"
        )
        .fillna(0.0)
    )
    matrix_months = pd.PeriodIndex(matrix.columns, freq="M")
    frames = []
    for as_of in sorted(set(as_of_dates)):
        expected = matrix.to_numpy() @ _window_weights(matrix_months, as_of, horizon_days)
        frames.append(
            pd.DataFrame(
                {
                    "employer_id": matrix.index.to_numpy(),
                    "as_of": pd.Timestamp(as_of),
                    ORACLE_COLUMN: expected,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def oracle_scores(
    expected_injuries: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the oracle's P(at least one injury) and expected count.

    With Poisson injuries of mean ``m``, P(at least one) is ``1 - exp(-m)``.
    """
    expected = np.asarray(expected_injuries, dtype=np.float64)
    return -np.expm1(-expected), expected


def attach_oracle(panel: pd.DataFrame, truth: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Return ``panel`` with ``oracle_expected_injuries`` from the true monthly rates.

    Employers absent from ``truth`` get 0.
    """
    as_of_dates = pd.to_datetime(panel["as_of"]).dt.date.unique()
    oracle = oracle_expected_injuries(truth, as_of_dates, horizon_days)
    keys = panel[["employer_id", "as_of"]].assign(
        employer_id=panel["employer_id"].astype(str), as_of=pd.to_datetime(panel["as_of"])
    )
    oracle["as_of"] = oracle["as_of"].astype(keys["as_of"].dtype)
    merged = keys.merge(oracle, on=["employer_id", "as_of"], how="left")
    result = panel.copy()
    result[ORACLE_COLUMN] = merged[ORACLE_COLUMN].fillna(0.0).to_numpy()
    return result
