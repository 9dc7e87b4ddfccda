"""Population stability index: known values, binning of ties, missing values, scorings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from risk.evaluation.drift import (
    DriftReport,
    feature_drift,
    population_stability_index,
    psi_from_counts,
    psi_level,
    quantile_edges,
)


def test_psi_from_counts_matches_hand_computation() -> None:
    """PSI of two three-bin distributions equals the textbook sum."""
    reference = [50, 30, 20]
    current = [40, 30, 30]

    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.3 - 0.2) * math.log(0.3 / 0.2)

    assert psi_from_counts(reference, current) == pytest.approx(expected)


def test_psi_identical_samples_is_zero() -> None:
    """The same values on both sides give a PSI of 0."""
    values = np.random.default_rng(1).normal(size=2_000)

    assert population_stability_index(values, values) == pytest.approx(0.0)


def test_psi_grows_with_shift() -> None:
    """A larger shift of the mean gives a larger PSI, and a full SD shift is a major shift."""
    rng = np.random.default_rng(2)
    reference = rng.normal(size=20_000)

    small = population_stability_index(reference, rng.normal(0.1, 1.0, 20_000))
    large = population_stability_index(reference, rng.normal(1.0, 1.0, 20_000))

    assert small < 0.1
    assert large > 0.25
    assert psi_level(small) == "stable"
    assert psi_level(large) == "major"


def test_quantile_edges_collapse_ties() -> None:
    """A count that is mostly zero keeps one edge at zero instead of nine equal ones."""
    values = np.r_[np.zeros(900), np.arange(1, 101)]

    edges = quantile_edges(values, bins=10)

    assert edges[0] == 0.0
    assert len(edges) == len(np.unique(edges))
    assert len(edges) < 9


def test_psi_counts_missing_values_as_a_bin() -> None:
    """A feature that starts arriving empty drifts even when its other values do not move."""
    reference = pd.Series(np.arange(1_000, dtype=float))
    current = reference.copy()
    current[:300] = np.nan

    assert population_stability_index(reference, current) > 0.25


def test_psi_categorical_new_category() -> None:
    """A category absent from the reference gives a finite, positive PSI."""
    reference = pd.Series(["330102"] * 500 + ["330106"] * 500)
    current = pd.Series(["330102"] * 400 + ["330106"] * 400 + ["330109"] * 200)

    psi = population_stability_index(reference, current, categorical=True)

    assert math.isfinite(psi)
    assert psi > 0.25


def test_psi_rejects_empty_population() -> None:
    """An empty side has no distribution to compare."""
    with pytest.raises(ValueError, match="non-empty"):
        psi_from_counts([0, 0], [1, 2])


def test_feature_drift_sorts_largest_first() -> None:
    """The moved feature comes first, with means and level filled in."""
    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {
            "stable": rng.normal(size=5_000),
            "moved": rng.normal(size=5_000),
            "district_code": rng.choice(["330102", "330106"], 5_000),
        }
    )
    current = pd.DataFrame(
        {
            "stable": rng.normal(size=5_000),
            "moved": rng.normal(2.0, 1.0, 5_000),
            "district_code": rng.choice(["330102", "330106"], 5_000),
        }
    )

    table = feature_drift(reference, current)

    assert table["feature"].iloc[0] == "moved"
    assert table.set_index("feature").loc["district_code", "kind"] == "categorical"
    assert table.set_index("feature").loc["moved", "current_mean"] == pytest.approx(2.0, abs=0.1)
    assert list(table["psi"]) == sorted(table["psi"], reverse=True)


def test_feature_drift_missing_column() -> None:
    """A requested feature absent from one frame is named in the error."""
    frame = pd.DataFrame({"a": [1.0, 2.0]})

    with pytest.raises(KeyError, match="'b'"):
        feature_drift(frame, frame, features=["a", "b"])


def test_drift_report_top() -> None:
    """DriftReport.top returns the first rows and score_level reads the score PSI."""
    import datetime as dt

    table = pd.DataFrame({"feature": ["x", "y", "z"], "psi": [0.3, 0.2, 0.01]})
    report = DriftReport(dt.date(2024, 12, 31), dt.date(2025, 12, 31), 0.12, table)

    assert list(report.top(2)["feature"]) == ["x", "y"]
    assert report.score_level == "moderate"


def _score_frame(as_of: str, shift: float, seed: int) -> object:
    import datetime as dt

    from risk.explain import MarginExplanation
    from risk.scoring import BandThresholds, ScoreFrame

    rng = np.random.default_rng(seed)
    n = 3_000
    values = np.column_stack(
        [
            rng.normal(shift, 1.0, n),
            rng.normal(size=n),
            rng.choice([0.0, 1.0, np.nan], n, p=[0.5, 0.4, 0.1]),
        ]
    ).astype(np.float32)
    scores = pd.DataFrame({"risk_score": 1 / (1 + np.exp(-(values[:, 0] - 3.0)))})
    explanation = MarginExplanation(np.zeros_like(values), 0.0, np.zeros(n))
    return ScoreFrame(
        as_of=dt.date.fromisoformat(as_of),
        horizon_days=365,
        scores=scores,
        explanation=explanation,
        feature_values=values,
        feature_names=("moved", "stable", "district_code"),
        feature_meta={"categories": {"district_code": ["330102", "330106"]}},
        peer_means={},
        band_thresholds=BandThresholds(),
    )


def test_scoring_drift_between_score_frames() -> None:
    """Two scorings: the shifted feature and the score drift, category codes map back to labels."""
    from risk.evaluation.drift import score_frame_features, scoring_drift

    reference = _score_frame("2024-12-31", 0.0, 4)
    current = _score_frame("2025-12-31", 1.0, 5)

    report = scoring_drift(reference, current)  # type: ignore[arg-type]
    features = score_frame_features(reference)  # type: ignore[arg-type]

    assert report.top(1)["feature"].iloc[0] == "moved"
    assert report.score_psi > 0.25
    assert set(features["district_code"].dropna()) == {"330102", "330106"}
    assert features["district_code"].isna().any()
