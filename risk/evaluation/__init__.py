"""Evaluation beyond the backtest: drift, the effect of training and notebook charts.

- :mod:`risk.evaluation.drift`: population stability index per feature and for the score.
- :mod:`risk.evaluation.effect`: event-study estimate of the effect of delivered
  training on later injury rates, with :mod:`risk.evaluation.matched` (matched
  comparison, naive before/after), :mod:`risk.evaluation.employer_months`
  (the employer-by-month panel), :mod:`risk.evaluation.event_time` (event-time
  bins) and :mod:`risk.evaluation.fe_poisson`
  (fixed-effects Poisson regression with clustered standard errors).
- :mod:`risk.evaluation.compare`: a candidate, the champion and the baselines
  scored row by row on the backtest's folds, and tables of backtest reports.
- :mod:`risk.evaluation.plots`: calibration, capture, slice, event-study, PSI
  and SHAP charts with Chinese labels.

This package re-exports drift and the training-effect estimate. Import
:mod:`risk.evaluation.compare` and :mod:`risk.evaluation.plots` by module name,
so that the effect estimate does not load the model code and matplotlib.
"""

from risk.evaluation.drift import (
    PSI_LEVELS,
    DriftReport,
    feature_drift,
    population_stability_index,
    psi_level,
    scoring_drift,
)
from risk.evaluation.effect import (
    TrainingEffect,
    estimate_training_effect,
    read_true_effect,
)
from risk.evaluation.employer_months import EmployerMonths, build_employer_months
from risk.evaluation.event_time import EventWindow
from risk.evaluation.fe_poisson import PoissonFit, fit_fe_poisson
from risk.evaluation.matched import (
    BeforeAfter,
    MatchedEffect,
    matched_training_effect,
    naive_before_after,
)

__all__ = [
    "PSI_LEVELS",
    "BeforeAfter",
    "DriftReport",
    "EmployerMonths",
    "EventWindow",
    "MatchedEffect",
    "PoissonFit",
    "TrainingEffect",
    "build_employer_months",
    "estimate_training_effect",
    "feature_drift",
    "fit_fe_poisson",
    "matched_training_effect",
    "naive_before_after",
    "population_stability_index",
    "psi_level",
    "read_true_effect",
    "scoring_drift",
]
