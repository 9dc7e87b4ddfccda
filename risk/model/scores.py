"""Scores of one model on test rows, and their metrics overall and by slice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk.model.metrics import score_metrics
from risk.size_bands import SIZE_BAND_CODES, assign_size_bands

SLICE_COLUMNS: dict[str, str] = {
    "size_band": "insured_headcount",
    "district": "district_code",
    "industry_section": "industry_section",
}


@dataclass(frozen=True)
class ModelScores:
    """Scores of one model for the test rows."""

    risk_score: npt.NDArray[np.float64]
    ranking_score: npt.NDArray[np.float64]
    expected_injuries: npt.NDArray[np.float64] | None = None
    calibration_method: str | None = None


def size_band(headcount: pd.Series) -> pd.Series:
    """Return the size band code of each insured headcount (``"unknown"`` where missing).

    The bands are those of :mod:`risk.size_bands`, which the ranking filters use too.
    """
    values = pd.to_numeric(headcount, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.Series(assign_size_bands(values), index=headcount.index, dtype="object")


def _slice_labels(test: pd.DataFrame) -> dict[str, pd.Series]:
    labels = {}
    for slice_name, column in SLICE_COLUMNS.items():
        if column not in test.columns:
            continue
        if slice_name == "size_band":
            labels[slice_name] = size_band(test[column])
        else:
            labels[slice_name] = test[column].astype("object").fillna("unknown").astype(str)
    return labels


def _metrics(
    scores: ModelScores, test: pd.DataFrame, rows: npt.NDArray[np.bool_]
) -> dict[str, float | None]:
    expected = None if scores.expected_injuries is None else scores.expected_injuries[rows]
    return score_metrics(
        test["injury_any"].to_numpy()[rows],
        test["injury_count"].to_numpy()[rows],
        scores.risk_score[rows],
        expected_injuries=expected,
        ranking_score=scores.ranking_score[rows],
        # Capture counts injuries, so models with an expected count rank by it.
        capture_score=expected if expected is not None else scores.ranking_score[rows],
    )


def _ordered(slice_name: str, labels: pd.Series) -> list[str]:
    present = set(labels.unique())
    if slice_name == "size_band":
        # Size bands read best from small to large, with "unknown" last.
        return [band for band in SIZE_BAND_CODES if band in present] + sorted(
            present - set(SIZE_BAND_CODES)
        )
    return sorted(present)


def evaluate_scores(scores: ModelScores, test: pd.DataFrame) -> dict[str, object]:
    """Return the metrics of ``scores`` on the test rows, ``calibration_method`` and ``slices``."""
    all_rows = np.ones(len(test), dtype=bool)
    entry: dict[str, object] = dict(_metrics(scores, test, all_rows))
    entry["calibration_method"] = scores.calibration_method
    slices: dict[str, dict[str, dict[str, float | None]]] = {}
    for slice_name, labels in _slice_labels(test).items():
        slices[slice_name] = {
            label: _metrics(scores, test, (labels == label).to_numpy())
            for label in _ordered(slice_name, labels)
        }
    entry["slices"] = slices
    return entry
