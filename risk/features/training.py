"""Training features: sessions and attendees received, and time since the last session."""

from __future__ import annotations

import numpy as np

from risk.features.catalog import MONTHS_SINCE_CAP, long_windows
from risk.features.prepare import FloatArray, PreparedTables
from risk.features.windows import (
    NO_EVENT,
    AsOfWindows,
    annual_rate_per_100,
    months_between,
    sum_by_employer,
    window_slice,
)


def training_features(
    prepared: PreparedTables, windows: AsOfWindows, headcount: FloatArray
) -> dict[str, FloatArray]:
    """Return every feature of the training family as of ``windows.as_of``."""
    trainings = prepared.trainings
    n = prepared.n_employers
    features: dict[str, FloatArray] = {}
    for window in long_windows(tuple(windows.start)):
        span = window_slice(trainings.day, windows.start[window], windows.day)
        employer = trainings.employer[span]
        features[f"training_count_{window}m"] = sum_by_employer(employer, n)
        attendees = sum_by_employer(employer, n, trainings.attendees[span])
        features[f"training_attendees_per_100_{window}m"] = annual_rate_per_100(
            attendees, headcount, window
        )

    known = slice(0, int(np.searchsorted(trainings.day, windows.day, side="right")))
    last = np.full(n, NO_EVENT, dtype=np.int64)
    np.maximum.at(last, trainings.employer[known], trainings.day[known])
    features["months_since_last_training"] = months_between(last, windows.day, MONTHS_SINCE_CAP)
    return features
