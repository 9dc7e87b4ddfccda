"""The MSHA rate model: XGBoost with a Poisson objective and hours worked as exposure.

A mine's injuries in the next four quarters are Poisson with mean
``hours * base_rate * exp(f(features))``. Training passes
``log(hours_next_4q * base_rate)`` as the base margin (the offset), so the
trees learn the relative rate ``exp(f)`` and not the size of the mine.
``base_rate`` is the pooled training rate: with it the first tree starts
close to the data, where a margin of 0 would leave the trees to climb about
ten units of log rate. Scores come in three forms:

* ``injury_rate``: expected injuries per hour, ``base_rate * exp(f)``;
* ``expected_injuries``: that rate times the hours of the last four
  quarters, the exposure known as of the scoring date;
* ``expected_rate_rank``: the expected rank of next year's observed rate
  among the mines scored together, under the model's Poisson distribution
  with last year's hours (at least ``RATE_POPULATION_HOURS``) as exposure.
  A small mine's observed rate is noisy and often zero, so the mine with the
  highest expected rate is not always the one most likely to rank high.
  Ranking by the expected rank orders mines by what a rank correlation with
  observed rates rewards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.stats import rankdata

from risk.errors import ModelError
from risk.public.msha_features import FEATURE_NAMES, STATE_FEATURE

logger = logging.getLogger(__name__)

RATE_POPULATION_HOURS = 20_000.0
RANK_SIMULATIONS = 400

# Fixed before the backtest and not tuned on its folds. One thread, because
# XGBoost's OpenMP threads slow down badly when the cores are shared.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "count:poisson",
    "eta": 0.05,
    "max_depth": 3,
    "min_child_weight": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "max_delta_step": 0.7,
    "tree_method": "hist",
    "seed": 0,
    "nthread": 1,
}
DEFAULT_ROUNDS = 300


@dataclass(frozen=True)
class PoissonRateModel:
    """A fitted rate model with what scoring needs: feature names, state levels and base rate."""

    booster: xgb.Booster
    feature_names: tuple[str, ...]
    states: tuple[str, ...]
    base_rate: float
    n_train_rows: int
    params: dict[str, Any] = field(default_factory=dict)


def _design(
    rows: pd.DataFrame, feature_names: tuple[str, ...], states: tuple[str, ...]
) -> pd.DataFrame:
    missing = [name for name in feature_names if name not in rows.columns]
    if missing:
        raise ModelError(
            f"缺少特征列 {missing[:5]!r} / the rows lack feature columns {missing[:5]!r}"
        )
    design = rows[list(feature_names)].copy()
    # Fixed categories, so that training and scoring code each state the same way.
    design[STATE_FEATURE] = pd.Categorical(
        design[STATE_FEATURE].astype("str"), categories=list(states)
    )
    for name in feature_names:
        if name != STATE_FEATURE:
            design[name] = design[name].astype("float64")
    return design


def fit_poisson_rate(
    rows: pd.DataFrame,
    states: tuple[str, ...],
    params: dict[str, Any] | None = None,
    rounds: int = DEFAULT_ROUNDS,
    feature_names: tuple[str, ...] = FEATURE_NAMES,
) -> PoissonRateModel:
    """Fit the rate model on rows with complete outcomes and positive next-year hours.

    Parameters
    ----------
    rows : DataFrame
        Feature rows with ``injuries_next_4q`` and ``hours_next_4q``.
    states : tuple of str
        Every state that scoring may meet, fixed before fitting.
    params, rounds
        XGBoost parameters and boosting rounds; :data:`DEFAULT_PARAMS` and
        :data:`DEFAULT_ROUNDS` when not given.
    """
    train = rows[rows["hours_next_4q"] > 0]
    if train.empty or train["injuries_next_4q"].sum() <= 0:
        raise ModelError("没有可训练的行或没有工伤 / no training rows with hours and injuries")
    settings = dict(DEFAULT_PARAMS if params is None else params)
    base_rate = float(train["injuries_next_4q"].sum() / train["hours_next_4q"].sum())
    matrix = xgb.DMatrix(
        _design(train, feature_names, states),
        label=train["injuries_next_4q"].to_numpy(dtype=float),
        base_margin=np.log(train["hours_next_4q"].to_numpy(dtype=float) * base_rate),
        enable_categorical=True,
    )
    booster = xgb.train(settings, matrix, num_boost_round=rounds)
    logger.info(
        "fitted the Poisson rate model on %d rows (base rate %.3g per hour)", len(train), base_rate
    )
    return PoissonRateModel(booster, feature_names, states, base_rate, len(train), settings)


def _matrix(model: PoissonRateModel, rows: pd.DataFrame, margin: np.ndarray) -> xgb.DMatrix:
    return xgb.DMatrix(
        _design(rows, model.feature_names, model.states),
        base_margin=margin,
        enable_categorical=True,
    )


def predict_rate(model: PoissonRateModel, rows: pd.DataFrame) -> np.ndarray:
    """Return expected injuries per hour worked for each row."""
    margin = np.full(len(rows), np.log(model.base_rate))
    return model.booster.predict(_matrix(model, rows, margin))


def expected_rate_ranks(
    rate_per_hour: np.ndarray,
    hours_last_4q: np.ndarray,
    n_simulations: int = RANK_SIMULATIONS,
    seed: int = 0,
) -> np.ndarray:
    """Return each mine's expected rank of next year's observed rate among the mines given.

    Next year's count is drawn from Poisson(rate * hours) with hours = last
    year's hours, at least :data:`RATE_POPULATION_HOURS`; the observed rate
    is count / hours; ranks run from 1 (lowest) with ties averaged. The
    draws use a fixed seed, so the result is reproducible.
    """
    hours = np.maximum(np.asarray(hours_last_4q, dtype=float), RATE_POPULATION_HOURS)
    mean_counts = np.asarray(rate_per_hour, dtype=float) * hours
    generator = np.random.default_rng(seed)
    total = np.zeros(mean_counts.size)
    for _ in range(n_simulations):
        total += rankdata(generator.poisson(mean_counts) / hours)
    return total / n_simulations


def shap_contributions(model: PoissonRateModel, rows: pd.DataFrame) -> pd.DataFrame:
    """Return SHAP contributions to the log rate, one column per feature, from XGBoost's TreeSHAP.

    The base value (the expected log rate) is left out; contributions are in
    log-rate units, so exp(contribution) is a rate ratio.
    """
    margin = np.full(len(rows), np.log(model.base_rate))
    contributions = model.booster.predict(_matrix(model, rows, margin), pred_contribs=True)
    return pd.DataFrame(contributions[:, :-1], columns=list(model.feature_names), index=rows.index)
