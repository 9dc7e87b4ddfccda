"""Training effect: the employer-month panel, event times and the demo's true effect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from factories import EMPLOYER_A, EMPLOYER_B, make_tables

from risk.demo import DemoParameters, generate_demo_data, generate_demo_tables
from risk.errors import ModelError
from risk.evaluation.effect import TrainingEffect, estimate_training_effect, read_true_effect
from risk.evaluation.employer_months import build_employer_months
from risk.evaluation.event_time import EventWindow, bin_label, event_times
from risk.tables import CanonicalTables

# 3,000 employers over 2021-2025 give about 300 trainings: enough for an
# interval of roughly +-20 % around the estimate in a few seconds.
SMALL = {"employers": 3_000, "years": 5, "end_year": 2025}


def test_employer_months_counts_workplace_injuries_only() -> None:
    """Commuting injuries stay out; injuries land in their calendar month."""
    tables = make_tables(
        incidents=[
            {"occurred_on": "2023-03-02"},
            {"occurred_on": "2023-03-30"},
            {"occurred_on": "2023-04-01", "is_commuting": True},
            {"occurred_on": "2023-05-10", "employer_id": EMPLOYER_B},
        ]
    )

    panel = build_employer_months(tables, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    row_a = list(panel.employer_ids).index(EMPLOYER_A)

    assert panel.injuries[row_a, 2] == 2
    assert panel.injuries[row_a, 3] == 0
    assert panel.injuries.sum() == 3


def test_employer_months_headcount_by_year() -> None:
    """Each month takes its year's headcount; a year without a row is not insured."""
    tables = make_tables(
        headcounts=[{"employer_id": EMPLOYER_A, "year": 2023, "insured_headcount": 40}],
        incidents=[{"occurred_on": "2023-06-15"}],
    )

    panel = build_employer_months(tables, dt.date(2022, 1, 1), dt.date(2023, 12, 31))
    row_a = list(panel.employer_ids).index(EMPLOYER_A)

    assert np.isnan(panel.headcount[row_a, :12]).all()
    assert (panel.headcount[row_a, 12:] == 40).all()
    assert panel.insured[row_a].sum() == 12


def test_employer_months_open_major_share_counts_overlap_once() -> None:
    """Two overlapping major findings open for March 1-15 give 15/31 of March, not more."""
    tables = make_tables(
        incidents=[{"occurred_on": "2023-06-15"}],
        findings=[
            {"inspected_on": "2023-03-01", "rectified_on": "2023-03-11", "hazard_level": "major"},
            {"inspected_on": "2023-03-05", "rectified_on": "2023-03-16", "hazard_level": "major"},
            {"inspected_on": "2023-03-01", "rectified_on": None, "hazard_level": "general"},
        ],
    )

    panel = build_employer_months(tables, dt.date(2023, 1, 1), dt.date(2023, 6, 30))
    row_a = list(panel.employer_ids).index(EMPLOYER_A)

    assert panel.open_major_share[row_a, 2] == pytest.approx(15 / 31)
    assert panel.open_major_share[row_a, 3] == 0.0


def test_employer_months_open_finding_runs_to_panel_end() -> None:
    """A major finding never rectified stays open to the last month."""
    tables = make_tables(
        incidents=[{"occurred_on": "2023-06-15"}],
        findings=[{"inspected_on": "2023-04-16", "rectified_on": None, "hazard_level": "major"}],
    )

    panel = build_employer_months(tables, dt.date(2023, 1, 1), dt.date(2023, 6, 30))
    row_a = list(panel.employer_ids).index(EMPLOYER_A)

    assert panel.open_major_share[row_a, 3] == pytest.approx(15 / 30)
    assert (panel.open_major_share[row_a, 4:] == 1.0).all()


def test_event_times_nearest_training_on_each_side() -> None:
    """Months since the latest and until the next training, with two trainings 14 months apart."""
    tables = make_tables(
        incidents=[{"occurred_on": "2023-06-15"}],
        trainings=[
            {"delivered_on": "2022-03-10"},
            {"delivered_on": "2023-05-20"},
            {"delivered_on": "2023-05-28"},
        ],
    )

    panel = build_employer_months(tables, dt.date(2022, 1, 1), dt.date(2023, 12, 31))
    since, until = event_times(panel)
    row_a = list(panel.employer_ids).index(EMPLOYER_A)

    assert panel.training_month.size == 2
    assert since[row_a, 2] == 0
    assert since[row_a, 15] == 13
    assert since[row_a, 16] == 0
    assert until[row_a, 0] == 2
    assert until[row_a, 15] == 1
    assert until[row_a, 20] > 1_000


def test_event_window_bins() -> None:
    """Default bins: eight quarters each side of month 0; the pooled model has 1..12 and 13..24."""
    window = EventWindow()

    bins = window.bins()
    pooled = window.pooled_bins()

    assert bins[0] == (-24, -22)
    assert bins[-1] == (22, 24)
    assert (0, 0) in bins
    assert len(bins) == 17
    assert [bin_label(*item) for item in pooled] == [
        "-12..-10",
        "-9..-7",
        "-6..-4",
        "-3..-1",
        "0",
        "1..12",
        "13..24",
    ]


def test_event_window_rejects_effect_longer_than_window() -> None:
    """The pooled effect must fit inside the plotted window."""
    with pytest.raises(ValueError, match="must not exceed window_months"):
        EventWindow(effect_months=30, window_months=24)


def test_estimate_training_effect_without_trainings() -> None:
    """No training record in the panel: nothing to estimate."""
    tables = make_tables(incidents=[{"occurred_on": "2023-06-15"}])

    with pytest.raises(ModelError, match="no training record"):
        estimate_training_effect(tables)


def _demo_effect(seed: int, rate_ratio: float) -> TrainingEffect:
    demo = generate_demo_tables(
        **SMALL, seed=seed, params=DemoParameters(training_effect_rate_ratio=rate_ratio)
    )
    return estimate_training_effect(CanonicalTables.from_frames(**demo.frames()))


def test_estimate_training_effect_covers_demo_truth() -> None:
    """On a small demo data set the 95 % interval covers the generator's rate ratio of 0.85.

    The seed fixes the data. For a correct estimator an interval that misses
    the truth is a 1-in-20 event, so a failure here points to a defect.
    """
    effect = _demo_effect(seed=1, rate_ratio=DemoParameters().training_effect_rate_ratio)

    assert effect.covers(0.85), effect.summary()
    assert effect.matched is not None and effect.matched.covers(0.85), effect.matched
    assert effect.n_trainings > 200
    assert set(effect.event_study["role"]) == {
        "placebo",
        "selection",
        "training_month",
        "effect",
        "after_effect",
    }


def test_estimate_training_effect_detects_strong_effect() -> None:
    """A halved rate after training is found, and its interval excludes no effect."""
    effect = _demo_effect(seed=2, rate_ratio=0.5)

    assert effect.covers(0.5), effect.summary()
    assert effect.ci_high < 1.0


def test_naive_before_after_is_biased_by_selection() -> None:
    """With no true effect the naive comparison still shows a fall; the event study does not."""
    effect = _demo_effect(seed=3, rate_ratio=1.0)

    assert effect.naive.rate_ratio < 0.8
    assert effect.covers(1.0), effect.summary()


def test_read_true_effect_from_demo_truth(tmp_path: Path) -> None:
    """The true effect is read from a written demo data set's parameters.json."""
    generate_demo_data(tmp_path, employers=50, years=2, seed=1, end_year=2024)

    assert read_true_effect(tmp_path / "truth") == (0.85, 12)
