"""The risk model: a calibrated XGBoost classifier and an XGBoost Poisson count model.

Both boosters read the same features, with native categorical splits
(``enable_categorical=True``, ``tree_method="hist"``). The panel's as-of dates
are cut into time-ordered slices (see :mod:`risk.model.slices`)::

    fit rows: as_of + horizon <= c | purged dates | c: latest as-of date

The boosters are fitted on the fit rows and stop adding trees when the log
loss (classifier) or Poisson negative log-likelihood (count model) on ``c``
has not improved for ``early_stopping_rounds`` rounds. The classifier's
probabilities are then calibrated on ``c`` (see :mod:`risk.model.calibration`),
and the count model's expected counts are scaled so that their sum on ``c``
equals the observed count.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from xgboost import XGBClassifier, XGBRegressor

from risk.errors import ModelError
from risk.model.calibration import (
    CalibrationChoice,
    CalibrationMethod,
    choose_calibration,
    fit_calibrated,
)
from risk.model.exposure import EXPOSURE_FEATURE, CountOffset
from risk.model.fingerprint import panel_fingerprint
from risk.model.schema import (
    UNKNOWN_CATEGORIES_COLUMN,
    FeatureSchema,
    PreparedFeatures,
    infer_feature_names,
)
from risk.model.slices import TimeSlices, slice_masks, split_time_slices

logger = logging.getLogger(__name__)

DEFAULT_HORIZON_DAYS = 365
PREDICTION_COLUMNS: tuple[str, ...] = (
    "risk_score",
    "expected_injuries",
    "uncalibrated_score",
    UNKNOWN_CATEGORIES_COLUMN,
)
_REQUIRED_PANEL_COLUMNS: tuple[str, ...] = ("employer_id", "as_of", "injury_any", "injury_count")


@dataclass(frozen=True)
class XGBParams:
    """Hyper-parameters of both boosters.

    The defaults are fixed and were not tuned on any test fold. Shallow trees
    (depth 4), a small learning rate (0.05) and row and column subsampling
    (0.8) are the usual robust start for tabular data of tens of thousands of
    rows. ``min_child_weight=10`` keeps leaves from fitting a handful of rare
    injuries. ``n_estimators`` is only an upper bound, because early stopping
    on the later time slice picks the number of trees.
    ``max_cat_to_onehot=1`` makes XGBoost partition categories (industry
    division has 97) instead of one-hot splitting them.
    """

    n_estimators: int = 2000
    learning_rate: float = 0.05
    max_depth: int = 4
    min_child_weight: float = 10.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    max_bin: int = 256
    max_cat_to_onehot: int = 1
    early_stopping_rounds: int = 100
    random_state: int = 20240917
    n_jobs: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a plain dictionary."""
        return asdict(self)

    def booster_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments shared by ``XGBClassifier`` and ``XGBRegressor``."""
        kwargs = self.to_dict()
        return {
            **kwargs,
            "tree_method": "hist",
            "enable_categorical": True,
        }


@dataclass(frozen=True)
class TrainingSummary:
    """Training record of a model: slices, row counts, stopping points and data fingerprint."""

    horizon_days: int
    slices: TimeSlices
    n_rows: dict[str, int]
    n_positive: dict[str, int]
    best_iteration: dict[str, int]
    count_scale: float
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON types."""
        payload = asdict(self)
        payload["slices"] = self.slices.to_dict()
        return payload


@dataclass
class RiskModel:
    """A fitted risk model: calibrated P(at least one injury) and expected injuries.

    Attributes
    ----------
    schema : FeatureSchema
        Feature names and category vocabularies of the training panel.
    classifier : XGBClassifier
        The booster of ``injury_any``; SHAP explanations read it.
    calibrator : CalibratedClassifierCV
        ``classifier`` frozen, with a calibrator fitted on the calibration slice.
    count_model : XGBRegressor
        The ``count:poisson`` booster of ``injury_count``.
    calibration : CalibrationChoice
        The calibration method and the scores that chose it.
    params : XGBParams
        Hyper-parameters of both boosters.
    summary : TrainingSummary
        Slices, row counts, stopping points, count scale and fingerprint.
    count_offset : CountOffset or None
        The count model's exposure offset; None when the features have no
        headcount.
    """

    schema: FeatureSchema
    classifier: XGBClassifier
    calibrator: CalibratedClassifierCV
    count_model: XGBRegressor
    calibration: CalibrationChoice
    params: XGBParams
    summary: TrainingSummary
    count_offset: CountOffset | None = None

    @property
    def feature_names(self) -> list[str]:
        """Feature names in training order."""
        return list(self.schema.feature_names)

    @property
    def horizon_days(self) -> int:
        """Length of the outcome window the model predicts, in days."""
        return self.summary.horizon_days

    def prepare(self, frame: pd.DataFrame) -> PreparedFeatures:
        """Cast ``frame`` to the training dtypes (see :meth:`FeatureSchema.prepare`)."""
        return self.schema.prepare(frame)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score each row of ``frame``.

        Returns
        -------
        DataFrame
            Same index as ``frame``. ``risk_score`` is the calibrated
            probability of at least one non-commuting injury in the horizon.
            ``uncalibrated_score`` is the classifier's own probability, which
            orders rows that calibration ties. ``unknown_categories`` lists,
            comma-separated, the features whose category was unseen in
            training and so scored as missing. ``expected_injuries`` is the
            expected count.
        """
        prepared = self.prepare(frame)
        features = prepared.frame
        expected = _predict_counts(self.count_model, self.count_offset, features)
        expected = expected * self.summary.count_scale
        return pd.DataFrame(
            {
                "risk_score": self.calibrator.predict_proba(features)[:, 1],
                "expected_injuries": expected.astype(np.float64),
                "uncalibrated_score": self.classifier.predict_proba(features)[:, 1],
                UNKNOWN_CATEGORIES_COLUMN: prepared.unknown_categories,
            },
            index=frame.index,
        )


def check_panel(panel: pd.DataFrame) -> None:
    """Raise :class:`ModelError` when ``panel`` lacks keys or outcomes or repeats a key."""
    missing = [column for column in _REQUIRED_PANEL_COLUMNS if column not in panel.columns]
    if missing:
        raise ModelError(
            f"面板缺少列 / panel lacks columns {missing!r}; "
            "build it with risk.panel.build_panel "
            f"(columns present: {list(panel.columns)[:5]!r}, …)"
        )
    duplicated = panel.duplicated(["employer_id", "as_of"])
    if duplicated.any():
        first = panel.loc[duplicated, ["employer_id", "as_of"]].iloc[0]
        raise ModelError(
            f"面板中 (employer_id, as_of) 重复 / panel repeats (employer_id, as_of) "
            f"{duplicated.sum()} times, first ({first['employer_id']!r}, {first['as_of']!s})"
        )


def _fit_classifier(
    features: pd.DataFrame, outcome: np.ndarray, masks: dict[str, np.ndarray], params: XGBParams
) -> XGBClassifier:
    classifier = XGBClassifier(
        objective="binary:logistic", eval_metric="logloss", **params.booster_kwargs()
    )
    classifier.fit(
        features[masks["fit"]],
        outcome[masks["fit"]],
        eval_set=[(features[masks["early_stopping"]], outcome[masks["early_stopping"]])],
        verbose=False,
    )
    return classifier


def _predict_counts(
    count_model: XGBRegressor, offset: CountOffset | None, features: pd.DataFrame
) -> np.ndarray:
    margin = None if offset is None else offset.margin(features)
    return np.asarray(count_model.predict(features, base_margin=margin), dtype=np.float64)


def _fit_count_model(
    features: pd.DataFrame,
    counts: np.ndarray,
    masks: dict[str, np.ndarray],
    params: XGBParams,
    exposure_feature: str | None,
) -> tuple[XGBRegressor, CountOffset | None, float]:
    """Fit the Poisson booster with its exposure offset; return it, the offset and the scale."""
    fit, stop, calibrate = masks["fit"], masks["early_stopping"], masks["calibration"]
    offset = None
    if exposure_feature is not None and exposure_feature in features.columns:
        offset = CountOffset.fit(features[fit], counts[fit], exposure_feature)
    count_model = XGBRegressor(
        objective="count:poisson", eval_metric="poisson-nloglik", **params.booster_kwargs()
    )
    count_model.fit(
        features[fit],
        counts[fit],
        base_margin=None if offset is None else offset.margin(features[fit]),
        eval_set=[(features[stop], counts[stop])],
        base_margin_eval_set=None if offset is None else [offset.margin(features[stop])],
        verbose=False,
    )

    # Scaling by observed / predicted is the maximum-likelihood intercept shift
    # of a Poisson model, so the latest slice sets the overall level.
    predicted = float(np.sum(_predict_counts(count_model, offset, features[calibrate])))
    scale = float(np.sum(counts[calibrate])) / predicted if predicted > 0 else 1.0
    return count_model, offset, scale


def fit_risk_model(
    panel: pd.DataFrame,
    *,
    feature_names: list[str] | tuple[str, ...] | None = None,
    params: XGBParams | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    calibration_method: CalibrationMethod | Literal["auto"] = "auto",
    exposure_feature: str | None = EXPOSURE_FEATURE,
) -> RiskModel:
    """Fit the classifier, its calibration and the count model on a panel.

    Parameters
    ----------
    panel : DataFrame
        Rows of ``employer_id``, ``as_of``, features, ``injury_any`` and
        ``injury_count``, all with outcomes known (``as_of + horizon`` on or
        before the data end). The earliest as-of date must end its outcome
        window by the latest date (see :mod:`risk.model.slices`).
    feature_names : sequence of str, optional
        Feature columns; default every column except keys and outcomes.
    params : XGBParams, optional
        Hyper-parameters; default ``XGBParams()``.
    horizon_days : int, default=365
        Outcome window of the panel's labels, recorded with the model.
    calibration_method : {"auto", "isotonic", "sigmoid"}, default="auto"
        "auto" picks the method with the lower out-of-fold Brier score on the
        calibration slice.
    exposure_feature : str or None, default="insured_headcount"
        Feature that sets the count model's exposure offset (see
        :mod:`risk.model.exposure`); None, or a name absent from the
        features, fits the count model without an offset.

    Raises
    ------
    ModelError
        When the panel lacks columns, repeats a key, spans too few as-of
        dates or has a calibration slice with one outcome class only.
    """
    check_panel(panel)
    params = params or XGBParams()
    names = list(feature_names) if feature_names is not None else infer_feature_names(panel)
    schema = FeatureSchema.from_frame(panel, names)
    slices = split_time_slices(panel["as_of"], horizon_days)
    masks = slice_masks(panel["as_of"], slices)

    features = schema.prepare(panel).frame.reset_index(drop=True)
    outcome = panel["injury_any"].to_numpy(dtype=np.int64)
    counts = panel["injury_count"].to_numpy(dtype=np.float64)

    classifier = _fit_classifier(features, outcome, masks, params)
    count_model, offset, count_scale = _fit_count_model(
        features, counts, masks, params, exposure_feature
    )
    calibration_rows = features[masks["calibration"]]
    choice = choose_calibration(
        classifier,
        calibration_rows,
        outcome[masks["calibration"]],
        method=calibration_method,
        random_state=params.random_state,
    )
    calibrator = fit_calibrated(
        classifier, calibration_rows, outcome[masks["calibration"]], choice.method
    )

    summary = TrainingSummary(
        horizon_days=horizon_days,
        slices=slices,
        n_rows={name: int(mask.sum()) for name, mask in masks.items()},
        n_positive={name: int(outcome[mask].sum()) for name, mask in masks.items()},
        best_iteration={
            "classifier": int(classifier.best_iteration),
            "count_model": int(count_model.best_iteration),
        },
        count_scale=count_scale,
        fingerprint=panel_fingerprint(panel, names),
    )
    logger.info(
        "fitted risk model: %d fit rows, as_of %s..%s, %d trees (classifier), %d trees (count), "
        "calibration %s",
        summary.n_rows["fit"],
        slices.fit_as_of[0],
        slices.calibration_as_of,
        summary.best_iteration["classifier"] + 1,
        summary.best_iteration["count_model"] + 1,
        choice.method,
    )
    return RiskModel(schema, classifier, calibrator, count_model, choice, params, summary, offset)
