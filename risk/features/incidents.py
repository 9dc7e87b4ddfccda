"""Injury features: counts and rates by window, severity, accident-type group and commuting.

Commuting injuries (上下班途中) are recognised work injuries but indicate little
about hazards at the workplace, so every feature here except the ``commuting_*`` ones
counts non-commuting injuries only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from risk import codelists
from risk.features.catalog import MONTHS_SINCE_CAP, SEVERITY_SLICES, long_windows
from risk.features.prepare import BoolArray, FloatArray, IncidentArrays, PreparedTables
from risk.features.windows import (
    NO_EVENT,
    AsOfWindows,
    annual_rate_per_100,
    months_between,
    sum_by_employer,
    window_slice,
)


def _counts_by_code(employer: np.ndarray, code: np.ndarray, n_codes: int, n: int) -> FloatArray:
    """Return an employers x codes matrix of counts, from one bincount over a combined key."""
    key = employer * n_codes + code
    return np.bincount(key, minlength=n * n_codes).reshape(n, n_codes).astype(np.float64)


def _add_count_and_rate(
    features: dict[str, FloatArray], prefix: str, count: FloatArray, window: _Window
) -> None:
    features[f"{prefix}_count_{window.months}m"] = count
    features[f"{prefix}_rate_per_100_{window.months}m"] = annual_rate_per_100(
        count, window.headcount, window.months
    )


@dataclass(frozen=True)
class _Window:
    """The incidents of one window: ``span`` of the sorted arrays, and which are not commuting."""

    incidents: IncidentArrays
    span: slice
    months: int
    headcount: FloatArray

    @cached_property
    def workplace(self) -> BoolArray:
        """Mask of the non-commuting incidents in ``span``, computed once per window."""
        return ~self.incidents.is_commuting[self.span]

    def workplace_values(self, values: np.ndarray) -> np.ndarray:
        """Return ``values`` of the non-commuting incidents of the window."""
        return values[self.span][self.workplace]


def _severity_features(window: _Window) -> dict[str, FloatArray]:
    n = len(window.headcount)
    codes = codelists.severities()["code"].tolist()
    employer = window.workplace_values(window.incidents.employer)
    by_severity = _counts_by_code(
        employer, window.workplace_values(window.incidents.severity), len(codes), n
    )
    counts = {code: by_severity[:, column] for column, code in enumerate(codes)}
    counts["serious_fatal"] = counts["serious"] + counts["fatal"]

    features: dict[str, FloatArray] = {}
    _add_count_and_rate(features, "incident", by_severity.sum(axis=1), window)
    for severity in SEVERITY_SLICES:
        _add_count_and_rate(features, f"{severity}_incident", counts[severity], window)
    return features


def _group_features(window: _Window) -> dict[str, FloatArray]:
    n = len(window.headcount)
    groups = codelists.accident_type_groups()["group"].tolist()
    employer = window.workplace_values(window.incidents.employer)
    by_group = _counts_by_code(
        employer, window.workplace_values(window.incidents.group), len(groups), n
    )
    features: dict[str, FloatArray] = {}
    for column, group in enumerate(groups):
        _add_count_and_rate(features, f"{group}_incident", by_group[:, column], window)

    commuting = window.incidents.employer[window.span][~window.workplace]
    _add_count_and_rate(features, "commuting_incident", sum_by_employer(commuting, n), window)
    return features


def _long_window_features(window: _Window) -> dict[str, FloatArray]:
    n = len(window.headcount)
    incidents = window.incidents
    employer = window.workplace_values(incidents.employer)
    lost = sum_by_employer(employer, n, window.workplace_values(incidents.lost_workdays))
    disabled = window.workplace_values(incidents.has_disability)
    return {
        f"lost_workdays_{window.months}m": lost,
        f"lost_workdays_per_100_{window.months}m": annual_rate_per_100(
            lost, window.headcount, window.months
        ),
        f"severity_weighted_incident_count_{window.months}m": sum_by_employer(
            employer, n, window.workplace_values(incidents.weight)
        ),
        f"disability_incident_count_{window.months}m": sum_by_employer(employer[disabled], n),
    }


def last_incident_day(incidents: IncidentArrays, as_of_day: int, n: int) -> np.ndarray:
    """Return the day of each employer's latest non-commuting injury up to ``as_of_day``."""
    known = slice(0, int(np.searchsorted(incidents.day, as_of_day, side="right")))
    workplace = ~incidents.is_commuting[known]
    last = np.full(n, NO_EVENT, dtype=np.int64)
    np.maximum.at(last, incidents.employer[known][workplace], incidents.day[known][workplace])
    return last


def incident_features(
    prepared: PreparedTables, windows: AsOfWindows, headcount: FloatArray
) -> dict[str, FloatArray]:
    """Return every feature of the incidents, severity, accident_type and commuting families."""
    incidents = prepared.incidents
    long = set(long_windows(tuple(windows.start)))
    features: dict[str, FloatArray] = {}
    for months, start in windows.start.items():
        window = _Window(
            incidents, window_slice(incidents.day, start, windows.day), months, headcount
        )
        features.update(_severity_features(window))
        features.update(_group_features(window))
        if months in long:
            features.update(_long_window_features(window))

    last = last_incident_day(incidents, windows.day, prepared.n_employers)
    features["months_since_last_incident"] = months_between(last, windows.day, MONTHS_SINCE_CAP)
    return features
