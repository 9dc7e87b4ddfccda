"""Point-in-time features of every employer as of a date.

The point-in-time rule. Features as of ``as_of`` read only what was known on
``as_of``:

* incidents with ``occurred_on`` <= ``as_of``;
* hazard findings with ``inspected_on`` <= ``as_of``, and a finding counts as
  rectified only when ``rectified_on`` <= ``as_of`` (a later rectification
  leaves it open as of ``as_of``);
* training records with ``delivered_on`` <= ``as_of``;
* insured headcounts of years before ``as_of``'s year, because a year's
  headcount is reported only after the year closes.

A window of ``w`` months is (``as_of`` - ``w`` months, ``as_of``]: an incident
on ``as_of`` counts, one exactly ``w`` calendar months earlier does not.
:meth:`risk.tables.CanonicalTables.until` applies the same rule to the tables,
and the tests check that features built from ``tables`` and from
``tables.until(as_of)`` are equal.

Every employer in the employer table gets a row, including employers without a
headcount; their rates are NaN. Numeric features are float64; the categorical
ones use the fixed categories of :func:`risk.features.catalog.category_levels`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from risk.features.catalog import (
    DEFAULT_WINDOWS_MONTHS,
    category_levels,
    check_windows,
    feature_specs,
    long_windows,
)
from risk.features.exposure import exposure_features
from risk.features.hazards import hazard_features
from risk.features.incidents import incident_features
from risk.features.peers import peer_features
from risk.features.prepare import PreparedTables, prepare_tables
from risk.features.profile import profile_features
from risk.features.training import training_features
from risk.features.windows import as_of_windows
from risk.tables import DATE_DTYPE, CanonicalTables

logger = logging.getLogger(__name__)


def check_as_of(as_of: object) -> dt.date:
    """Return ``as_of`` as a ``datetime.date``, or raise TypeError for anything else.

    A ``pandas.Timestamp`` or ``datetime.datetime`` at midnight is accepted;
    a time of day is rejected because features are built per day.
    """
    if isinstance(as_of, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(as_of)
        if stamp != stamp.normalize():
            raise TypeError(f"as_of must be a date without a time of day, got {as_of!r}")
        day: dt.date = stamp.date()
        return day
    if isinstance(as_of, dt.date):
        return as_of
    raise TypeError(f"as_of must be a datetime.date, got {as_of!r} ({type(as_of).__name__})")


def as_of_column(as_of: dt.date, n_rows: int) -> pd.Series:
    """Return a column of ``n_rows`` copies of ``as_of`` with the table date dtype."""
    return pd.Series(np.full(n_rows, np.datetime64(as_of, "D")), dtype=DATE_DTYPE)


def feature_arrays(
    prepared: PreparedTables,
    as_of: dt.date,
    windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS,
) -> dict[str, Any]:
    """Compute every feature as of ``as_of``: float arrays, and Categoricals for the codes."""
    as_of = check_as_of(as_of)
    windows = as_of_windows(as_of, check_windows(windows_months))

    features: dict[str, Any] = dict(profile_features(prepared))
    exposure = exposure_features(prepared, as_of)
    headcount = exposure["insured_headcount"]
    features.update(exposure)
    features.update(incident_features(prepared, windows, headcount))
    features.update(hazard_features(prepared, windows))
    features.update(training_features(prepared, windows, headcount))
    counts = {
        window: features[f"incident_count_{window}m"] for window in long_windows(windows_months)
    }
    features.update(peer_features(prepared, windows, headcount, counts))
    return features


class FeatureFrameBuilder:
    """Collect feature arrays of one or more ``as_of`` dates into one frame.

    Numeric features go into one preallocated float64 block that becomes the
    frame's storage without a copy. Building a frame from a dict of columns, or
    concatenating per-date frames, would copy every value once more.
    """

    def __init__(self, windows_months: tuple[int, ...], n_rows: int) -> None:
        specs = feature_specs(check_windows(windows_months))
        self.names = [spec.name for spec in specs]
        self.categorical = [spec.name for spec in specs if spec.kind == "categorical"]
        self.numeric = [spec.name for spec in specs if spec.kind != "categorical"]
        self.block = np.empty((n_rows, len(self.numeric)), order="F")
        self.codes = {name: np.empty(n_rows, dtype=np.int64) for name in self.categorical}

    def put(self, rows: slice, features: dict[str, Any]) -> None:
        """Write the features of one ``as_of`` into ``rows``."""
        if set(features) != set(self.names):
            # A catalogue entry without a builder, or the reverse, is a programming error.
            raise RuntimeError(
                "feature builders and catalogue differ:"
                f" {sorted(set(features) ^ set(self.names))[:5]!r}"
            )
        for column, name in enumerate(self.numeric):
            self.block[rows, column] = features[name]
        for name in self.categorical:
            self.codes[name][rows] = features[name].codes

    def frame(self, employer_ids: pd.Series, as_of: pd.Series) -> pd.DataFrame:
        """Return the frame: ``employer_id``, ``as_of``, then the features in catalogue order."""
        frame = pd.DataFrame(self.block, columns=self.numeric, copy=False)
        levels = category_levels()
        for name in self.categorical:
            values = pd.Categorical.from_codes(self.codes[name], categories=levels[name])
            frame.insert(self.names.index(name), name, values)
        frame.insert(0, "employer_id", employer_ids.array)
        frame.insert(1, "as_of", as_of.array)
        return frame


def build_features_prepared(
    prepared: PreparedTables,
    as_of: dt.date,
    windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS,
) -> pd.DataFrame:
    """Build the feature frame as of ``as_of`` from the output of ``prepare_tables``.

    Use this with one :class:`PreparedTables` for many dates; it returns the same
    frame as :func:`build_features` on the original tables.
    """
    as_of = check_as_of(as_of)
    n = prepared.n_employers
    builder = FeatureFrameBuilder(windows_months, n)
    builder.put(slice(0, n), feature_arrays(prepared, as_of, windows_months))
    return builder.frame(pd.Series(prepared.employer_ids, dtype="str"), as_of_column(as_of, n))


def build_features(
    tables: CanonicalTables,
    as_of: dt.date,
    windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS,
) -> pd.DataFrame:
    """Build point-in-time features of every employer as of ``as_of``.

    Parameters
    ----------
    tables : CanonicalTables
        The data set; records dated after ``as_of`` may be present and are ignored.
    as_of : datetime.date
        The date the features describe (see the module docstring for the rule).
    windows_months : tuple of int, default=(3, 12, 36)
        Look-back windows in months.

    Returns
    -------
    DataFrame
        One row per employer of ``tables.employers``, in its order: ``employer_id``,
        ``as_of``, then the features named by :func:`risk.features.feature_catalog`.

    Raises
    ------
    InputDataError
        When a frame lacks a column, an ``employer_id`` repeats, or an incident
        has a severity or accident type outside the code lists.
    """
    started = time.perf_counter()
    frame = build_features_prepared(prepare_tables(tables), as_of, windows_months)
    logger.info(
        "Built %d features for %d employers as of %s in %.2f s",
        frame.shape[1] - 2,
        len(frame),
        as_of,
        time.perf_counter() - started,
    )
    return frame
