"""Panels for model fitting: features and labels of every employer, stacked over ``as_of`` dates."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from risk.features.build import FeatureFrameBuilder, check_as_of, feature_arrays
from risk.features.catalog import DEFAULT_WINDOWS_MONTHS
from risk.features.prepare import prepare_tables
from risk.labels import DEFAULT_HORIZON_DAYS, labels_from_prepared, warn_if_incomplete
from risk.tables import DATE_DTYPE, CanonicalTables

logger = logging.getLogger(__name__)

LABEL_COLUMNS = ("injury_any", "injury_count")


def build_panel(
    tables: CanonicalTables,
    as_of_dates: Iterable[dt.date],
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS,
) -> pd.DataFrame:
    """Stack features and labels of every employer over ``as_of_dates``.

    The tables are recoded once and reused for every date, so a panel costs one
    ``prepare_tables`` plus one cheap pass per date, and every date writes into
    one preallocated block instead of a frame of its own.

    Returns
    -------
    DataFrame
        Columns ``employer_id``, ``as_of``, the features, ``injury_any``,
        ``injury_count`` and ``exposure`` (the insured headcount used for rates,
        NaN when unknown). Rows are ordered by ``as_of``, then employer.

    Warns
    -----
    UserWarning
        For each date whose outcome window ends after the latest incident date.
    """
    dates = sorted({check_as_of(as_of) for as_of in as_of_dates})
    if not dates:
        raise ValueError("as_of_dates is empty; pass at least one date, e.g. from as_of_grid()")

    started = time.perf_counter()
    prepared = prepare_tables(tables)
    data_end = tables.data_end()
    n = prepared.n_employers
    builder = FeatureFrameBuilder(windows_months, n * len(dates))
    labels = {column: np.empty(n * len(dates), dtype=np.int64) for column in LABEL_COLUMNS}
    for position, as_of in enumerate(dates):
        warn_if_incomplete(as_of, horizon_days, data_end)
        rows = slice(position * n, (position + 1) * n)
        builder.put(rows, feature_arrays(prepared, as_of, windows_months))
        outcome = labels_from_prepared(prepared, as_of, horizon_days)
        for column in LABEL_COLUMNS:
            labels[column][rows] = outcome[column].to_numpy()

    employer_ids = pd.Series(np.tile(prepared.employer_ids.to_numpy(), len(dates)), dtype="str")
    as_of_values = pd.Series(np.repeat(np.array(dates, dtype="datetime64[D]"), n), dtype=DATE_DTYPE)
    panel = builder.frame(employer_ids, as_of_values)
    for column in LABEL_COLUMNS:
        panel[column] = labels[column]
    panel["exposure"] = panel["insured_headcount"]
    logger.info(
        "Built a panel of %d rows over %d as_of dates (%s to %s) in %.1f s",
        len(panel),
        len(dates),
        dates[0],
        dates[-1],
        time.perf_counter() - started,
    )
    return panel
