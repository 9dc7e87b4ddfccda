"""Hazard-finding features: open hazards, recent findings and time to rectify.

A finding is known from its inspection date. It is open as of ``as_of`` unless
it was rectified on or before ``as_of``. A rectification dated later is not yet
known on ``as_of``, so such a finding still counts as open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.features.catalog import OVERDUE_AFTER_DAYS, long_windows
from risk.features.prepare import FloatArray, PreparedTables
from risk.features.windows import AsOfWindows, sum_by_employer, window_slice


def _open_features(prepared: PreparedTables, as_of_day: int) -> dict[str, FloatArray]:
    findings = prepared.findings
    n = prepared.n_employers
    known = slice(0, int(np.searchsorted(findings.day, as_of_day, side="right")))
    is_open = findings.rectified_day[known] > as_of_day
    employer = findings.employer[known]
    major = findings.is_major[known]
    overdue = is_open & (findings.day[known] < as_of_day - OVERDUE_AFTER_DAYS)
    return {
        "open_general_hazard_count": sum_by_employer(employer[is_open & ~major], n),
        "open_major_hazard_count": sum_by_employer(employer[is_open & major], n),
        f"overdue_hazard_count_{OVERDUE_AFTER_DAYS}d": sum_by_employer(employer[overdue], n),
    }


def _days_to_rectify(prepared: PreparedTables, windows: AsOfWindows) -> dict[str, FloatArray]:
    """Mean and median days from inspection to rectification of findings rectified in the window."""
    findings = prepared.findings
    n = prepared.n_employers
    longest = max(windows.start)
    known = slice(0, int(np.searchsorted(findings.day, windows.day, side="right")))
    rectified = findings.rectified_day[known]
    in_window = (rectified > windows.start[longest]) & (rectified <= windows.day)
    employer = findings.employer[known][in_window]
    # A rectification dated before its inspection is a data error; count it as same-day.
    days = np.maximum(rectified[in_window] - findings.day[known][in_window], 0).astype(np.float64)

    count = sum_by_employer(employer, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum_by_employer(employer, n, days) / count
    median = np.full(n, np.nan)
    if len(employer):
        by_employer = pd.Series(days).groupby(employer).median()
        median[by_employer.index.to_numpy()] = by_employer.to_numpy()
    return {
        f"days_to_rectify_mean_{longest}m": np.where(count > 0, mean, np.nan),
        f"days_to_rectify_median_{longest}m": median,
    }


def hazard_features(prepared: PreparedTables, windows: AsOfWindows) -> dict[str, FloatArray]:
    """Return every feature of the hazards family as of ``windows.as_of``."""
    findings = prepared.findings
    n = prepared.n_employers
    features = _open_features(prepared, windows.day)
    for window in long_windows(tuple(windows.start)):
        span = window_slice(findings.day, windows.start[window], windows.day)
        employer = findings.employer[span]
        features[f"hazard_finding_count_{window}m"] = sum_by_employer(employer, n)
        features[f"major_hazard_finding_count_{window}m"] = sum_by_employer(
            employer[findings.is_major[span]], n
        )
    features.update(_days_to_rectify(prepared, windows))
    return features
