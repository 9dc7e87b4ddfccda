"""Tests of labels, the as_of grid and stacked panels."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest
from factories import EMPLOYER_A, EMPLOYER_B, EMPLOYER_C, make_random_tables, make_tables

from risk.errors import InputDataError
from risk.features import CATEGORICAL_FEATURES, FEATURE_NAMES, build_features
from risk.labels import as_of_grid, build_labels, latest_as_of
from risk.panel import build_panel

AS_OF = dt.date(2023, 6, 30)


def _label(frame: pd.DataFrame, employer_id: str, column: str) -> int:
    return int(frame.set_index("employer_id").loc[employer_id, column])


def test_build_labels_counts_horizon_window() -> None:
    """Labels count injuries in (as_of, as_of + horizon]: not on as_of, yes on the last day."""
    tables = make_tables(
        incidents=[
            {"occurred_on": "2023-06-30"},  # on as_of: a feature, not an outcome
            {"occurred_on": "2023-07-01"},  # first day of the horizon
            {"occurred_on": "2024-06-29"},  # as_of + 365 days, the last day
            {"occurred_on": "2024-06-30"},  # one day past the horizon
            {"occurred_on": "2024-12-31", "employer_id": EMPLOYER_C},
        ]
    )

    labels = build_labels(tables, AS_OF)

    assert list(labels.columns) == ["employer_id", "as_of", "injury_any", "injury_count"]
    assert _label(labels, EMPLOYER_A, "injury_count") == 2
    assert _label(labels, EMPLOYER_A, "injury_any") == 1
    assert _label(labels, EMPLOYER_B, "injury_any") == 0
    assert _label(labels, EMPLOYER_C, "injury_count") == 0
    assert labels["injury_any"].dtype == np.int64
    assert labels["injury_count"].dtype == np.int64


def test_build_labels_skips_commuting() -> None:
    """Commuting injuries are not outcomes."""
    tables = make_tables(
        incidents=[
            {"occurred_on": "2023-08-01", "is_commuting": True},
            {"occurred_on": "2024-12-31", "employer_id": EMPLOYER_C},
        ]
    )

    labels = build_labels(tables, AS_OF)

    assert _label(labels, EMPLOYER_A, "injury_any") == 0


def test_build_labels_warns_when_horizon_passes_data_end() -> None:
    """An outcome window ending after the latest incident gives a warning."""
    tables = make_tables(incidents=[{"occurred_on": "2024-01-01"}])

    with pytest.warns(UserWarning, match="after the data end 2024-01-01"):
        build_labels(tables, AS_OF)


def test_as_of_grid_needs_history_and_full_horizon() -> None:
    """Quarter ends from 12 months after the first incident to data end minus the horizon."""
    tables = make_tables(incidents=[{"occurred_on": "2019-01-01"}, {"occurred_on": "2024-12-31"}])

    grid = as_of_grid(tables)

    assert grid[0] == dt.date(2019, 12, 31)
    assert grid[-1] == dt.date(2023, 12, 31)
    assert len(grid) == 17
    for as_of in grid:
        assert as_of + dt.timedelta(days=365) <= dt.date(2024, 12, 31)


def test_as_of_grid_never_passes_data_end() -> None:
    """No grid date has an outcome window past the data end, for any data end and horizon."""
    tables = make_tables(incidents=[{"occurred_on": "2019-03-15"}, {"occurred_on": "2024-05-20"}])

    for data_end in (dt.date(2022, 12, 30), dt.date(2022, 12, 31), dt.date(2024, 5, 20)):
        for horizon_days in (90, 365, 730):
            grid = as_of_grid(tables, horizon_days=horizon_days, data_end=data_end)
            assert grid, (data_end, horizon_days)
            assert all(as_of + dt.timedelta(days=horizon_days) <= data_end for as_of in grid)
            assert grid[0] >= dt.date(2020, 3, 14)
    assert as_of_grid(tables, data_end=dt.date(2022, 12, 31))[-1] == dt.date(2021, 12, 31)


def test_as_of_grid_monthly_and_short_data() -> None:
    """Monthly grids use month ends; data shorter than history plus horizon gives no date."""
    tables = make_tables(incidents=[{"occurred_on": "2023-01-01"}, {"occurred_on": "2024-06-30"}])

    assert as_of_grid(tables) == []
    assert as_of_grid(tables, horizon_days=90, freq="monthly") == [
        dt.date(2023, 12, 31),
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
    ]
    with pytest.raises(ValueError, match="freq must be one of"):
        as_of_grid(tables, freq="weekly")


def test_as_of_grid_empty_incidents_needs_data_end() -> None:
    """Without incidents the data end is unknown unless passed."""
    tables = make_tables()

    with pytest.raises(InputDataError, match="the incident table is empty"):
        as_of_grid(tables)


def test_latest_as_of_is_last_quarter_end() -> None:
    """Scoring uses the last quarter end on or before the data end."""
    tables = make_tables(incidents=[{"occurred_on": "2024-11-20"}])

    assert latest_as_of(tables) == dt.date(2024, 9, 30)
    assert latest_as_of(tables, data_end=dt.date(2024, 12, 31)) == dt.date(2024, 12, 31)
    assert latest_as_of(tables, freq="monthly") == dt.date(2024, 10, 31)


def test_build_panel_stacks_features_and_labels() -> None:
    """A panel equals features and labels built date by date, plus an exposure column."""
    tables = make_random_tables(n_employers=80, n_incidents=600)
    dates = as_of_grid(tables)[:3]

    panel = build_panel(tables, dates)

    assert list(panel.columns) == [
        "employer_id",
        "as_of",
        *FEATURE_NAMES,
        "injury_any",
        "injury_count",
        "exposure",
    ]
    assert len(panel) == 80 * 3
    for as_of in dates:
        rows = panel[panel["as_of"] == pd.Timestamp(as_of)].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            rows[["employer_id", "as_of", *FEATURE_NAMES]],
            build_features(tables, as_of),
            check_exact=True,
        )
        labels = build_labels(tables, as_of)
        assert rows["injury_count"].tolist() == labels["injury_count"].tolist()
        assert rows["injury_any"].tolist() == labels["injury_any"].tolist()
        pd.testing.assert_series_equal(
            rows["exposure"], rows["insured_headcount"], check_names=False
        )


def test_build_panel_keeps_categories_across_dates() -> None:
    """Stacking keeps the categorical dtype, with the code-list categories."""
    tables = make_random_tables(n_employers=40, n_incidents=200)

    panel = build_panel(tables, as_of_grid(tables)[:4])

    for name in CATEGORICAL_FEATURES:
        assert isinstance(panel[name].dtype, pd.CategoricalDtype), name


def test_build_panel_rejects_empty_dates() -> None:
    """An empty list of dates is an error, not an empty panel."""
    with pytest.raises(ValueError, match="as_of_dates is empty"):
        build_panel(make_tables(), [])


def test_build_panel_quarterly_on_20k_employers_is_fast() -> None:
    """24 quarterly dates on 20,000 employers take seconds; the bound allows for a busy machine."""
    tables = make_random_tables(n_employers=20_000, n_incidents=120_000, seed=9)
    dates = [stamp.date() for stamp in pd.date_range("2019-03-31", periods=24, freq="QE-DEC")]

    started = time.perf_counter()
    with pytest.warns(UserWarning, match="after the data end"):
        panel = build_panel(tables, dates)
    elapsed = time.perf_counter() - started

    assert len(panel) == 20_000 * 24
    assert elapsed < 30, f"panel took {elapsed:.1f} s"
