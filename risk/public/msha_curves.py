"""Curve and calibration points of the backtest's test rows, stored in the report for its figures.

The report contains points, not rows, so that ``injury-risk public report``
draws the figures from the JSON alone and the JSON stays small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.public.msha_backtest import BASELINES, MODEL, RAW_RATE_MODEL
from risk.public.msha_features import RATE_HOURS
from risk.public.msha_model import RATE_POPULATION_HOURS

SHARES = np.round(np.linspace(0.0, 1.0, 101), 2)
CALIBRATION_BINS = 10


def _capture_curve(values: np.ndarray, score: np.ndarray) -> np.ndarray:
    # Cumulative share of ``values`` at the highest-scored share of rows, read at SHARES.
    order = np.argsort(-score, kind="stable")
    total = values.sum()
    captured = (
        np.concatenate([[0.0], np.cumsum(values[order]) / total])
        if total > 0
        else np.zeros(values.size + 1)
    )
    positions = np.linspace(0.0, 1.0, values.size + 1)
    return np.interp(SHARES, positions, captured)


def capture_curves(test: pd.DataFrame) -> dict[str, dict[str, list[float]]]:
    """Return capture curves averaged over the test years, on both scales, per model.

    ``count``: share of the test year's injuries at the top share of mines.
    ``rate``: share of the top-quarter-rate mines (at least 20,000 hours)
    found in the top share of those mines.
    """
    rate_scores = {MODEL: f"{MODEL}_rate_rank", RAW_RATE_MODEL: RAW_RATE_MODEL}
    curves: dict[str, dict[str, list[float]]] = {
        "shares": {"x": SHARES.tolist()},
        "count": {},
        "rate": {},
    }
    for name in (MODEL, RAW_RATE_MODEL, *BASELINES):
        count_points, rate_points = [], []
        for _, fold in test.groupby("test_year"):
            count_points.append(
                _capture_curve(fold["injuries_next_4q"].to_numpy(float), fold[name].to_numpy(float))
            )
            rated = fold[fold["hours_next_4q"] >= RATE_POPULATION_HOURS]
            rate = rated["injuries_next_4q"].to_numpy(float) / rated["hours_next_4q"].to_numpy(
                float
            )
            top = (rate >= np.quantile(rate, 0.75)).astype(float) if rate.size else rate
            score = rated[rate_scores.get(name, name)].to_numpy(float)
            if rate.size:
                rate_points.append(_capture_curve(top, score))
        curves["count"][name] = np.mean(count_points, axis=0).round(4).tolist()
        if rate_points:
            curves["rate"][name] = np.mean(rate_points, axis=0).round(4).tolist()
    return curves


def calibration_points(test: pd.DataFrame) -> dict[str, list[float]]:
    """Return mean predicted and observed injuries per mine in ten equal-size prediction bins.

    ``expected`` uses last year's hours as exposure (what the model knows);
    ``rate_times_next_hours`` multiplies the predicted rate by the hours the
    mine then worked, which separates the rate from the change in hours.
    """
    expected = test[MODEL].to_numpy(float)
    rate_based = (
        test[RAW_RATE_MODEL].to_numpy(float) / RATE_HOURS * test["hours_next_4q"].to_numpy(float)
    )
    observed = test["injuries_next_4q"].to_numpy(float)
    bins = np.array_split(np.argsort(expected, kind="stable"), CALIBRATION_BINS)
    return {
        "expected": [float(expected[rows].mean()) for rows in bins],
        "rate_times_next_hours": [float(rate_based[rows].mean()) for rows in bins],
        "observed": [float(observed[rows].mean()) for rows in bins],
        "mines": [int(rows.size) for rows in bins],
    }
