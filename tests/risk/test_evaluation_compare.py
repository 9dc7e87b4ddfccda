"""Row-level fold scores match the backtest; report tables, top-list coverage and blind spots."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from model_factories import FEATURES, HORIZON_DAYS, make_panel

from risk.evaluation.compare import (
    ModelConfig,
    blind_spots,
    fold_metrics_table,
    global_importance,
    latest_folds,
    score_fold,
    summary_table,
    top_list_coverage,
)
from risk.model.backtest import backtest_panel
from risk.model.report import BacktestReport
from risk.model.xgb import XGBParams, fit_risk_model

FAST = XGBParams(n_estimators=200, learning_rate=0.1, early_stopping_rounds=20, n_jobs=1)
METRICS = ["roc_auc", "pr_auc", "brier", "capture_top_10pct"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """A synthetic panel with a real signal and true rates for the oracle."""
    return make_panel(n_employers=600, n_dates=11, seed=5)


@pytest.fixture(scope="module")
def report(panel: pd.DataFrame) -> BacktestReport:
    """The backtest of XGBoost and two baselines on the latest fold."""
    return backtest_panel(
        panel,
        horizon_days=HORIZON_DAYS,
        n_folds=1,
        feature_names=FEATURES,
        params=FAST,
        models=["xgboost", "logistic", "risk_class", "oracle"],
    )


def test_score_fold_matches_backtest_metrics(panel: pd.DataFrame, report: BacktestReport) -> None:
    """Refitting on the backtest's fold reproduces the backtest's metrics for every model."""
    fold = latest_folds(panel, HORIZON_DAYS, 1)[-1]

    scores = score_fold(
        panel,
        fold,
        horizon_days=HORIZON_DAYS,
        configs={"xgboost": ModelConfig(FAST, tuple(FEATURES))},
        baselines=("logistic", "risk_class"),
    )
    table = scores.metrics(METRICS)

    assert fold.test_as_of == report.folds[0].test_as_of
    assert scores.test_end == report.folds[0].test_end
    for model in ("xgboost", "logistic", "risk_class", "oracle"):
        for metric in METRICS:
            assert table.loc[model, metric] == pytest.approx(
                report.folds[0].models[model][metric]
            ), (model, metric)


def test_score_fold_scores_fitted_model_as_is(panel: pd.DataFrame) -> None:
    """A fitted model is scored without refitting, beside the baselines."""
    fold = latest_folds(panel, HORIZON_DAYS, 1)[-1]
    model = fit_risk_model(panel, feature_names=FEATURES, params=FAST, horizon_days=HORIZON_DAYS)

    scores = score_fold(
        panel, fold, horizon_days=HORIZON_DAYS, fitted={"frozen": model}, baselines=("risk_class",)
    )

    assert set(scores.scores) == {"frozen", "risk_class", "oracle"}
    assert len(scores.capture_order("frozen")) == len(scores.test)
    assert scores.metrics(["roc_auc"]).loc["frozen", "roc_auc"] > 0.6


def test_summary_table_accepts_report_or_json(report: BacktestReport) -> None:
    """A report object and its logged JSON give the same table."""
    from_object = summary_table({"run": report}, METRICS)
    from_json = summary_table({"run": report.to_dict()}, METRICS)

    pd.testing.assert_frame_equal(from_object, from_json)
    assert from_object.loc[("run", "xgboost"), "pr_auc"] == pytest.approx(
        report.mean_metric("xgboost", "pr_auc")
    )


def test_fold_metrics_table_filters_models(report: BacktestReport) -> None:
    """One row per report, model and fold, only for the models asked for."""
    table = fold_metrics_table({"a": report, "b": report}, ["pr_auc"], models=["xgboost"])

    assert list(table["report"]) == ["a", "b"]
    assert set(table["model"]) == {"xgboost"}
    assert list(table["test_as_of"]) == [report.folds[0].test_as_of.isoformat()] * 2


def _test_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "injury_count": [3, 2, 0, 1, 1, 0, 0, 2, 0, 0],
            "insured_headcount": [500.0, 400.0, 20, 30, 5, 8, 12, 60, 70, 2],
            "district_code": ["330102"] * 5 + ["330106"] * 5,
            "industry_section": ["C"] * 10,
        }
    )


def test_top_list_coverage_by_district() -> None:
    """The two highest-ranked employers are in 330102, so 330106's injuries are not captured."""
    test = _test_rows()
    ranking = np.array([10, 9, 1, 2, 3, 1, 1, 0.5, 1, 1], dtype=float)

    coverage = top_list_coverage(test, ranking, "district", fraction=0.2)

    assert coverage.loc["330102", "injuries_captured"] == pytest.approx(5 / 7)
    assert coverage.loc["330106", "injuries_captured"] == 0.0
    assert coverage["share_of_top_list"].sum() == pytest.approx(1.0)
    assert coverage["share_of_injuries"].sum() == pytest.approx(1.0)


def test_blind_spots_flag_uncaptured_district() -> None:
    """A district with injuries but none on the list is a blind spot when it has enough injuries."""
    coverage = top_list_coverage(
        _test_rows(), np.array([10, 9, 1, 2, 3, 1, 1, 0.5, 1, 1.0]), "district", 0.2
    )

    assert list(blind_spots(coverage, min_injuries=2).index) == ["330106"]
    assert blind_spots(coverage, min_injuries=5).empty


def test_global_importance_orders_by_mean_absolute_contribution() -> None:
    """Features are ranked by mean |SHAP| with their Chinese labels."""
    from risk.explain import MarginExplanation
    from risk.scoring import BandThresholds, ScoreFrame

    contributions = np.array([[0.1, -2.0], [-0.3, 1.0]], dtype=np.float32)
    frame = ScoreFrame(
        as_of=dt.date(2025, 12, 31),
        horizon_days=365,
        scores=pd.DataFrame({"risk_score": [0.1, 0.2]}),
        explanation=MarginExplanation(contributions, 0.0, np.zeros(2)),
        feature_values=np.zeros((2, 2), np.float32),
        feature_names=("a", "b"),
        feature_meta={"labels_zh": {"a": "甲", "b": "乙"}},
        peer_means={},
        band_thresholds=BandThresholds(),
    )

    table = global_importance(frame)

    assert list(table["feature"]) == ["b", "a"]
    assert list(table["label_zh"]) == ["乙", "甲"]
    assert table["mean_abs_contribution"].iloc[0] == pytest.approx(1.5)
