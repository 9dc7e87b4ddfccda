"""Side-by-side evaluation of model configurations on the backtest's own folds.

:func:`score_fold` refits each configuration on one fold of
:func:`risk.model.backtest.plan_folds` and keeps the row-level scores, which
the backtest report does not store, so a notebook can draw calibration and
capture curves of a candidate, the champion and the baselines on the same
test rows. It calls the backtest's own scorers, so each model's metrics on a
fold equal the ones in a :class:`~risk.model.report.BacktestReport` of the
same panel and configuration.

The table helpers turn backtest reports (objects or their logged JSON) into
frames, and :func:`top_list_coverage` shows how a model's top list is spread
over size bands, districts and industry sections.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# NOTE: these scorers are private to risk.model.backtest; calling them keeps the
# refits here identical to the backtest's, which a public name would make safer.
from risk.model.backtest import (
    Fold,
    ModelScores,
    _score_baseline,
    _score_oracle,
    _score_xgboost,
    evaluate_scores,
    plan_folds,
    size_band,
    training_rows,
)
from risk.model.baselines import BASELINE_NAMES, add_peer_percentile
from risk.model.oracle import ORACLE_COLUMN
from risk.model.report import BacktestReport
from risk.model.schema import FeatureSchema
from risk.model.xgb import RiskModel, XGBParams
from risk.scoring import ScoreFrame

logger = logging.getLogger(__name__)

SLICE_NAMES: tuple[str, ...] = ("size_band", "district", "industry_section")
_TEST_COLUMNS = (
    "employer_id",
    "as_of",
    "injury_any",
    "injury_count",
    "insured_headcount",
    "district_code",
    "industry_section",
)


@dataclass(frozen=True)
class ModelConfig:
    """The inputs of a refit: XGBoost hyper-parameters and the feature list."""

    params: XGBParams
    feature_names: tuple[str, ...]

    @classmethod
    def of(cls, model: RiskModel) -> ModelConfig:
        """Return the configuration a fitted model was trained with."""
        return cls(model.params, tuple(model.feature_names))


@dataclass(frozen=True)
class FoldScores:
    """Row-level scores of several models on the test rows of one fold."""

    fold: Fold
    horizon_days: int
    test: pd.DataFrame
    scores: dict[str, ModelScores] = field(default_factory=dict)

    @property
    def test_end(self) -> dt.date:
        """Last day of the test rows' outcome window."""
        return self.fold.test_as_of + dt.timedelta(days=self.horizon_days)

    def evaluations(self) -> dict[str, dict[str, Any]]:
        """Return :func:`risk.model.backtest.evaluate_scores` of every model."""
        return {name: evaluate_scores(scores, self.test) for name, scores in self.scores.items()}

    def metrics(self, metrics: Sequence[str]) -> pd.DataFrame:
        """Return one row per model and one column per metric."""
        evaluations = self.evaluations()
        return pd.DataFrame(
            {
                name: {metric: entry.get(metric) for metric in metrics}
                for name, entry in evaluations.items()
            }
        ).T.astype(float)

    def capture_order(self, name: str) -> np.ndarray:
        """Return the score that orders the capture metrics of model ``name``."""
        scores = self.scores[name]
        return (
            scores.expected_injuries
            if scores.expected_injuries is not None
            else scores.ranking_score
        )


def score_fold(
    panel: pd.DataFrame,
    fold: Fold,
    *,
    horizon_days: int,
    configs: Mapping[str, ModelConfig] | None = None,
    fitted: Mapping[str, RiskModel] | None = None,
    baselines: Sequence[str] = BASELINE_NAMES,
    oracle: bool = True,
) -> FoldScores:
    """Score the test rows of ``fold`` with refitted configurations, fitted models and baselines.

    Parameters
    ----------
    panel : DataFrame
        Output of :func:`risk.panel.build_panel` over the as-of grid.
    fold : Fold
        A fold of :func:`risk.model.backtest.plan_folds` on the panel's as-of dates.
    configs : mapping of label to ModelConfig, optional
        XGBoost configurations refitted on the fold's training rows.
    fitted : mapping of label to RiskModel, optional
        Models scored as they are, without refitting. Their scores are
        out of sample only if they were trained before the fold's test date.
    baselines : sequence of str
        Baselines of :mod:`risk.model.baselines`, fitted as in the backtest.
    oracle : bool, default=True
        Add the oracle when the panel has true rates.
    """
    if any(name == "peer_percentile" for name in baselines):
        panel = add_peer_percentile(panel)
    train = training_rows(panel, fold, horizon_days)
    is_test = (pd.to_datetime(panel["as_of"]).dt.date == fold.test_as_of).to_numpy()
    test = panel[is_test].reset_index(drop=True)
    scores: dict[str, ModelScores] = {}
    for label, config in (configs or {}).items():
        logger.info("fold %s: refitting %s", fold.test_as_of, label)
        scores[label] = _score_xgboost(
            train, test, list(config.feature_names), config.params, horizon_days
        )
    for label, model in (fitted or {}).items():
        predicted = model.predict(test)
        scores[label] = ModelScores(
            risk_score=predicted["risk_score"].to_numpy(),
            ranking_score=predicted["uncalibrated_score"].to_numpy(),
            expected_injuries=predicted["expected_injuries"].to_numpy(),
            calibration_method=model.calibration.method,
        )
    if baselines:
        scores.update(_score_baselines(train, test, baselines, configs, horizon_days))
    if oracle and ORACLE_COLUMN in test.columns:
        scores["oracle"] = _score_oracle(test)
    kept = [column for column in (*_TEST_COLUMNS, ORACLE_COLUMN) if column in test.columns]
    return FoldScores(fold, horizon_days, test[kept], scores)


def _score_baselines(
    train: pd.DataFrame,
    test: pd.DataFrame,
    baselines: Sequence[str],
    configs: Mapping[str, ModelConfig] | None,
    horizon_days: int,
) -> dict[str, ModelScores]:
    # The backtest gives the logistic baseline the model's features and seed; the
    # first configuration plays the model here.
    first = next(iter(configs.values())) if configs else None
    names = list(first.feature_names) if first else _feature_columns(train)
    seed = (first.params if first else XGBParams()).random_state
    schema = FeatureSchema.from_frame(train, names)
    return {
        name: _score_baseline(name, train, test, schema, seed, horizon_days) for name in baselines
    }


def _feature_columns(frame: pd.DataFrame) -> list[str]:
    from risk.model.schema import infer_feature_names

    return infer_feature_names(frame)


def latest_folds(panel: pd.DataFrame, horizon_days: int, n_folds: int) -> list[Fold]:
    """Return the backtest's folds of ``panel``, the latest last."""
    return plan_folds(pd.to_datetime(panel["as_of"]).dt.date.unique(), horizon_days, n_folds)


def _as_dict(report: BacktestReport | Mapping[str, Any]) -> Mapping[str, Any]:
    return report.to_dict() if isinstance(report, BacktestReport) else report


def fold_metrics_table(
    reports: Mapping[str, BacktestReport | Mapping[str, Any]],
    metrics: Sequence[str],
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return one row per (report label, model, test as-of) with the chosen metrics.

    ``reports`` maps a label (for example 候选 candidate) to a report or its JSON.
    """
    rows = []
    for label, report in reports.items():
        for fold in _as_dict(report)["folds"]:
            for model, entry in fold["models"].items():
                if models is not None and model not in models:
                    continue
                rows.append(
                    {
                        "report": label,
                        "model": model,
                        "test_as_of": fold["test_start"],
                        **{metric: _number(entry.get(metric)) for metric in metrics},
                    }
                )
    return pd.DataFrame(rows)


def summary_table(
    reports: Mapping[str, BacktestReport | Mapping[str, Any]],
    metrics: Sequence[str],
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the mean over folds of each metric, one row per (report label, model)."""
    table = fold_metrics_table(reports, metrics, models)
    return table.groupby(["report", "model"], sort=False)[list(metrics)].mean()


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def slice_table(
    evaluations: Mapping[str, Mapping[str, Any]], slice_name: str, metric: str
) -> pd.DataFrame:
    """Return ``metric`` per slice value (rows) and model (columns) of ``FoldScores.evaluations()``.

    Metrics are computed inside each slice, as in the backtest report.
    """
    columns = {
        model: {
            label: _number(values.get(metric))
            for label, values in entry["slices"].get(slice_name, {}).items()
        }
        for model, entry in evaluations.items()
    }
    return pd.DataFrame(columns)


def slice_labels(test: pd.DataFrame, slice_name: str) -> pd.Series:
    """Return each test row's size band, district or industry section (``slice_name``)."""
    if slice_name == "size_band":
        return size_band(test["insured_headcount"])
    column = {"district": "district_code", "industry_section": "industry_section"}[slice_name]
    return test[column].astype("object").fillna("unknown").astype(str)


def top_list_coverage(
    test: pd.DataFrame, ranking: np.ndarray, slice_name: str, fraction: float = 0.1
) -> pd.DataFrame:
    """Show how the top ``fraction`` of employers by ``ranking`` spreads over the values of a slice.

    Returns
    -------
    DataFrame
        One row per slice value: ``employers``, ``injuries``, ``share_of_employers``
        and ``share_of_injuries`` (of all test rows), ``share_of_top_list`` (of the
        top list) and ``injuries_captured`` (share of the value's own injuries
        that occur at employers on the top list). A value with injuries but
        ``injuries_captured`` near 0 is a blind spot of the model.
    """
    k = math.ceil(fraction * len(test))
    order = np.argsort(-np.asarray(ranking, dtype=np.float64), kind="stable")
    on_list = np.zeros(len(test), dtype=bool)
    on_list[order[:k]] = True
    frame = pd.DataFrame(
        {
            "value": slice_labels(test, slice_name).to_numpy(),
            "injuries": test["injury_count"].to_numpy(dtype=np.float64),
            "on_list": on_list,
        }
    )
    frame["captured"] = frame["injuries"] * frame["on_list"]
    grouped = frame.groupby("value").agg(
        employers=("on_list", "size"),
        on_list=("on_list", "sum"),
        injuries=("injuries", "sum"),
        captured=("captured", "sum"),
    )
    total_injuries = max(float(grouped["injuries"].sum()), 1.0)
    return pd.DataFrame(
        {
            "employers": grouped["employers"],
            "injuries": grouped["injuries"].astype(int),
            "share_of_employers": grouped["employers"] / len(test),
            "share_of_injuries": grouped["injuries"] / total_injuries,
            "share_of_top_list": grouped["on_list"] / max(k, 1),
            "injuries_captured": np.where(
                grouped["injuries"] > 0,
                grouped["captured"] / grouped["injuries"].where(grouped["injuries"] > 0, 1),
                np.nan,
            ),
        }
    )


def blind_spots(
    coverage: pd.DataFrame, *, ratio: float = 0.5, min_injuries: int = 5
) -> pd.DataFrame:
    """Return the slice values whose injuries the top list captures far less than overall.

    ``coverage`` is a :func:`top_list_coverage` table. A value is a blind
    spot when it had at least ``min_injuries`` injuries and the top list
    captured less than ``ratio`` times the share it captured overall.
    """
    overall = float((coverage["injuries_captured"] * coverage["injuries"]).sum()) / max(
        float(coverage["injuries"].sum()), 1.0
    )
    weak = (coverage["injuries"] >= min_injuries) & (
        coverage["injuries_captured"] < ratio * overall
    )
    return coverage[weak.to_numpy()]


def global_importance(frame: ScoreFrame, top: int | None = None) -> pd.DataFrame:
    """Return each feature's mean absolute SHAP contribution over the employers, largest first.

    Columns: ``feature``, ``label_zh``, ``family`` and ``mean_abs_contribution``
    (log-odds of the classifier's booster).
    """
    contributions = np.abs(np.asarray(frame.explanation.contributions, dtype=np.float64))
    names = list(frame.feature_names)
    table = pd.DataFrame(
        {
            "feature": names,
            "label_zh": [frame.feature_meta.get("labels_zh", {}).get(name, name) for name in names],
            "family": [frame.feature_meta.get("families", {}).get(name, "") for name in names],
            "mean_abs_contribution": contributions.mean(axis=0) if len(contributions) else 0.0,
        }
    )
    table = table.sort_values("mean_abs_contribution", ascending=False, kind="stable")
    return table.head(top).reset_index(drop=True) if top else table.reset_index(drop=True)
