"""SHAP contributions from XGBoost's own TreeSHAP, and reasons in Chinese and English.

Contributions explain the booster's margin (log-odds), not the calibrated
``risk_score``: the calibrator is a monotone map on top of the booster that
TreeSHAP cannot see through. For every row, ``base_value`` plus the sum of
the contributions equals ``booster.predict(..., output_margin=True)``;
:func:`explain_margin` checks this on every batch and takes ``base_value``
from the booster's own bias column, never from a cached ``expected_value``.

Categorical features reach XGBoost as the integer codes of the training
categories (missing for a value never seen in training), in a float32 matrix
with the booster's feature types. XGBoost then never re-codes category labels
itself, which in XGBoost 3.2 can score a category as a different one when the
column's categories are ordered differently from training.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from risk.errors import ModelError

logger = logging.getLogger(__name__)

# Largest allowed |base_value + sum(contributions) - margin|; float32 sums stay far below it.
ADDITIVITY_TOLERANCE = 1e-3
_CHUNK_ROWS = 262_144

FAMILY_LABELS: dict[str, tuple[str, str]] = {
    "exposure": ("参保规模", "insured headcount"),
    "industry": ("所属行业", "industry"),
    "district": ("所属区县", "district"),
    "incidents": ("工伤记录", "injury record"),
    "severity": ("伤害严重程度", "injury severity"),
    "accident_type": ("事故类别", "accident types"),
    "commuting": ("上下班途中工伤", "commuting injuries"),
    "hazards": ("事故隐患", "hazards"),
    "training": ("安全培训", "safety training"),
    "peers": ("同行业、同区县工伤水平", "injury rates of peers"),
}


@dataclass(frozen=True)
class MarginExplanation:
    """TreeSHAP contributions of a batch, in log-odds of the uncalibrated booster.

    Attributes
    ----------
    contributions : ndarray of float32, shape (n_rows, n_features)
        One column per feature, in the booster's feature order.
    base_value : float
        The booster's bias term, the same for every row.
    margin : ndarray of float64, shape (n_rows,)
        ``booster.predict(output_margin=True)`` for each row.
    """

    contributions: np.ndarray
    base_value: float
    margin: np.ndarray


def encode_matrix(prepared: pd.DataFrame) -> np.ndarray:
    """Return ``prepared`` as a float32 matrix, categorical columns as their category codes.

    ``prepared`` must already hold the training categories in training order
    (see :meth:`risk.model.schema.FeatureSchema.prepare`); a missing value
    becomes NaN, which XGBoost treats as missing.
    """
    matrix = np.empty((len(prepared), prepared.shape[1]), dtype=np.float32)
    for position, name in enumerate(prepared.columns):
        column = prepared[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy().astype(np.float32)
            codes[codes < 0] = np.nan
            matrix[:, position] = codes
        else:
            matrix[:, position] = column.to_numpy(dtype=np.float32, na_value=np.nan)
    return matrix


def _dmatrix(booster: xgb.Booster, matrix: np.ndarray) -> xgb.DMatrix:
    return xgb.DMatrix(
        matrix,
        feature_names=booster.feature_names,
        feature_types=booster.feature_types,
        enable_categorical=True,
        missing=np.nan,
    )


def predict_margin(booster: xgb.Booster, matrix: np.ndarray) -> np.ndarray:
    """Return the booster's margin (log-odds) for each row of an :func:`encode_matrix` matrix."""
    return booster.predict(_dmatrix(booster, matrix), output_margin=True).astype(np.float64)


def explain_margin(
    booster: xgb.Booster, matrix: np.ndarray, *, chunk_rows: int = _CHUNK_ROWS
) -> MarginExplanation:
    """Compute TreeSHAP contributions with ``booster.predict(pred_contribs=True)``.

    Rows are processed in chunks of ``chunk_rows`` to bound the memory of
    XGBoost's float32 output plus its bias column.

    Raises
    ------
    ModelError
        If the matrix width differs from the booster's features, or if base
        value plus contributions misses the margin by more than
        :data:`ADDITIVITY_TOLERANCE` on any row.
    """
    n_features = len(booster.feature_names or ())
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise ModelError(
            f"特征矩阵列数应为 {n_features} / the feature matrix must have {n_features} columns"
            f" (the booster's features), got shape {matrix.shape!r}"
        )
    contributions = np.empty(matrix.shape, dtype=np.float32)
    margin = np.empty(matrix.shape[0], dtype=np.float64)
    bias = np.empty(matrix.shape[0], dtype=np.float64)
    for start in range(0, matrix.shape[0], chunk_rows):
        stop = min(start + chunk_rows, matrix.shape[0])
        dmatrix = _dmatrix(booster, matrix[start:stop])
        chunk = booster.predict(dmatrix, pred_contribs=True)
        contributions[start:stop] = chunk[:, :-1]
        bias[start:stop] = chunk[:, -1]
        margin[start:stop] = booster.predict(dmatrix, output_margin=True)
    base_value = float(bias[0]) if bias.size else 0.0
    _check_additivity(contributions, base_value, bias, margin)
    return MarginExplanation(contributions, base_value, margin)


def _check_additivity(
    contributions: np.ndarray, base_value: float, bias: np.ndarray, margin: np.ndarray
) -> None:
    if not bias.size:
        return
    gap = np.abs(base_value + contributions.sum(axis=1, dtype=np.float64) - margin)
    worst = float(gap.max())
    if worst > ADDITIVITY_TOLERANCE or float(np.ptp(bias)) > ADDITIVITY_TOLERANCE:
        raise ModelError(
            f"SHAP 贡献值之和与模型输出不符 / base value plus contributions misses the booster"
            f" margin by up to {worst:.2e} (tolerance {ADDITIVITY_TOLERANCE:.0e}); the booster"
            " and the feature matrix do not match"
        )


@dataclass(frozen=True)
class FeatureContext:
    """Feature metadata of one scoring run, as reasons read it.

    Built once per run by :func:`feature_context` from the metadata stored with it.
    """

    feature_names: tuple[str, ...]
    families: tuple[str, ...]
    labels_zh: tuple[str, ...]
    labels_en: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    # feature name -> category code -> (zh, en) display label
    category_labels: dict[str, dict[str, tuple[str, str]]]
    # peer group key ("<industry section>|<size band>") -> mean of each feature, None if undefined
    peer_means: dict[str, tuple[float | None, ...]]
    # Derived from ``families`` once, because the service explains many employers per context:
    # the families in order of first appearance, each feature's family index, and each
    # family's feature positions.
    family_order: tuple[str, ...] = field(init=False)
    family_codes: np.ndarray = field(init=False, repr=False, compare=False)
    family_members: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        order = tuple(dict.fromkeys(self.families))
        index = {family: code for code, family in enumerate(order)}
        codes = np.array([index[family] for family in self.families], dtype=np.intp)
        members = {
            family: tuple(int(i) for i in np.flatnonzero(codes == code))
            for code, family in enumerate(order)
        }
        object.__setattr__(self, "family_order", order)
        object.__setattr__(self, "family_codes", codes)
        object.__setattr__(self, "family_members", members)


def feature_context(
    feature_names: Sequence[str], meta: Mapping[str, Any], peer_means: Mapping[str, Any]
) -> FeatureContext:
    """Build a :class:`FeatureContext` from a run's ``feature_meta`` and ``peer_means`` JSON."""
    families = meta.get("families", {})
    labels_zh = meta.get("labels_zh", {})
    labels_en = meta.get("labels_en", {})
    return FeatureContext(
        feature_names=tuple(feature_names),
        families=tuple(families.get(name, "other") for name in feature_names),
        labels_zh=tuple(labels_zh.get(name, name) for name in feature_names),
        labels_en=tuple(labels_en.get(name, name) for name in feature_names),
        categories={name: tuple(values) for name, values in meta.get("categories", {}).items()},
        category_labels={
            name: {code: (pair[0], pair[1]) for code, pair in labels.items()}
            for name, labels in meta.get("category_labels", {}).items()
        },
        peer_means={key: tuple(values) for key, values in peer_means.items()},
    )


def peer_key(industry_section: str, size_band: str) -> str:
    """Return the key of the peer group (same industry section and size band)."""
    return f"{industry_section}|{size_band}"


@dataclass(frozen=True)
class Reason:
    """One plain-language reason built from a feature family's contributions."""

    family: str
    feature_name: str
    contribution: float
    own_value: float | None
    peer_value: float | None
    text_zh: str
    text_en: str


def display_value(context: FeatureContext, position: int, value: float) -> str | None:
    """Return the category code of a categorical feature's stored value, else None."""
    name = context.feature_names[position]
    if name not in context.categories or math.isnan(value):
        return None
    categories = context.categories[name]
    index = int(value)
    return categories[index] if 0 <= index < len(categories) else None


def _format_number(value: float) -> str:
    if math.isnan(value):
        return "—"
    if abs(value - round(value)) < 1e-6:
        return str(int(round(value)))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _reason_text(
    context: FeatureContext, position: int, own: float, peer: float | None, contribution: float
) -> tuple[str, str]:
    label_zh, label_en = context.labels_zh[position], context.labels_en[position]
    direction_zh = "推高风险" if contribution > 0 else "降低风险"
    direction_en = "raises the risk" if contribution > 0 else "lowers the risk"
    code = display_value(context, position, own)
    if context.feature_names[position] in context.categories:
        shown = code if code is not None else "未知"
        shown_en = code if code is not None else "unknown"
        names = context.category_labels.get(context.feature_names[position], {}).get(code or "")
        if names is not None:
            shown, shown_en = f"{code}（{names[0]}）", f"{code} ({names[1]})"
        return (
            f"{label_zh}为{shown}（{direction_zh}）",
            f"{label_en}: {shown_en} ({direction_en})",
        )
    own_text = _format_number(own) if not math.isnan(own) else None
    if own_text is None:
        return (f"{label_zh}无数据（{direction_zh}）", f"{label_en}: no data ({direction_en})")
    if peer is None:
        return (
            f"{label_zh}为{own_text}（{direction_zh}）",
            f"{label_en}: {own_text} ({direction_en})",
        )
    peer_text = _format_number(peer)
    return (
        f"{label_zh}为{own_text}，同行业同规模单位平均为{peer_text}（{direction_zh}）",
        f"{label_en}: {own_text}, against {peer_text} on average for employers of the same"
        f" industry and size ({direction_en})",
    )


def family_totals(context: FeatureContext, contributions: np.ndarray) -> dict[str, float]:
    """Return the summed contribution of each feature family, largest absolute first."""
    sums = np.bincount(
        context.family_codes,
        weights=np.asarray(contributions, dtype=np.float64),
        minlength=len(context.family_order),
    )
    # A stable sort keeps families with equal totals in their order of first appearance.
    order = np.argsort(-np.abs(sums), kind="stable").tolist()
    values = sums.tolist()
    return {context.family_order[code]: values[code] for code in order}


def explain_reasons(
    context: FeatureContext,
    contributions: np.ndarray,
    feature_values: np.ndarray,
    group_key: str,
    *,
    limit: int = 3,
    totals: dict[str, float] | None = None,
) -> list[Reason]:
    """Turn the ``limit`` families with the largest absolute contribution into reasons.

    Each reason names the family's feature with the largest contribution of the
    family's sign, the employer's own value and, for numeric features, the mean
    of its peer group ``group_key`` (see :func:`peer_key`). ``totals`` takes
    :func:`family_totals` when the caller has it already.
    """
    values = contributions.tolist()
    peers = context.peer_means.get(group_key)
    reasons: list[Reason] = []
    if totals is None:
        totals = family_totals(context, contributions)
    for family, total in list(totals.items())[:limit]:
        if total == 0.0:
            break
        positions = context.family_members[family]
        position = max(positions, key=lambda i: values[i] if total > 0 else -values[i])
        own = float(feature_values[position])
        categorical = context.feature_names[position] in context.categories
        peer = None if peers is None or categorical else peers[position]
        text_zh, text_en = _reason_text(context, position, own, peer, total)
        reasons.append(
            Reason(
                family=family,
                feature_name=context.feature_names[position],
                contribution=total,
                own_value=None if categorical or math.isnan(own) else own,
                peer_value=peer,
                text_zh=text_zh,
                text_en=text_en,
            )
        )
    return reasons
