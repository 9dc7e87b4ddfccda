"""Batch scoring: risk score, expected injuries, band, percentiles and SHAP contributions.

:func:`score_employers` scores every employer of the tables as of one date
with a fitted :class:`~risk.model.xgb.RiskModel`, and :func:`write_score_frame`
stores the result as one scoring run (see :mod:`risk.store.scores`).

Risk bands follow China's four-colour safety risk levels and are cut from
the calibrated ``risk_score`` with fixed, configurable thresholds
(:class:`BandThresholds`), not from shares of employers, so a band means the
same probability whatever the year's mix. ``docs/scoring.md`` explains the
defaults.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from risk import codelists
from risk.explain import MarginExplanation, encode_matrix, explain_margin, peer_key
from risk.features.build import build_features
from risk.features.catalog import feature_specs
from risk.size_bands import assign_size_bands
from risk.store.scores import (
    SCORE_COLUMNS,
    finish_scoring_run,
    start_scoring_run,
    write_score_rows,
)
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)

# (code, Chinese name, English name), riskiest first.
RISK_BANDS: tuple[tuple[str, str, str], ...] = (
    ("red", "重大风险", "major risk"),
    ("orange", "较大风险", "high risk"),
    ("yellow", "一般风险", "moderate risk"),
    ("blue", "低风险", "low risk"),
)
RISK_BAND_CODES: tuple[str, ...] = tuple(code for code, _, _ in RISK_BANDS)

@dataclass(frozen=True)
class BandThresholds:
    """Lower bounds of ``risk_score`` for the red, orange and yellow bands; below yellow is blue.

    The defaults read as odds of at least one recognised injury within the
    horizon: red when an injury is more likely than not (0.5), orange from
    one in five (0.2), yellow from one in twenty (0.05).
    """

    red: float = 0.5
    orange: float = 0.2
    yellow: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.yellow < self.orange < self.red <= 1.0:
            raise ValueError(
                "风险等级阈值须满足 0 < 黄 < 橙 < 红 <= 1 / band thresholds must satisfy"
                f" 0 < yellow < orange < red <= 1, got red={self.red!r},"
                f" orange={self.orange!r}, yellow={self.yellow!r}"
            )

    @classmethod
    def parse(cls, text: str) -> BandThresholds:
        """Parse ``"RED,ORANGE,YELLOW"``, for example ``"0.5,0.2,0.05"``."""
        parts = [part.strip() for part in text.split(",")]
        try:
            red, orange, yellow = (float(part) for part in parts)
        except ValueError as exc:
            raise ValueError(
                f"风险等级阈值格式应为 红,橙,黄，例如 0.5,0.2,0.05 / band thresholds must read"
                f" RED,ORANGE,YELLOW such as 0.5,0.2,0.05, got {text!r}"
            ) from exc
        return cls(red, orange, yellow)

    def to_dict(self) -> dict[str, float]:
        """Return the thresholds as a plain dictionary."""
        return asdict(self)


def assign_bands(risk_score: np.ndarray, thresholds: BandThresholds) -> np.ndarray:
    """Return the band code of each score."""
    bounds = [thresholds.red, thresholds.orange, thresholds.yellow]
    conditions = [risk_score >= bound for bound in bounds]
    return np.select(conditions, list(RISK_BAND_CODES[:3]), default=RISK_BAND_CODES[3])


@dataclass(frozen=True)
class ScoreFrame:
    """Scores and explanations of every employer as of one date.

    Attributes
    ----------
    scores : DataFrame
        One row per employer with the columns of :data:`risk.store.scores.SCORE_COLUMNS`.
    explanation : MarginExplanation
        SHAP contributions in log-odds of the classifier's booster, rows as in ``scores``.
    feature_values : ndarray of float32
        The features the booster read, categorical ones as category codes.
    """

    as_of: dt.date
    horizon_days: int
    scores: pd.DataFrame
    explanation: MarginExplanation
    feature_values: np.ndarray
    feature_names: tuple[str, ...]
    feature_meta: dict[str, Any]
    peer_means: dict[str, list[float | None]]
    band_thresholds: BandThresholds


def mask_unknown_categories(
    frame: pd.DataFrame, categories: dict[str, tuple[str, ...]]
) -> tuple[pd.DataFrame, pd.Series]:
    """Set categorical values outside the training categories to missing, and flag them.

    Values are compared as text, as JSON and CSV input brings them. Returns the
    masked copy of ``frame`` and, per row, the "|"-joined names of the features
    whose value was unknown ("" when none). The model then casts the masked
    columns to the training categories without meeting an unknown value.
    """
    masked = frame.copy()
    flags = pd.Series("", index=frame.index, dtype="object")
    for name, known in categories.items():
        if name not in frame.columns:
            continue
        text = (
            frame[name].astype("object").map(lambda value: None if pd.isna(value) else str(value))
        )
        unknown = text.notna() & ~text.isin(list(known))
        masked[name] = text.where(~unknown, None)
        if unknown.any():
            logger.warning(
                "Feature %s: %d row(s) have categories unseen in training; scored as missing",
                name,
                int(unknown.sum()),
            )
            flags = flags.where(~unknown, flags + np.where(flags == "", "", "|") + name)
    return masked, flags


def explained_booster(model: Any) -> Any:
    """Return the classifier's booster cut to the trees its predictions use.

    With early stopping the sklearn wrapper predicts with the trees up to
    ``best_iteration``; explaining the full booster would explain other trees.
    """
    booster = model.classifier.get_booster()
    best = getattr(model.classifier, "best_iteration", None)
    return booster if best is None else booster[: int(best) + 1]


def _percentile_within(scores: pd.Series, groups: pd.Series) -> np.ndarray:
    # Share of the group scoring at or below the employer, in percent (100 = riskiest).
    return (scores.groupby(groups.to_numpy()).rank(method="max", pct=True) * 100.0).to_numpy()


def _feature_meta(model: Any) -> dict[str, Any]:
    specs = {spec.name: spec for spec in feature_specs()}
    names = list(model.schema.feature_names)
    category_labels = {
        "industry_section": {
            row.code: (row.name_zh, row.name_en)
            for row in codelists.industry_sections().itertuples(index=False)
        },
        "industry_division": {
            row.division: (row.name_zh, row.name_en)
            for row in codelists.industry_divisions().itertuples(index=False)
        },
        "district_code": {
            row.code: (row.name_zh, row.name_en)
            for row in codelists.districts().itertuples(index=False)
        },
    }
    return {
        "families": {name: specs[name].family if name in specs else "other" for name in names},
        "labels_zh": {name: specs[name].label_zh if name in specs else name for name in names},
        "labels_en": {name: specs[name].label_en if name in specs else name for name in names},
        "categories": {name: list(values) for name, values in model.schema.categories.items()},
        "category_labels": {
            name: labels
            for name, labels in category_labels.items()
            if name in model.schema.categories
        },
    }


def _peer_means(
    matrix: np.ndarray, keys: pd.Series, categorical: list[bool]
) -> dict[str, list[float | None]]:
    frame = pd.DataFrame(matrix, copy=False)
    means = frame.groupby(keys.to_numpy()).mean()
    result: dict[str, list[float | None]] = {}
    for key, row in means.iterrows():
        values = row.to_numpy(dtype=np.float64)
        result[str(key)] = [
            None if is_categorical or not np.isfinite(value) else round(float(value), 6)
            for value, is_categorical in zip(values, categorical, strict=True)
        ]
    return result


def _rank(risk_score: np.ndarray, tie_break: np.ndarray, employer_ids: np.ndarray) -> np.ndarray:
    # Calibration (isotonic) ties many scores; the booster's own score orders them.
    order = np.lexsort((employer_ids, -tie_break, -risk_score))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def _employer_columns(tables: CanonicalTables, features: pd.DataFrame) -> pd.DataFrame:
    employers = tables.employers.set_index("employer_id")
    ids = features["employer_id"]
    sections = (
        features["industry_section"]
        .astype("object")
        .where(features["industry_section"].notna(), "")
    )
    headcount = features["insured_headcount"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "employer_id": ids.to_numpy(),
            "industry_code": employers["industry_code"].reindex(ids).to_numpy(),
            "industry_section": sections.astype(str).to_numpy(),
            "district_code": employers["district_code"].reindex(ids).to_numpy(),
            "size_band": assign_size_bands(headcount),
            "insured_headcount": headcount,
        }
    )


def score_employers(
    tables: CanonicalTables,
    model: Any,
    as_of: dt.date,
    band_thresholds: BandThresholds | None = None,
) -> ScoreFrame:
    """Score and explain every employer of ``tables`` as of ``as_of``.

    Parameters
    ----------
    tables : CanonicalTables
        The data set; records after ``as_of`` are ignored by the features.
    model : RiskModel
        A fitted model (:func:`risk.model.xgb.fit_risk_model` or the registry's champion).
    as_of : datetime.date
        Date of the features.
    band_thresholds : BandThresholds, optional
        Band cut-offs; default ``BandThresholds()``.
    """
    started = time.perf_counter()
    thresholds = band_thresholds or BandThresholds()
    features, unknown = mask_unknown_categories(
        build_features(tables, as_of), model.schema.categories
    )
    predictions = model.predict(features)
    prepared = model.prepare(features)
    matrix = encode_matrix(prepared.frame)
    explanation = explain_margin(explained_booster(model), matrix)

    scores = _employer_columns(tables, features)
    risk_score = predictions["risk_score"].to_numpy(dtype=np.float64)
    scores["risk_score"] = risk_score
    scores["expected_injuries"] = predictions["expected_injuries"].to_numpy(dtype=np.float64)
    scores["risk_band"] = assign_bands(risk_score, thresholds)
    scores["margin"] = explanation.margin
    scores["risk_rank"] = _rank(
        risk_score, predictions["uncalibrated_score"].to_numpy(), scores["employer_id"].to_numpy()
    )
    scores["industry_percentile"] = _percentile_within(
        scores["risk_score"], scores["industry_section"]
    )
    scores["district_percentile"] = _percentile_within(
        scores["risk_score"], scores["district_code"]
    )
    scores["unknown_categories"] = unknown.to_numpy()

    categorical = [name in model.schema.categories for name in model.schema.feature_names]
    keys = scores["industry_section"] + "|" + scores["size_band"]
    peer_means = _peer_means(matrix, keys, categorical)
    logger.info(
        "Scored %d employers as of %s in %.1f s", len(scores), as_of, time.perf_counter() - started
    )
    return ScoreFrame(
        as_of=as_of,
        horizon_days=int(model.horizon_days),
        scores=scores[list(SCORE_COLUMNS)],
        explanation=explanation,
        feature_values=matrix,
        feature_names=tuple(model.schema.feature_names),
        feature_meta=_feature_meta(model),
        peer_means=peer_means,
        band_thresholds=thresholds,
    )


def write_score_frame(
    engine: Engine, frame: ScoreFrame, *, model_name: str, model_version: str
) -> int:
    """Store ``frame`` as the scoring run of ``model_version`` at ``frame.as_of``; return its id.

    A run of the same version and date is replaced; history of other dates stays.
    """
    run_id = start_scoring_run(
        engine,
        model_name=model_name,
        model_version=model_version,
        as_of=frame.as_of,
        horizon_days=frame.horizon_days,
        base_value=frame.explanation.base_value,
        feature_names=frame.feature_names,
        feature_meta=frame.feature_meta,
        peer_means=frame.peer_means,
        band_thresholds=frame.band_thresholds.to_dict(),
    )
    rows = write_score_rows(
        engine, run_id, frame.scores, frame.explanation.contributions, frame.feature_values
    )
    finish_scoring_run(engine, run_id, rows)
    return run_id


__all__ = [
    "RISK_BANDS",
    "BandThresholds",
    "ScoreFrame",
    "assign_bands",
    "peer_key",
    "score_employers",
    "write_score_frame",
]
