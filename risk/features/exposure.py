"""Exposure features: the insured headcount and its growth.

The headcount of a year is reported after the year closes, so as of a date in
year Y only years before Y are known. The features use the latest reported year
before Y. An employer without such a year gets NaN, and so do its rates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from risk.features.prepare import FloatArray, PreparedTables


def latest_headcounts(prepared: PreparedTables, as_of: dt.date) -> tuple[FloatArray, FloatArray]:
    """Return each employer's latest known headcount and the one of the year before it.

    Both are NaN where not reported. "Known" means a year before ``as_of``'s year.
    """
    known_years = max(0, min(as_of.year - prepared.first_year, prepared.headcount.shape[1]))
    matrix = prepared.headcount[:, :known_years]
    n = prepared.n_employers
    latest = np.full(n, np.nan)
    previous = np.full(n, np.nan)
    if known_years == 0:
        return latest, previous

    reported = ~np.isnan(matrix)
    has_any = reported.any(axis=1)
    # Column of the last reported year: argmax finds the first True of the reversed row.
    last_column = known_years - 1 - np.argmax(reported[:, ::-1], axis=1)
    rows = np.flatnonzero(has_any)
    latest[rows] = matrix[rows, last_column[rows]]

    with_previous = rows[last_column[rows] >= 1]
    previous[with_previous] = matrix[with_previous, last_column[with_previous] - 1]
    return latest, previous


def exposure_features(prepared: PreparedTables, as_of: dt.date) -> dict[str, FloatArray]:
    """Return ``insured_headcount`` and ``insured_headcount_log_growth_1y`` as of ``as_of``."""
    # TODO: every rate divides by the headcount. ``hours_worked``, reported by US sources,
    # is not read, so rates for public US data are per worker, not per 200,000 hours.
    latest, previous = latest_headcounts(prepared, as_of)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.log(latest / previous)
    # A year with zero insured workers has no defined growth.
    growth = np.where((latest > 0) & (previous > 0), growth, np.nan)
    return {"insured_headcount": latest, "insured_headcount_log_growth_1y": growth}
