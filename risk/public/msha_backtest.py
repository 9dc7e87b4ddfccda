"""Yearly backtest of the MSHA rate model against the baselines, on two scales.

Folds. One fold per calendar year ``Y`` from the fourth year of the data to
the last complete year. The fold's as-of date is the last day of ``Y - 1``,
and its test rows are the mines that worked hours in the four quarters up to
it. Their outcome is the injuries (and hours) of the four quarters of ``Y``.
Training rows are every earlier quarter-end as-of date whose four-quarter
outcome window ends on or before the fold's as-of date, so no training
outcome overlaps the test year.

Scales.

* Count scale: ``capture_top_10pct``, the share of the test year's injuries
  at the 10 % of mines ranked highest (with the other metrics of
  :func:`risk.model.metrics.score_metrics`).
* Rate scale, on mines with at least 20,000 hours in the test year, the rate
  being injuries per 200,000 hours: ``rate_precision_top_10pct``, the share
  of the 10 % ranked highest whose rate is in the top quarter of rates, and
  ``rate_spearman``, the rank correlation of the score with the rates.

The model ranks by expected injuries on the count scale and by the expected
rank of its rate on the rate scale (:mod:`risk.public.msha_model`);
``xgboost_rate`` is the same model ranked by its raw expected rate on both,
shown so that the effect of the ranking rule is visible. Each baseline is one
score used on both scales (see :data:`BASELINES`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

from risk.model.metrics import capture_top_k, score_metrics
from risk.public import quarters
from risk.public.msha_features import RATE_HOURS, STATE_FEATURE
from risk.public.msha_model import (
    DEFAULT_ROUNDS,
    RATE_POPULATION_HOURS,
    PoissonRateModel,
    expected_rate_ranks,
    fit_poisson_rate,
    predict_rate,
)

logger = logging.getLogger(__name__)

MODEL = "xgboost"
RAW_RATE_MODEL = "xgboost_rate"
HEADLINE_METRICS = ("capture_top_10pct", "rate_precision_top_10pct", "rate_spearman")
FOLD_DESIGN = (
    "one fold per calendar year Y from the fourth year of data to the last complete year;"
    " test rows are the mines with hours in the four quarters up to the last day of Y-1 (the"
    " as-of date), with the injuries and hours of Y as outcome; training rows are all earlier"
    " quarter-end as-of dates whose"
    " four-quarter outcome window ends on or before that as-of date"
)


def _state_percentile(rows: pd.DataFrame) -> np.ndarray:
    rate = rows["injury_rate_4q"].fillna(0.0)
    groups = [rows[STATE_FEATURE], rows["quarter_index"]]
    return rate.groupby(groups).rank(pct=True, method="average").to_numpy(dtype=float)


# Each baseline maps feature rows (as of one or more quarters) to one score per row.
BASELINES: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    # Last year's injury count: the strongest naive forecast of counts.
    "persistence": lambda rows: rows["injuries_4q"].to_numpy(dtype=float),
    # Last year's rate, the rule of OSHA's Site-Specific Targeting.
    "last_year_rate": lambda rows: rows["injury_rate_4q"].fillna(0.0).to_numpy(dtype=float),
    "three_year_rate": lambda rows: rows["injury_rate_12q"].fillna(0.0).to_numpy(dtype=float),
    # An approximation of MSHA's pattern-of-violations screen: significant-and-substantial
    # violations per 200,000 hours worked over the last four quarters. The real screen uses
    # S&S citations per inspection hour, closure orders and an injury severity measure. The
    # panel has none of them, and its violations cover 139 CFR subsections only.
    "pov_screen": lambda rows: rows["ss_violation_rate_4q"].fillna(0.0).to_numpy(dtype=float),
    # The mine's last-year rate as a percentile among the mines of its state.
    "peer_percentile": _state_percentile,
    # Hours worked in the last four quarters: size alone.
    "size": lambda rows: rows["hours_worked_4q"].to_numpy(dtype=float),
}
MODEL_NAMES: tuple[str, ...] = (MODEL, RAW_RATE_MODEL, *BASELINES)


@dataclass(frozen=True)
class MshaFold:
    """One test year: its as-of quarter (the fourth quarter of the year before)."""

    test_year: int

    @property
    def as_of_quarter(self) -> int:
        """Quarter index of the as-of date, the last quarter of the year before the test year."""
        return self.test_year * 4 - 1

    @property
    def as_of(self) -> pd.Timestamp:
        """Last day of the year before the test year."""
        return quarters.end_date_of(self.as_of_quarter)

    @property
    def test_end(self) -> pd.Timestamp:
        """Last day of the test year."""
        return quarters.end_date_of(self.as_of_quarter + 4)


def plan_folds(rows: pd.DataFrame, last_complete_year: int) -> list[MshaFold]:
    """Return one fold per year from the fourth year of ``rows`` to ``last_complete_year``."""
    first_year = int(rows["quarter_index"].min()) // 4
    return [MshaFold(year) for year in range(first_year + 3, last_complete_year + 1)]


def fold_training_rows(rows: pd.DataFrame, fold: MshaFold) -> pd.DataFrame:
    """Return the rows whose outcome window ends on or before the fold's as-of date."""
    keep = (
        (rows["quarter_index"] + 4 <= fold.as_of_quarter)
        & (rows["hours_worked_4q"] > 0)
        & rows["outcome_complete"]
    )
    return rows[keep]


def fold_test_rows(rows: pd.DataFrame, fold: MshaFold) -> pd.DataFrame:
    """Return the mines that worked hours in the four quarters up to the fold's as-of date."""
    return rows[(rows["quarter_index"] == fold.as_of_quarter) & (rows["hours_worked_4q"] > 0)]


def rate_metrics(
    score: np.ndarray, injuries: np.ndarray, hours: np.ndarray
) -> dict[str, float | None]:
    """Return the rate-scale metrics on the rows with at least 20,000 hours in the test year."""
    keep = hours >= RATE_POPULATION_HOURS
    rate = injuries[keep] / hours[keep] * RATE_HOURS
    ranked = score[keep]
    if rate.size < 10:
        return {
            "rate_precision_top_10pct": None,
            "rate_spearman": None,
            "rate_mines": float(rate.size),
        }
    in_top_quarter = (rate >= np.quantile(rate, 0.75)).astype(float)
    k = math.ceil(0.10 * rate.size)
    # capture_top_k shares tied places at the cut-off, so ties cannot flatter a score.
    share = capture_top_k(in_top_quarter, ranked, k)
    precision = None if share is None else share * float(in_top_quarter.sum()) / k
    constant = np.all(ranked == ranked[0]) or np.all(rate == rate[0])
    spearman = None if constant else float(spearmanr(ranked, rate).statistic)
    return {
        "rate_precision_top_10pct": precision,
        "rate_spearman": spearman,
        "rate_mines": float(rate.size),
    }


def _baseline_probability(
    train: pd.DataFrame, test: pd.DataFrame, score: Callable[[pd.DataFrame], np.ndarray]
) -> np.ndarray:
    # Baselines rank but do not give probabilities; a logistic fit on the training rows makes one.
    outcome = (train["injuries_next_4q"].to_numpy() > 0).astype(int)
    if outcome.min() == outcome.max():
        return np.full(len(test), float(outcome.mean()))
    design = np.log1p(np.maximum(score(train), 0.0)).reshape(-1, 1)
    fitted = LogisticRegression().fit(design, outcome)
    return fitted.predict_proba(np.log1p(np.maximum(score(test), 0.0)).reshape(-1, 1))[:, 1]


def _metrics(
    probability: np.ndarray,
    count_score: np.ndarray,
    rate_score: np.ndarray,
    test: pd.DataFrame,
    expected: np.ndarray | None = None,
) -> dict[str, float | None]:
    injuries = test["injuries_next_4q"].to_numpy(dtype=float)
    metrics = score_metrics(
        (injuries > 0).astype(float),
        injuries,
        probability,
        expected_injuries=expected,
        ranking_score=count_score,
        capture_score=count_score,
    )
    metrics.update(rate_metrics(rate_score, injuries, test["hours_next_4q"].to_numpy(dtype=float)))
    return metrics


def score_model(model: PoissonRateModel, rows: pd.DataFrame) -> pd.DataFrame:
    """Return the model's rate, expected injuries, probability and expected rate rank per row."""
    rate = predict_rate(model, rows)
    hours = rows["hours_worked_4q"].to_numpy(dtype=float)
    expected = rate * hours
    return pd.DataFrame(
        {
            "injury_rate": rate * RATE_HOURS,
            "expected_injuries": expected,
            "risk_score": 1.0 - np.exp(-expected),
            "expected_rate_rank": expected_rate_ranks(rate, hours),
        },
        index=rows.index,
    )


def evaluate_fold(
    rows: pd.DataFrame, fold: MshaFold, states: tuple[str, ...], rounds: int = DEFAULT_ROUNDS
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit on the fold's training rows and score the model and every baseline on its test rows.

    Returns the fold's report entry and the test rows with every score, for curves and plots.
    """
    train, test = fold_training_rows(rows, fold), fold_test_rows(rows, fold)
    model = fit_poisson_rate(train, states, rounds=rounds)
    scored = score_model(model, test)
    expected = scored["expected_injuries"].to_numpy()
    results: dict[str, dict[str, float | None]] = {
        MODEL: _metrics(
            scored["risk_score"].to_numpy(),
            expected,
            scored["expected_rate_rank"].to_numpy(),
            test,
            expected,
        ),
        RAW_RATE_MODEL: _metrics(
            scored["risk_score"].to_numpy(),
            scored["injury_rate"].to_numpy(),
            scored["injury_rate"].to_numpy(),
            test,
            expected,
        ),
    }
    curves = test[["employer_id", STATE_FEATURE, "injuries_next_4q", "hours_next_4q"]].assign(
        test_year=fold.test_year,
        **{
            MODEL: expected,
            f"{MODEL}_rate_rank": scored["expected_rate_rank"],
            RAW_RATE_MODEL: scored["injury_rate"],
        },
    )
    for name, baseline in BASELINES.items():
        score = baseline(test)
        results[name] = _metrics(_baseline_probability(train, test, baseline), score, score, test)
        curves[name] = score
    overlap = {
        name: {
            "count": _top_overlap(expected, curves[name].to_numpy(float), None),
            "rate": _top_overlap(
                scored["expected_rate_rank"].to_numpy(),
                curves[name].to_numpy(float),
                test["hours_next_4q"].to_numpy(float) >= RATE_POPULATION_HOURS,
            ),
        }
        for name in (RAW_RATE_MODEL, *BASELINES)
    }
    last_train = int(train["quarter_index"].max())
    entry: dict[str, Any] = {
        "test_start": fold.as_of.date(),
        "test_end": fold.test_end.date(),
        "test_year": fold.test_year,
        "train_as_of_first": quarters.end_date_of(int(train["quarter_index"].min())).date(),
        "train_as_of_last": quarters.end_date_of(last_train).date(),
        # The latest training outcome window ends here, on or before test_start.
        "train_outcome_end": quarters.end_date_of(last_train + 4).date(),
        "n_train_rows": model.n_train_rows,
        "n_test_rows": len(test),
        "rate_test_rows": int((test["hours_next_4q"] >= RATE_POPULATION_HOURS).sum()),
        "test_injuries": int(test["injuries_next_4q"].sum()),
        "models": results,
        # Share of the model's top 10 % that the other ranking also puts in its top 10 %.
        "top_10pct_overlap": overlap,
    }
    logger.info(
        "fold %d: %d training rows, %d test mines, %d injuries; %s capture %.3f, persistence %.3f",
        fold.test_year,
        model.n_train_rows,
        len(test),
        entry["test_injuries"],
        MODEL,
        results[MODEL]["capture_top_10pct"] or float("nan"),
        results["persistence"]["capture_top_10pct"] or float("nan"),
    )
    return entry, curves


def _top_overlap(
    model_score: np.ndarray, other_score: np.ndarray, keep: np.ndarray | None
) -> float | None:
    if keep is not None:
        model_score, other_score = model_score[keep], other_score[keep]
    if model_score.size == 0:
        return None
    k = math.ceil(0.10 * model_score.size)
    model_top = set(np.argsort(-model_score, kind="stable")[:k].tolist())
    other_top = set(np.argsort(-other_score, kind="stable")[:k].tolist())
    return len(model_top & other_top) / k


def paired_bootstrap(
    differences: list[float], n_resamples: int = 10_000, seed: int = 0, level: float = 0.95
) -> dict[str, float | int | None]:
    """Return the mean of per-fold differences with a percentile bootstrap interval over folds.

    Folds are resampled with replacement, keeping each fold's model and
    baseline values together (paired), so the interval reflects how much
    the mean difference depends on which years happened to be tested.
    """
    values = np.asarray([value for value in differences if value is not None], dtype=float)
    if values.size == 0:
        return {
            "mean_difference": None,
            "ci_low": None,
            "ci_high": None,
            "folds_won": 0,
            "folds_lost": 0,
            "folds": 0,
        }
    generator = np.random.default_rng(seed)
    draws = generator.integers(0, values.size, size=(n_resamples, values.size))
    means = values[draws].mean(axis=1)
    tail = (1.0 - level) / 2.0
    return {
        "mean_difference": float(values.mean()),
        "ci_low": float(np.quantile(means, tail)),
        "ci_high": float(np.quantile(means, 1.0 - tail)),
        "folds_won": int((values > 0).sum()),
        "folds_lost": int((values < 0).sum()),
        "folds": int(values.size),
    }


def compare_to_baselines(
    folds: list[dict[str, Any]],
) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Return, per baseline and headline metric, the model's paired bootstrap comparison."""
    comparison: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for baseline in (RAW_RATE_MODEL, *BASELINES):
        comparison[baseline] = {}
        for metric in HEADLINE_METRICS:
            differences = []
            for fold in folds:
                models = fold["models"]
                model_value, baseline_value = (
                    models[MODEL].get(metric),
                    models[baseline].get(metric),
                )
                if model_value is not None and baseline_value is not None:
                    differences.append(float(model_value) - float(baseline_value))
            comparison[baseline][metric] = paired_bootstrap(differences)
    return comparison


def summarize(folds: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Return the mean over folds of every metric of every model."""
    summary: dict[str, dict[str, float | None]] = {}
    for name in MODEL_NAMES:
        metrics = [fold["models"][name] for fold in folds]
        summary[name] = {}
        for metric in metrics[0]:
            values = [value for entry in metrics if (value := entry.get(metric)) is not None]
            summary[name][metric] = float(np.mean(values)) if values else None
    return summary
