"""Risk models, baselines, backtests and MLflow tracking.

- :mod:`risk.model.xgb`: :func:`fit_risk_model` and :class:`RiskModel`
  (calibrated XGBoost classifier plus Poisson count model).
- :mod:`risk.model.baselines`: risk class, last year's rate, peer percentile
  and logistic regression.
- :mod:`risk.model.backtest`: :func:`run_backtest` over the quarterly as-of grid.
- :mod:`risk.model.metrics`: ranking, calibration and capture metrics.
- :mod:`risk.model.tracking`, :mod:`risk.model.promotion`,
  :mod:`risk.model.card`: MLflow runs, registry aliases, promotion gate and
  model card export.
"""

from risk.model.backtest import backtest_panel, plan_folds, run_backtest
from risk.model.calibration import CalibrationChoice
from risk.model.card import export_champion
from risk.model.promotion import PromotionResult, promote_candidate
from risk.model.report import MODEL_NAMES, BacktestReport, FoldResult
from risk.model.schema import FeatureSchema
from risk.model.tracking import (
    TrainingRun,
    load_champion,
    load_model_version,
    log_backtest_metrics,
    log_training_run,
    register_model,
)
from risk.model.xgb import RiskModel, XGBParams, fit_risk_model

__all__ = [
    "MODEL_NAMES",
    "BacktestReport",
    "CalibrationChoice",
    "FeatureSchema",
    "FoldResult",
    "PromotionResult",
    "RiskModel",
    "TrainingRun",
    "XGBParams",
    "backtest_panel",
    "export_champion",
    "fit_risk_model",
    "load_champion",
    "load_model_version",
    "log_backtest_metrics",
    "log_training_run",
    "plan_folds",
    "promote_candidate",
    "register_model",
    "run_backtest",
]
