"""Backtests: fold plan, no look-ahead, pure-noise outcomes and the report JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import make_random_tables
from model_factories import FEATURES, HORIZON_DAYS, make_panel

from risk.errors import ModelError
from risk.model.backtest import (
    Fold,
    backtest_panel,
    plan_folds,
    run_backtest,
    size_band,
    training_rows,
)
from risk.model.metrics import METRIC_NAMES
from risk.model.report import MODEL_NAMES, BacktestReport
from risk.model.xgb import XGBParams
from risk.size_bands import assign_size_bands

FAST = XGBParams(n_estimators=300, learning_rate=0.1, early_stopping_rounds=30, n_jobs=1)
BAND_ORDER = ["micro", "small", "medium", "large", "unknown"]
QUARTER_ENDS = [day.date() for day in pd.date_range("2019-12-31", periods=13, freq="QE-DEC")]


@pytest.fixture(scope="module")
def signal_report() -> BacktestReport:
    """Every model, oracle included, on 2 folds of a small panel with a real signal."""
    panel = make_panel(n_employers=800, n_dates=11, seed=5)
    return backtest_panel(
        panel, horizon_days=HORIZON_DAYS, n_folds=2, feature_names=FEATURES, params=FAST
    )


def test_plan_folds_one_per_latest_date() -> None:
    """The last n dates are test dates, each trained on dates a full horizon earlier."""
    folds = plan_folds(QUARTER_ENDS, HORIZON_DAYS, n_folds=4)

    assert [fold.test_as_of for fold in folds] == QUARTER_ENDS[-4:]
    for fold in folds:
        assert all(
            day + dt.timedelta(days=HORIZON_DAYS) <= fold.test_as_of for day in fold.train_as_of
        )
        assert fold.train_as_of[-1] == max(
            day for day in QUARTER_ENDS if day + dt.timedelta(days=HORIZON_DAYS) <= fold.test_as_of
        )


def test_plan_folds_skips_short_history() -> None:
    """A test date whose trainable dates cannot be sliced is skipped; no fold at all is an error."""
    folds = plan_folds(QUARTER_ENDS[:11], HORIZON_DAYS, n_folds=4)

    assert [fold.test_as_of for fold in folds] == QUARTER_ENDS[8:11]
    with pytest.raises(ModelError, match="no backtest fold"):
        plan_folds(QUARTER_ENDS[:8], HORIZON_DAYS, n_folds=2)


def test_training_rows_end_outcome_before_test_date() -> None:
    """No training row's outcome window reaches past the test as-of date."""
    panel = make_panel(n_employers=30, n_dates=13, seed=2)
    dates = sorted(pd.to_datetime(panel["as_of"]).dt.date.unique())

    for fold in plan_folds(dates, HORIZON_DAYS, n_folds=5):
        rows = training_rows(panel, fold, HORIZON_DAYS)
        outcome_end = pd.to_datetime(rows["as_of"]) + pd.Timedelta(days=HORIZON_DAYS)
        assert len(rows) == 30 * len(fold.train_as_of)
        assert (outcome_end <= pd.Timestamp(fold.test_as_of)).all()


def test_training_rows_drop_late_date() -> None:
    """Even a fold that lists a too-recent date gets no row from it."""
    panel = make_panel(n_employers=10, n_dates=6, seed=2)
    dates = sorted(pd.to_datetime(panel["as_of"]).dt.date.unique())
    fold = Fold(test_as_of=dates[-1], train_as_of=tuple(dates[:-1]))

    rows = training_rows(panel, fold, HORIZON_DAYS)

    assert pd.to_datetime(rows["as_of"]).max() + pd.Timedelta(days=HORIZON_DAYS) <= pd.Timestamp(
        dates[-1]
    )


def test_report_folds_train_before_test(signal_report: BacktestReport) -> None:
    """Each fold's last training date ends its outcome window by the test date."""
    for fold in signal_report.to_dict()["folds"]:
        last_train = dt.date.fromisoformat(fold["train_as_of_last"])
        assert last_train + dt.timedelta(days=HORIZON_DAYS) <= dt.date.fromisoformat(
            fold["test_start"]
        )


def test_run_backtest_pure_noise_finds_nothing() -> None:
    """Injuries at random employers and dates: XGBoost's ROC-AUC stays under 0.6 in every fold."""
    tables = make_random_tables(n_employers=1500, n_incidents=3000, seed=17)

    report = run_backtest(
        tables, horizon_days=HORIZON_DAYS, n_folds=4, params=FAST, models=["xgboost"]
    )

    aucs = report.metric_values("xgboost", "roc_auc")
    assert len(aucs) == 4
    for auc in aucs:
        assert auc is not None
        assert auc < 0.6


def test_backtest_signal_xgboost_beats_risk_class(signal_report: BacktestReport) -> None:
    """On a panel with a real signal, XGBoost ranks better than the risk-class base rate."""
    for fold in signal_report.folds:
        assert fold.models["xgboost"]["pr_auc"] > fold.models["risk_class"]["pr_auc"]
        assert fold.models["xgboost"]["roc_auc"] > 0.7


def test_report_json_shape(signal_report: BacktestReport, tmp_path: Path) -> None:
    """The written JSON has the documented keys, model names, slices and no NaN."""
    path = signal_report.write_json(tmp_path / "report.json")
    text = path.read_text(encoding="utf-8")
    payload = json.loads(text, parse_constant=lambda name: pytest.fail(f"JSON holds {name}"))

    assert {"horizon_days", "fold_design", "data_fingerprint", "summary", "folds"} <= set(payload)
    assert len(payload["folds"]) == 2
    for fold in payload["folds"]:
        assert dt.date.fromisoformat(fold["test_end"]) - dt.date.fromisoformat(
            fold["test_start"]
        ) == (dt.timedelta(days=HORIZON_DAYS))
        assert list(fold["models"]) == list(MODEL_NAMES)
        for name, entry in fold["models"].items():
            assert set(METRIC_NAMES) <= set(entry)
            assert set(entry["slices"]) == {"size_band", "district", "industry_section"}
            bands = list(entry["slices"]["size_band"])
            assert set(bands) <= set(BAND_ORDER)
            assert bands == sorted(bands, key=BAND_ORDER.index)
            if name != "oracle":
                assert "capture_top_10pct_vs_oracle" in entry
    assert set(payload["summary"]) == set(MODEL_NAMES)


def test_report_values_plain_json_types(signal_report: BacktestReport) -> None:
    """Every metric is a finite float or null; the calibration method is recorded."""
    fold = signal_report.to_dict()["folds"][0]
    xgboost = fold["models"]["xgboost"]

    for metric in METRIC_NAMES:
        value = xgboost[metric]
        assert value is None or (isinstance(value, float) and math.isfinite(value))
    assert xgboost["calibration_method"] in ("isotonic", "sigmoid")
    assert fold["models"]["oracle"]["calibration_method"] is None
    # Only the count models have a Poisson deviance.
    assert fold["models"]["logistic"]["poisson_deviance"] is None
    assert xgboost["poisson_deviance"] is not None


def test_size_band_matches_ranking_bands() -> None:
    """Backtest slices use the ranking filter's bands; missing or non-numeric is unknown."""
    headcount = pd.Series([0, 19, 20, 299, 300, 999, 1000, None, "n/a"])

    bands = size_band(headcount)

    assert bands.tolist()[:7] == assign_size_bands(np.array(headcount[:7], dtype=float)).tolist()
    assert bands.tolist()[7:] == ["unknown", "unknown"]
    assert bands.index.equals(headcount.index)


def test_backtest_unknown_model_rejected() -> None:
    """A model name outside the list is rejected with the list."""
    panel = make_panel(n_employers=20, n_dates=8, seed=1)

    with pytest.raises(ModelError, match="unknown models"):
        backtest_panel(panel, horizon_days=HORIZON_DAYS, feature_names=FEATURES, models=["forest"])
