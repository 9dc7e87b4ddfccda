"""Time-ordered backtests of the risk model against the baselines and the oracle.

Design (rolling origin over the quarterly as-of grid): there is one fold per
test as-of date ``t``, taken from the last ``n_folds`` dates of the grid (all
of whose outcome windows are complete). A fold trains only on panel rows whose
outcome window ended on or before ``t`` (``as_of + horizon_days <= t``), so
no injury after ``t`` reaches the fit, the early stopping or the calibration.
Inside those rows the latest as-of date stops the boosting and calibrates,
and the boosters fit on the rows whose outcome window ends by that date (see
:mod:`risk.model.slices`). The test rows are the panel
rows with ``as_of == t``, scored against injuries in ``(t, t + horizon_days]``.

Every model is scored on the same test rows: XGBoost, the four baselines of
:mod:`risk.model.baselines` (fitted on the rows whose outcome window ends by
the calibration date and calibrated on that date, as XGBoost is) and, when
the true rates are known, the oracle.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from risk.errors import ModelError
from risk.features import FEATURE_NAMES
from risk.labels import DEFAULT_HORIZON_DAYS, as_of_grid
from risk.model.baselines import (
    BASELINE_NAMES,
    add_peer_percentile,
    make_baseline,
)
from risk.model.calibration import choose_calibration, fit_calibrated, raw_calibration_input
from risk.model.fingerprint import panel_fingerprint
from risk.model.metrics import ratios_to_oracle
from risk.model.oracle import ORACLE_COLUMN, attach_oracle, oracle_scores
from risk.model.report import MODEL_NAMES, BacktestReport, FoldResult
from risk.model.schema import FeatureSchema, infer_feature_names
from risk.model.scores import ModelScores, evaluate_scores, size_band
from risk.model.slices import as_of_dates, can_split, split_time_slices
from risk.model.xgb import XGBParams, check_panel, fit_risk_model
from risk.panel import build_panel
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)

DEFAULT_N_FOLDS = 4
ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class Fold:
    """One test as-of date and the as-of dates whose rows may train for it."""

    test_as_of: dt.date
    train_as_of: tuple[dt.date, ...]


def plan_folds(as_of_dates: Iterable[dt.date], horizon_days: int, n_folds: int) -> list[Fold]:
    """Return one fold per test date among the last ``n_folds`` as-of dates.

    A test date whose trainable dates cannot be cut into fit, early-stopping
    and calibration slices (see :mod:`risk.model.slices`) is skipped and logged.

    Raises
    ------
    ModelError
        When ``n_folds`` is not positive or no test date has enough history.
    """
    if n_folds < 1:
        raise ModelError(f"n_folds must be at least 1, got {n_folds!r}")
    dates = sorted(set(as_of_dates))
    horizon = dt.timedelta(days=horizon_days)
    folds = []
    for test_as_of in dates[-n_folds:]:
        train = tuple(day for day in dates if day + horizon <= test_as_of)
        if not can_split(list(train), horizon_days):
            logger.warning(
                "skipping fold %s: only %d as-of dates end their outcome window before it",
                test_as_of,
                len(train),
            )
            continue
        folds.append(Fold(test_as_of, train))
    if not folds:
        raise ModelError(
            "回测没有可用的折 / no backtest fold has enough training as-of dates: "
            f"{len(dates)} as-of dates from {dates[0] if dates else None} to "
            f"{dates[-1] if dates else None} with a {horizon_days}-day horizon; "
            "use a longer history or a shorter horizon"
        )
    return folds


def training_rows(panel: pd.DataFrame, fold: Fold, horizon_days: int) -> pd.DataFrame:
    """Return the panel rows allowed to train ``fold``: ``as_of + horizon_days <= test as-of``."""
    as_of = pd.to_datetime(panel["as_of"])
    outcome_end = as_of + pd.Timedelta(days=horizon_days)
    allowed = as_of.dt.date.isin(fold.train_as_of) & (outcome_end <= pd.Timestamp(fold.test_as_of))
    return panel[allowed.to_numpy()].reset_index(drop=True)


def score_xgboost(
    train: pd.DataFrame, test: pd.DataFrame, names: list[str], params: XGBParams, horizon_days: int
) -> ModelScores:
    """Fit the risk model on ``train`` and score ``test``; ranks by the uncalibrated probability."""
    model = fit_risk_model(train, feature_names=names, params=params, horizon_days=horizon_days)
    predicted = model.predict(test)
    return ModelScores(
        risk_score=predicted["risk_score"].to_numpy(),
        ranking_score=predicted["uncalibrated_score"].to_numpy(),
        expected_injuries=predicted["expected_injuries"].to_numpy(),
        calibration_method=model.calibration.method,
    )


def score_baseline(
    name: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    schema: FeatureSchema,
    seed: int,
    horizon_days: int,
) -> ModelScores:
    """Fit baseline ``name`` on ``train``, calibrate it on its latest date and score ``test``."""
    # Baselines fit on every row whose outcome window ends by the calibration
    # date, the same rows as XGBoost's fit rows.
    calibration_as_of = split_time_slices(train["as_of"], horizon_days).calibration_as_of
    as_of = pd.to_datetime(train["as_of"])
    is_calibration = (as_of.dt.date == calibration_as_of).to_numpy()
    is_fit = (as_of + pd.Timedelta(days=horizon_days) <= pd.Timestamp(calibration_as_of)).to_numpy()

    def inputs(frame: pd.DataFrame) -> pd.DataFrame:
        # The logistic model reads the cast features; the others read panel columns.
        return schema.prepare(frame).frame if name == "logistic" else frame

    estimator = make_baseline(name, schema, seed)
    estimator.fit(inputs(train[is_fit]), train.loc[is_fit, "injury_any"].to_numpy())
    calibration_frame = inputs(train[is_calibration])
    outcome = train.loc[is_calibration, "injury_any"].to_numpy()
    choice = choose_calibration(estimator, calibration_frame, outcome, random_state=seed)
    calibrated = fit_calibrated(estimator, calibration_frame, outcome, choice.method)
    test_inputs = inputs(test)
    return ModelScores(
        risk_score=calibrated.predict_proba(test_inputs)[:, 1],
        ranking_score=raw_calibration_input(estimator, test_inputs),
        calibration_method=choice.method,
    )


def score_oracle(test: pd.DataFrame) -> ModelScores:
    """Score ``test`` with its ``oracle_expected_injuries`` column."""
    risk_score, expected = oracle_scores(test[ORACLE_COLUMN].to_numpy())
    return ModelScores(risk_score=risk_score, ranking_score=expected, expected_injuries=expected)


# Earlier names of the scorers, still imported by risk.evaluation.compare.
_score_xgboost = score_xgboost
_score_baseline = score_baseline
_score_oracle = score_oracle


def _evaluate_fold(
    panel: pd.DataFrame,
    fold: Fold,
    names: list[str],
    models: Sequence[str],
    params: XGBParams,
    horizon_days: int,
    progress: ProgressCallback,
) -> FoldResult:
    train = training_rows(panel, fold, horizon_days)
    test = panel[pd.to_datetime(panel["as_of"]).dt.date == fold.test_as_of].reset_index(drop=True)
    schema = FeatureSchema.from_frame(train, names)
    results: dict[str, dict[str, object]] = {}
    for model in models:
        progress(f"{fold.test_as_of} {model}")
        if model == "xgboost":
            scores = score_xgboost(train, test, names, params, horizon_days)
        elif model == "oracle":
            scores = score_oracle(test)
        else:
            scores = score_baseline(model, train, test, schema, params.random_state, horizon_days)
        results[model] = evaluate_scores(scores, test)

    if "oracle" in results:
        for model, entry in results.items():
            if model != "oracle":
                entry.update(ratios_to_oracle(entry, results["oracle"]))  # type: ignore[arg-type]
    return FoldResult(
        test_as_of=fold.test_as_of,
        horizon_days=horizon_days,
        train_as_of=fold.train_as_of,
        calibration_as_of=fold.train_as_of[-1],
        n_train_rows=len(train),
        n_test_rows=len(test),
        test_injuries=int(test["injury_count"].sum()),
        models=results,  # type: ignore[arg-type]
    )


def _check_models(models: Sequence[str], panel: pd.DataFrame) -> list[str]:
    unknown = [name for name in models if name not in MODEL_NAMES]
    if unknown:
        raise ModelError(f"unknown models {unknown!r}; expected names from {MODEL_NAMES!r}")
    chosen = [name for name in MODEL_NAMES if name in models]
    if "oracle" in chosen and ORACLE_COLUMN not in panel.columns:
        logger.info("no true rates given, so the oracle is left out")
        chosen.remove("oracle")
    return chosen


def backtest_panel(
    panel: pd.DataFrame,
    *,
    horizon_days: int,
    n_folds: int = DEFAULT_N_FOLDS,
    feature_names: Sequence[str] | None = None,
    params: XGBParams | None = None,
    models: Sequence[str] = MODEL_NAMES,
    progress: ProgressCallback | None = None,
) -> BacktestReport:
    """Backtest the models on a panel (see the module docstring for the fold design).

    Parameters
    ----------
    panel : DataFrame
        Output of :func:`risk.panel.build_panel` over the as-of grid; with an
        ``oracle_expected_injuries`` column the oracle runs too.
    horizon_days : int
        Outcome window of the panel's labels.
    n_folds : int, default=4
        Number of test as-of dates, the latest ones.
    feature_names : sequence of str, optional
        Model features; default every column except keys, outcomes and the oracle.
    params : XGBParams, optional
        XGBoost hyper-parameters.
    models : sequence of str, default all of :data:`MODEL_NAMES`
        Models to run.
    progress : callable, optional
        Called with a short text before each model of each fold.
    """
    check_panel(panel)
    params = params or XGBParams()
    names = list(feature_names) if feature_names is not None else infer_feature_names(panel)
    chosen = _check_models(models, panel)
    if "peer_percentile" in chosen:
        panel = add_peer_percentile(panel)
    folds = plan_folds(as_of_dates(panel["as_of"]), horizon_days, n_folds)

    results = []
    for number, fold in enumerate(folds, start=1):
        logger.info("backtest fold %d/%d: test as_of %s", number, len(folds), fold.test_as_of)
        results.append(
            _evaluate_fold(
                panel, fold, names, chosen, params, horizon_days, progress or (lambda _: None)
            )
        )
    return BacktestReport(
        horizon_days=horizon_days,
        folds=results,
        data_fingerprint=panel_fingerprint(panel, names),
        feature_names=names,
        xgboost_params=params.to_dict(),
    )


def build_grid_panel(
    tables: CanonicalTables, horizon_days: int, truth: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Build the panel over every quarterly as-of date of ``tables`` with a complete outcome.

    With ``truth`` (true monthly expected injuries) the panel also contains the
    oracle's ``oracle_expected_injuries`` column.

    Raises
    ------
    ModelError
        When the data are too short for one as-of date with a complete outcome.
    """
    grid = as_of_grid(tables, horizon_days)
    if not grid:
        raise ModelError(
            f"数据时间太短 / the data are too short for a {horizon_days}-day horizon: incidents "
            f"span {tables.data_start()} to {tables.data_end()}, and an as-of date needs 12 months "
            "of history before it and a complete outcome window after it"
        )
    panel = build_panel(tables, grid, horizon_days)
    return panel if truth is None else attach_oracle(panel, truth, horizon_days)


def run_backtest(
    tables: CanonicalTables,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    n_folds: int = DEFAULT_N_FOLDS,
    truth: pd.DataFrame | None = None,
    params: XGBParams | None = None,
    models: Sequence[str] = MODEL_NAMES,
    progress: ProgressCallback | None = None,
) -> BacktestReport:
    """Build the panel over the quarterly as-of grid of ``tables`` and backtest it.

    Parameters
    ----------
    tables : CanonicalTables
        The data, e.g. from :func:`risk.store.read.read_tables`.
    truth : DataFrame, optional
        True monthly expected injuries (``employer_id``, ``month``,
        ``expected_injuries``), known for demo data only; enables the oracle.

    The other parameters are those of :func:`backtest_panel`; the features are
    :data:`risk.features.FEATURE_NAMES`.
    """
    return backtest_panel(
        build_grid_panel(tables, horizon_days, truth),
        horizon_days=horizon_days,
        n_folds=n_folds,
        feature_names=list(FEATURE_NAMES),
        params=params,
        models=models,
        progress=progress,
    )


__all__ = [
    "BASELINE_NAMES",
    "DEFAULT_N_FOLDS",
    "Fold",
    "ModelScores",
    "attach_oracle",
    "backtest_panel",
    "build_grid_panel",
    "evaluate_scores",
    "plan_folds",
    "run_backtest",
    "score_baseline",
    "score_oracle",
    "score_xgboost",
    "size_band",
    "training_rows",
]
