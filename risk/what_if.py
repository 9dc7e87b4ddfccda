"""What-if scoring: one employer's score with some features changed.

The employer's stored feature values (from its scoring run) are the baseline;
a scenario changes some of them, and both are scored live by the model that
produced the run. Scores are computed on the changed features only: a
scenario does not recompute other features from changed records (for
example, rectifying hazards leaves the past injury counts as they were).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from risk.errors import InputDataError, RowError
from risk.explain import FeatureContext, display_value, encode_matrix, predict_margin
from risk.scoring import (
    BandThresholds,
    assign_bands,
    explained_booster,
    mask_unknown_categories,
)

# Hazard features that "every open hazard rectified" sets to zero.
_OPEN_HAZARD_PREFIXES = ("open_", "overdue_")


@dataclass(frozen=True)
class LiveScore:
    """A score computed on request."""

    risk_score: float
    expected_injuries: float
    risk_band: str
    margin: float


@dataclass(frozen=True)
class WhatIfResult:
    """Baseline and scenario scores with the features that changed."""

    baseline: LiveScore
    scenario: LiveScore
    # (feature name, value before, value after); values are numbers, category codes or None.
    changes: list[tuple[str, float | str | None, float | str | None]]
    unknown_categories: list[str]


def decode_features(context: FeatureContext, stored: np.ndarray) -> dict[str, float | str | None]:
    """Return stored float32 feature values as numbers, category codes or None."""
    decoded: dict[str, float | str | None] = {}
    for position, (name, value) in enumerate(
        zip(context.feature_names, stored.tolist(), strict=True)
    ):
        if name in context.categories:
            decoded[name] = display_value(context, position, value)
        else:
            decoded[name] = None if math.isnan(value) else value
    return decoded


def _check_changes(
    context: FeatureContext, changes: Mapping[str, Any]
) -> dict[str, float | str | None]:
    problems: list[RowError] = []
    checked: dict[str, float | str | None] = {}
    for name, value in changes.items():
        if name not in context.feature_names:
            problems.append(
                RowError(
                    "what-if",
                    None,
                    name,
                    repr(value),
                    "模型没有此特征",
                    "the model has no such feature",
                )
            )
        elif name in context.categories:
            if value is not None and not isinstance(value, str):
                problems.append(
                    RowError(
                        "what-if",
                        None,
                        name,
                        repr(value),
                        "分类特征须为代码字符串或 null",
                        "a categorical feature takes a code string or null",
                    )
                )
            checked[name] = value
        elif value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            problems.append(
                RowError(
                    "what-if",
                    None,
                    name,
                    repr(value),
                    "数值特征须为有限数值或 null",
                    "a numeric feature takes a finite number or null",
                )
            )
        else:
            checked[name] = None if value is None else float(value)
    if problems:
        raise InputDataError(
            "模拟输入无效 / invalid what-if input: "
            + "; ".join(problem.describe() for problem in problems[:5]),
            problems,
        )
    return checked


def _live_scores(
    model: Any, rows: list[dict[str, float | str | None]], thresholds: BandThresholds
) -> tuple[list[LiveScore], list[str]]:
    frame, unknown = mask_unknown_categories(
        pd.DataFrame(rows, columns=list(model.schema.feature_names)), model.schema.categories
    )
    predictions = model.predict(frame)
    margin = predict_margin(explained_booster(model), encode_matrix(model.prepare(frame).frame))
    risk_score = predictions["risk_score"].to_numpy(dtype=np.float64)
    bands = assign_bands(risk_score, thresholds)
    scores = [
        LiveScore(
            float(risk_score[i]),
            float(predictions["expected_injuries"].iloc[i]),
            str(bands[i]),
            float(margin[i]),
        )
        for i in range(len(rows))
    ]
    return scores, [name for name in str(unknown.iloc[-1]).split("|") if name]


def score_what_if(
    model: Any,
    context: FeatureContext,
    stored_values: np.ndarray,
    *,
    rectify_open_hazards: bool = False,
    feature_values: Mapping[str, Any] | None = None,
    band_thresholds: BandThresholds | None = None,
) -> WhatIfResult:
    """Score the employer's stored features and the scenario with the same model.

    Raises
    ------
    InputDataError
        When ``feature_values`` names a feature the model lacks, or gives a
        value of the wrong kind; every problem is listed.
    """
    baseline = decode_features(context, stored_values)
    changes = _check_changes(context, feature_values or {})
    if rectify_open_hazards:
        for name, family in zip(context.feature_names, context.families, strict=True):
            if family == "hazards" and name.startswith(_OPEN_HAZARD_PREFIXES):
                changes.setdefault(name, 0.0)
    scenario = {**baseline, **changes}

    thresholds = band_thresholds or BandThresholds()
    (before, after), unknown = _live_scores(model, [baseline, scenario], thresholds)
    changed = [
        (name, baseline[name], scenario[name])
        for name in context.feature_names
        if baseline[name] != scenario[name]
    ]
    return WhatIfResult(before, after, changed, unknown)
