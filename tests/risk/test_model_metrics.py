"""Metric functions checked against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from risk.model.metrics import (
    calibration_intercept,
    calibration_slope,
    capture_top_fraction,
    capture_top_k,
    expected_calibration_error,
    poisson_deviance,
    pr_auc,
    ratios_to_oracle,
    roc_auc,
    score_metrics,
)


def test_capture_top_k_counts_injuries_of_top_employers() -> None:
    """The top 2 of 5 employers hold 5 of the 10 injuries."""
    counts = [0, 3, 2, 1, 4]
    score = [0.1, 0.9, 0.8, 0.2, 0.05]

    assert capture_top_k(counts, score, 2) == pytest.approx(0.5)
    assert capture_top_k(counts, score, 5) == pytest.approx(1.0)


def test_capture_top_k_splits_ties_in_expectation() -> None:
    """Three employers tie for places 2-4 and two places remain, so 2/3 of their injuries count."""
    counts = [4, 3, 0, 0, 1]
    score = [0.9, 0.5, 0.5, 0.5, 0.1]

    # Employer 0 adds 4. The tied group has 3 injuries and gets 2 of its 3 places.
    assert capture_top_k(counts, score, 3) == pytest.approx((4 + 3 * 2 / 3) / 8)


def test_capture_top_fraction_rounds_places_up() -> None:
    """10 % of 15 employers is 1.5, so the top 2 employers count."""
    counts = np.zeros(15)
    counts[:3] = 1
    score = np.arange(15, 0, -1, dtype=float)

    assert capture_top_fraction(counts, score, 0.10) == pytest.approx(2 / 3)


def test_capture_without_injuries_is_none() -> None:
    """No injuries means there is nothing to capture."""
    assert capture_top_k([0, 0, 0], [0.3, 0.2, 0.1], 1) is None


def test_ece_equal_frequency_bins_by_hand() -> None:
    """Two bins of two rows: |0.5 - 0.15| and |0.5 - 0.85| weigh equally."""
    outcome = [0, 1, 0, 1]
    score = [0.1, 0.2, 0.8, 0.9]

    assert expected_calibration_error(outcome, score, n_bins=2) == pytest.approx(0.35)


def test_ece_perfectly_calibrated_bins_is_zero() -> None:
    """Each bin's mean score equals its share of positives."""
    outcome = [0, 0, 0, 1, 0, 1, 1, 1]
    score = [0.25] * 4 + [0.75] * 4

    assert expected_calibration_error(outcome, score, n_bins=2) == pytest.approx(0.0)


def test_calibration_slope_known_answer() -> None:
    """Scores 0.5 (half positive) and 0.75 (90 % positive) give slope log(9)/log(3) = 2."""
    outcome = [1] * 5 + [0] * 5 + [1] * 9 + [0] * 1
    score = [0.5] * 10 + [0.75] * 10

    assert calibration_slope(outcome, score) == pytest.approx(2.0, abs=1e-8)


def test_calibration_intercept_known_answer() -> None:
    """All scores 0.5 with 75 % positives: the intercept is logit(0.75) = log 3."""
    outcome = [1, 1, 1, 0] * 5
    score = [0.5] * 20

    assert calibration_intercept(outcome, score) == pytest.approx(math.log(3), abs=1e-8)
    # A constant score has no slope to estimate.
    assert calibration_slope(outcome, score) is None


def test_calibration_of_calibrated_scores() -> None:
    """Group frequencies equal to the scores give slope 1 and intercept 0."""
    outcome = [1] * 2 + [0] * 8 + [1] * 5 + [0] * 5 + [1] * 8 + [0] * 2
    score = [0.2] * 10 + [0.5] * 10 + [0.8] * 10

    assert calibration_slope(outcome, score) == pytest.approx(1.0, abs=1e-8)
    assert calibration_intercept(outcome, score) == pytest.approx(0.0, abs=1e-8)


def test_ranking_metrics_one_class_is_none() -> None:
    """ROC-AUC and PR-AUC are undefined without both outcomes."""
    assert roc_auc([0, 0, 0], [0.1, 0.2, 0.3]) is None
    assert pr_auc([1, 1], [0.1, 0.2]) is None


def test_poisson_deviance_by_hand() -> None:
    """Deviance of y=(0, 2) against mu=(1, 1): 2*(0 + 1) and 2*(2 log 2 - 1), averaged."""
    expected = (2.0 + 2.0 * (2 * math.log(2) - 1)) / 2

    assert poisson_deviance([0, 2], [1.0, 1.0]) == pytest.approx(expected)


def test_score_metrics_ranks_capture_by_capture_score() -> None:
    """Capture follows ``capture_score`` while ROC-AUC follows ``ranking_score``."""
    outcome = [1, 0, 1, 0]
    counts = [5, 0, 1, 0]
    risk = [0.2, 0.3, 0.9, 0.1]

    metrics = score_metrics(outcome, counts, risk, capture_score=[9.0, 0.0, 1.0, 0.0])

    assert metrics["capture_top_1pct"] == pytest.approx(5 / 6)
    assert metrics["roc_auc"] == pytest.approx(0.75)
    assert metrics["poisson_deviance"] is None


def test_ratios_to_oracle_divides_and_skips_missing() -> None:
    """Each higher-is-better metric becomes a ratio; a missing oracle value gives None."""
    ratios = ratios_to_oracle({"pr_auc": 0.3, "roc_auc": 0.7}, {"pr_auc": 0.6, "roc_auc": None})

    assert ratios["pr_auc_vs_oracle"] == pytest.approx(0.5)
    assert ratios["roc_auc_vs_oracle"] is None
