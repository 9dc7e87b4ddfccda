"""Baselines the risk model must beat, fitted and calibrated the same way as the model.

Each baseline is a scikit-learn classifier over panel rows. Its raw score
(``decision_function`` or ``predict_proba``) orders employers, and the same
calibration step as the XGBoost classifier (:mod:`risk.model.calibration`)
turns that score into a probability on the calibration slice.

- ``risk_class``: the training-set share of employers with an injury in each
  work-injury insurance risk class (1-8) of the industry.
- ``last_year_rate``: injuries in the last 12 months per 100 insured workers,
  the ranking rule of OSHA's Site-Specific Targeting programme (establishments
  with the highest injury and illness rates of the previous year).
- ``peer_percentile``: the percentile of that rate among employers of the
  same industry division on the same as-of date.
- ``logistic``: logistic regression on the model's own features (median
  imputation with missing indicators, signed log transform, scaling, one-hot
  categories).

The ``oracle`` (see :mod:`risk.model.oracle`) is not a baseline: it scores
with the true rates that only demo data have.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from risk.model.schema import FeatureSchema

logger = logging.getLogger(__name__)

RISK_CLASS_FEATURE = "industry_risk_class"
LAST_YEAR_RATE_FEATURE = "incident_rate_per_100_12m"
PEER_GROUP_FEATURE = "industry_division"
PEER_PERCENTILE_COLUMN = "peer_percentile"

BASELINE_NAMES: tuple[str, ...] = ("logistic", "risk_class", "last_year_rate", "peer_percentile")
# Panel columns each baseline reads, beyond the model's features.
BASELINE_INPUTS: dict[str, tuple[str, ...]] = {
    "risk_class": (RISK_CLASS_FEATURE,),
    "last_year_rate": (LAST_YEAR_RATE_FEATURE,),
    "peer_percentile": (PEER_PERCENTILE_COLUMN,),
}


def _binary_classes() -> npt.NDArray[np.int64]:
    return np.array([0, 1], dtype=np.int64)


def _two_columns(positive: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.column_stack([1.0 - positive, positive])


class RiskClassBaseline(ClassifierMixin, BaseEstimator):
    """Training-set injury frequency per industry risk class.

    Parameters
    ----------
    column : str, default="industry_risk_class"
        Panel column holding the risk class.

    Attributes
    ----------
    rates_ : dict
        Share of training rows with an injury, by risk class.
    overall_rate_ : float
        Share over all training rows; used for a class absent from training.
    classes_ : ndarray
        ``[0, 1]``.
    """

    def __init__(self, column: str = RISK_CLASS_FEATURE) -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> RiskClassBaseline:
        """Count the injury frequency of each risk class in the training rows."""
        outcome = pd.Series(np.asarray(y, dtype=np.float64), index=X.index)
        self.rates_ = outcome.groupby(X[self.column], observed=True).mean().to_dict()
        self.overall_rate_ = float(outcome.mean())
        self.classes_ = _binary_classes()
        return self

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the training frequency of each row's risk class."""
        check_is_fitted(self)
        rates = X[self.column].map(self.rates_).astype(np.float64).fillna(self.overall_rate_)
        return _two_columns(rates.to_numpy())

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:
        """Return 1 where the class frequency is at least one half."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


class ColumnScoreBaseline(ClassifierMixin, BaseEstimator):
    """A baseline whose score is one panel column, transformed by ``log1p``.

    Used for ``last_year_rate`` (the rate column) and ``peer_percentile``.
    A missing value (no headcount known, so no rate) scores as 0, the score of
    an employer with no recorded injury.

    Parameters
    ----------
    column : str
        Panel column holding the score.

    Attributes
    ----------
    classes_ : ndarray
        ``[0, 1]``.
    """

    def __init__(self, column: str = LAST_YEAR_RATE_FEATURE) -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> ColumnScoreBaseline:
        """Record the classes; the score itself needs no fitting."""
        self.classes_ = _binary_classes()
        return self

    def decision_function(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return ``log1p`` of the column; the log keeps sigmoid calibration off extreme rates."""
        check_is_fitted(self)
        values = pd.to_numeric(X[self.column], errors="coerce").astype(np.float64).fillna(0.0)
        return np.log1p(np.maximum(values.to_numpy(), 0.0))

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.int64]:
        """Return 1 where the score is positive."""
        return (self.decision_function(X) > 0).astype(np.int64)


def add_peer_percentile(panel: pd.DataFrame) -> pd.DataFrame:
    """Return ``panel`` with ``peer_percentile``: the rate's percentile in its industry division.

    Percentiles are taken among employers of the same industry division on the
    same as-of date, ties sharing their average rank. A missing rate counts
    as 0 and a missing division forms its own group.
    """
    rate = pd.to_numeric(panel[LAST_YEAR_RATE_FEATURE], errors="coerce").fillna(0.0)
    groups = [panel["as_of"], panel[PEER_GROUP_FEATURE].astype("object").fillna("")]
    result = panel.copy()
    result[PEER_PERCENTILE_COLUMN] = rate.groupby(groups).rank(pct=True, method="average")
    return result


def _signed_log1p(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.sign(values) * np.log1p(np.abs(values))


def _as_text(values: pd.DataFrame) -> pd.DataFrame:
    # OneHotEncoder needs one missing marker of one type, so categories become text.
    return values.astype("object").where(values.notna(), "__missing__").astype(str)


def make_logistic_baseline(schema: FeatureSchema, random_state: int = 0) -> Pipeline:
    """Return the logistic-regression pipeline over the features of ``schema``."""
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"),
        StandardScaler(),
    )
    categorical = make_pipeline(
        FunctionTransformer(_as_text, feature_names_out="one-to-one"),
        OneHotEncoder(handle_unknown="ignore", min_frequency=20),
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric, schema.numeric_features),
            ("categorical", categorical, list(schema.categories)),
        ]
    )
    return Pipeline(
        [
            ("columns", columns),
            ("model", LogisticRegression(max_iter=2000, random_state=random_state)),
        ]
    )


def make_baseline(name: str, schema: FeatureSchema, random_state: int = 0) -> Any:
    """Return the unfitted baseline ``name`` (one of :data:`BASELINE_NAMES`)."""
    if name == "logistic":
        return make_logistic_baseline(schema, random_state)
    if name == "risk_class":
        return RiskClassBaseline()
    if name == "last_year_rate":
        return ColumnScoreBaseline(LAST_YEAR_RATE_FEATURE)
    if name == "peer_percentile":
        return ColumnScoreBaseline(PEER_PERCENTILE_COLUMN)
    raise ValueError(f"unknown baseline {name!r}; expected one of {BASELINE_NAMES}")
