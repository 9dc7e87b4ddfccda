"""Tests of the MSHA features (point in time), the Poisson rate model and the backtest metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.public import quarters
from risk.public.msha import MshaPanel
from risk.public.msha_backtest import (
    MshaFold,
    fold_test_rows,
    fold_training_rows,
    paired_bootstrap,
    plan_folds,
    rate_metrics,
)
from risk.public.msha_features import FEATURE_NAMES, attach_outcomes, build_features, quarter_panel
from risk.public.msha_model import expected_rate_ranks, fit_poisson_rate, predict_rate


@pytest.fixture(scope="module")
def feature_rows(full_panel: MshaPanel) -> pd.DataFrame:
    """Features and outcomes of every mine and quarter of the real panel."""
    grid = quarter_panel(full_panel.tables, full_panel.quarters)
    return attach_outcomes(build_features(grid), grid)


def test_build_features_point_in_time(full_panel: MshaPanel, feature_rows: pd.DataFrame) -> None:
    """Features as of a quarter are the same when everything after it is removed from the data."""
    as_of_quarter = 2006 * 4 + 3
    as_of = quarters.end_date_of(as_of_quarter).date()
    known = full_panel.tables.until(as_of)
    exposure = full_panel.quarters[full_panel.quarters["quarter_index"] <= as_of_quarter]
    truncated = build_features(quarter_panel(known, exposure))

    full = feature_rows[feature_rows["quarter_index"] == as_of_quarter].set_index("employer_id")
    cut = truncated[truncated["quarter_index"] == as_of_quarter].set_index("employer_id")
    assert len(full) > 400
    assert sorted(full.index) == sorted(cut.index)
    pd.testing.assert_frame_equal(
        cut.loc[full.index, list(FEATURE_NAMES)], full[list(FEATURE_NAMES)]
    )


def test_attach_outcomes_next_four_quarters(feature_rows: pd.DataFrame) -> None:
    """The outcome of a quarter is the sum of the next four quarters' injuries, not its own."""
    mine = feature_rows[feature_rows["employer_id"] == "0100851"].set_index("quarter_index")
    quarter = 2005 * 4
    following = mine.loc[quarter + 1 : quarter + 4, "injuries_1q"].sum()
    assert mine.at[quarter, "injuries_next_4q"] == following
    assert not mine.loc[2012 * 4 :, "outcome_complete"].any()
    assert mine.loc[: 2011 * 4 + 3, "outcome_complete"].all()


def test_training_rows_end_before_test_year(feature_rows: pd.DataFrame) -> None:
    """No training row's four-quarter outcome window passes its fold's as-of date."""
    folds = plan_folds(feature_rows, 2012)
    assert [fold.test_year for fold in folds] == list(range(2003, 2013))
    for fold in folds:
        train = fold_training_rows(feature_rows, fold)
        assert int(train["quarter_index"].max()) + 4 <= fold.as_of_quarter
        assert train["outcome_complete"].all()
        test = fold_test_rows(feature_rows, fold)
        assert (test["quarter_index"] == fold.as_of_quarter).all()
        assert fold.as_of == pd.Timestamp(fold.test_year - 1, 12, 31)


def _synthetic_rows(seed: int = 0) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    size = 4000
    state = generator.choice(["KY", "WV"], size=size)
    hours = generator.uniform(20_000, 400_000, size=size)
    # True rate per hour: West Virginia three times Kentucky, whatever the mine's size.
    rate = np.where(state == "WV", 6e-5, 2e-5)
    rows = pd.DataFrame({name: 0.0 for name in FEATURE_NAMES if name != "state"}, index=range(size))
    rows["hours_worked_4q"] = hours
    rows["state"] = state
    rows["hours_next_4q"] = hours
    rows["injuries_next_4q"] = generator.poisson(rate * hours).astype(float)
    return rows


def test_fit_poisson_rate_learns_rate_not_size() -> None:
    """With hours as offset the model recovers the rate ratio between states and ignores size."""
    rows = _synthetic_rows()
    model = fit_poisson_rate(rows, ("KY", "WV"))
    rate = predict_rate(model, rows)
    ratio = rate[rows["state"] == "WV"].mean() / rate[rows["state"] == "KY"].mean()
    assert 2.5 < ratio < 3.5
    assert abs(rate[rows["state"] == "KY"].mean() - 2e-5) < 0.4e-5
    big, small = rows["hours_worked_4q"] > 300_000, rows["hours_worked_4q"] < 100_000
    kentucky = rows["state"] == "KY"
    assert abs(rate[big & kentucky].mean() / rate[small & kentucky].mean() - 1.0) < 0.1


def test_expected_rate_ranks_order_and_repeatability() -> None:
    """At equal hours a higher rate ranks higher; a fixed seed gives the same ranks."""
    rate = np.array([1e-5, 2e-5, 4e-5, 8e-5])
    hours = np.full(4, 100_000.0)
    ranks = expected_rate_ranks(rate, hours, n_simulations=200)
    assert list(np.argsort(ranks)) == [0, 1, 2, 3]
    assert np.array_equal(ranks, expected_rate_ranks(rate, hours, n_simulations=200))


def test_rate_metrics_perfect_and_reversed() -> None:
    """A score equal to the rate is perfect; its reverse finds no top-quarter mine."""
    injuries = np.arange(40, dtype=float)
    hours = np.full(40, 50_000.0)
    perfect = rate_metrics(injuries, injuries, hours)
    reversed_ = rate_metrics(-injuries, injuries, hours)
    assert perfect["rate_precision_top_10pct"] == pytest.approx(1.0)
    assert perfect["rate_spearman"] == pytest.approx(1.0)
    assert reversed_["rate_precision_top_10pct"] == pytest.approx(0.0)
    small = rate_metrics(injuries, injuries, np.full(40, 10_000.0))
    assert small["rate_spearman"] is None


def test_paired_bootstrap_interval() -> None:
    """Differences that are all positive give an interval above zero; none give no interval."""
    result = paired_bootstrap([0.01, 0.02, 0.015, 0.03, 0.005])
    assert result["mean_difference"] == pytest.approx(0.016)
    assert 0 < result["ci_low"] <= result["mean_difference"] <= result["ci_high"]
    assert (result["folds_won"], result["folds_lost"], result["folds"]) == (5, 0, 5)
    assert paired_bootstrap([])["mean_difference"] is None


def test_msha_fold_dates() -> None:
    """A fold's as-of date is the last day of the year before its test year."""
    fold = MshaFold(2012)
    assert fold.as_of == pd.Timestamp(2011, 12, 31)
    assert fold.test_end == pd.Timestamp(2012, 12, 31)
    assert quarters.label_of(fold.as_of_quarter) == "2011Q4"
