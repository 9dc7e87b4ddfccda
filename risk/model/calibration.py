"""Probability calibration on a later time slice than the one a classifier was fitted on.

The fitted classifier is wrapped in :class:`sklearn.frozen.FrozenEstimator`, so
:class:`~sklearn.calibration.CalibratedClassifierCV` fits only the calibrator
and never refits the classifier. scikit-learn 1.6 introduced this wrapper in
place of ``cv="prefit"``, which scikit-learn 1.9 no longer accepts.

The method, isotonic or sigmoid (Platt), is chosen on the calibration slice
itself by stratified k-fold cross-validation. Each candidate calibrator is
fitted on k-1 folds and scored on the held-out fold. The method with the lower
out-of-fold Brier score wins, and ECE is recorded beside it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold

from risk.errors import ModelError
from risk.model.metrics import brier, expected_calibration_error

logger = logging.getLogger(__name__)

CalibrationMethod = Literal["isotonic", "sigmoid"]
CALIBRATION_METHODS: tuple[CalibrationMethod, ...] = ("isotonic", "sigmoid")
DEFAULT_CALIBRATION_FOLDS = 5


@dataclass(frozen=True)
class CalibrationChoice:
    """The calibration method used and the out-of-fold scores that chose it.

    Attributes
    ----------
    method : {"isotonic", "sigmoid"}
        The method fitted on the whole calibration slice.
    brier : dict
        Out-of-fold Brier score of each method tried; empty when the method
        was fixed by the caller or the slice was too small to compare.
    ece : dict
        Out-of-fold expected calibration error of each method tried.
    n_rows, n_positive : int
        Size of the calibration slice and its number of rows with an injury.
    """

    method: CalibrationMethod
    brier: dict[str, float | None] = field(default_factory=dict)
    ece: dict[str, float | None] = field(default_factory=dict)
    n_rows: int = 0
    n_positive: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the choice as plain JSON types."""
        return {
            "method": self.method,
            "brier": dict(self.brier),
            "ece": dict(self.ece),
            "n_rows": self.n_rows,
            "n_positive": self.n_positive,
        }


def fit_calibrated(
    estimator: Any, features: pd.DataFrame, outcome: npt.ArrayLike, method: CalibrationMethod
) -> CalibratedClassifierCV:
    """Fit a calibrator of ``method`` on top of the already fitted ``estimator``.

    ``estimator`` is frozen, so only the calibrator learns from these rows.
    """
    calibrated = CalibratedClassifierCV(FrozenEstimator(estimator), method=method)
    return calibrated.fit(features, np.asarray(outcome, dtype=np.int64))


class _PrecomputedScore(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose decision function is the first column of its input.

    The method comparison calibrates the same raw scores ten times, so they
    are computed once and passed through this wrapper instead of re-running
    the real model for every fold.
    """

    def fit(self, X: npt.NDArray[np.float64], y: npt.ArrayLike) -> _PrecomputedScore:
        """Record the classes; there is nothing else to fit."""
        self.classes_ = np.array([0, 1], dtype=np.int64)
        return self

    def decision_function(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the precomputed score."""
        return np.asarray(X, dtype=np.float64)[:, 0]

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Return 1 where the score is positive (required by scikit-learn, unused here)."""
        return (self.decision_function(X) > 0).astype(np.int64)


def raw_calibration_input(estimator: Any, features: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Return the score CalibratedClassifierCV calibrates: ``decision_function``, else P(y=1)."""
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(features), dtype=np.float64)
    return np.asarray(estimator.predict_proba(features)[:, 1], dtype=np.float64)


def _out_of_fold_scores(
    raw: npt.NDArray[np.float64],
    outcome: npt.NDArray[np.int64],
    method: CalibrationMethod,
    splitter: StratifiedKFold,
) -> npt.NDArray[np.float64]:
    passthrough = _PrecomputedScore().fit(raw[:, None], outcome)
    scores = np.zeros(outcome.size, dtype=np.float64)
    for fit_rows, held_out in splitter.split(raw[:, None], outcome):
        calibrated = CalibratedClassifierCV(FrozenEstimator(passthrough), method=method)
        calibrated.fit(raw[fit_rows, None], outcome[fit_rows])
        scores[held_out] = calibrated.predict_proba(raw[held_out, None])[:, 1]
    return scores


def choose_calibration(
    estimator: Any,
    features: pd.DataFrame,
    outcome: npt.ArrayLike,
    *,
    method: CalibrationMethod | Literal["auto"] = "auto",
    n_splits: int = DEFAULT_CALIBRATION_FOLDS,
    random_state: int = 0,
) -> CalibrationChoice:
    """Choose the calibration method for ``estimator`` on the calibration slice.

    Parameters
    ----------
    estimator : fitted classifier
        Has ``predict_proba`` or ``decision_function``; it is never refitted.
    features, outcome : DataFrame, array-like of 0/1
        The calibration slice, later in time than the estimator's training rows.
    method : {"auto", "isotonic", "sigmoid"}, default="auto"
        "auto" compares both by out-of-fold Brier score; a fixed method skips
        the comparison.
    n_splits : int, default=5
        Folds of the comparison. With fewer rows with (or without) an injury
        than folds, "auto" falls back to sigmoid, which has two parameters
        and does not overfit small slices the way isotonic steps do.
    random_state : int, default=0
        Seed of the fold shuffle.

    Raises
    ------
    ModelError
        When the slice has only one outcome class, so nothing can be calibrated.
    """
    y = np.asarray(outcome, dtype=np.int64)
    n_positive = int(y.sum())
    if n_positive == 0 or n_positive == y.size:
        raise ModelError(
            "校准数据只有一种结局，无法校准 / the calibration slice has only one outcome class "
            f"({n_positive} of {y.size} rows with an injury); "
            "use more as-of dates or more employers"
        )
    if method != "auto":
        return CalibrationChoice(method, n_rows=y.size, n_positive=n_positive)
    if min(n_positive, y.size - n_positive) < n_splits:
        logger.info(
            "calibration slice too small to compare methods (%d positives); using sigmoid",
            n_positive,
        )
        return CalibrationChoice("sigmoid", n_rows=y.size, n_positive=n_positive)

    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    raw = raw_calibration_input(estimator, features)
    brier_by_method: dict[str, float | None] = {}
    ece_by_method: dict[str, float | None] = {}
    for candidate in CALIBRATION_METHODS:
        scores = _out_of_fold_scores(raw, y, candidate, splitter)
        brier_by_method[candidate] = brier(y, scores)
        ece_by_method[candidate] = expected_calibration_error(y, scores)

    # Ties go to sigmoid: it keeps the ranking strictly monotone.
    chosen: CalibrationMethod = (
        "isotonic"
        if (brier_by_method["isotonic"] or 0.0) < (brier_by_method["sigmoid"] or 0.0)
        else "sigmoid"
    )
    logger.info(
        "calibration: chose %s (out-of-fold Brier isotonic %.6f, sigmoid %.6f)",
        chosen,
        brier_by_method["isotonic"],
        brier_by_method["sigmoid"],
    )
    return CalibrationChoice(chosen, brier_by_method, ece_by_method, y.size, n_positive)
