"""Turn stored scores and explanations into response models.

Kept apart from the routes so that handlers stay short: they read, call one
function of ``risk``, and hand the result to one function here.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import orjson
from fastapi import Response
from pydantic import BaseModel

from api.deps import ScoredState
from api.schemas import (
    EmployerHistoryPublic,
    EmployerScorePublic,
    ExplanationPublic,
    FeatureChangePublic,
    FindingPublic,
    HeadcountPublic,
    IncidentPublic,
    PastScorePublic,
    RiskScorePublic,
    ScoreSnapshotPublic,
    TrainingPublic,
    WhatIfPublic,
)
from risk.explain import (
    FAMILY_LABELS,
    FeatureContext,
    display_value,
    explain_reasons,
    family_totals,
    feature_context,
    peer_key,
)
from risk.scoring import RISK_BANDS
from risk.store.employer_history import EmployerHistory
from risk.store.scores import PastScore, ScoringRunInfo, StoredExplanation, StoredScore
from risk.what_if import LiveScore, WhatIfResult

_BAND_LABELS = {code: (zh, en) for code, zh, en in RISK_BANDS}
_CONTEXTS: dict[tuple[int, object], FeatureContext] = {}
_CONTEXTS_LOCK = threading.Lock()
_MAX_CONTEXTS = 8

EXPLANATION_NOTE = {
    "zh": "贡献值为未校准 XGBoost 模型的对数几率（log-odds）："
    "base_value 加全部贡献值等于 margin；risk_score 是校准后的概率，不等于 margin 的 sigmoid。",
    "en": "Contributions are in log-odds of the uncalibrated XGBoost booster:"
    " base_value plus every contribution equals margin. risk_score is the calibrated"
    " probability, not the sigmoid of margin.",
}


def json_response(model: BaseModel) -> Response:
    """Return ``model`` serialised by pydantic-core, as a response FastAPI sends unchanged.

    When a handler returns the model itself, FastAPI dumps it to a dict,
    validates that again against the response model and only then serialises
    it. For a large payload that was validated already, this doubles the work.
    """
    return Response(model.__pydantic_serializer__.to_json(model), media_type="application/json")


def band_label(code: str, language: str) -> str:
    """Return the band's name in ``language``."""
    zh, en = _BAND_LABELS[code]
    return en if language == "en" else zh


def finite_or_none(value: float | None) -> float | None:
    """Return ``value`` as a float, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def run_context(run: ScoringRunInfo) -> FeatureContext:
    """Return the run's :class:`FeatureContext`, built once per run and process."""
    key = (run.run_id, run.finished_at)
    context = _CONTEXTS.get(key)
    if context is None:
        context = feature_context(run.feature_names, run.feature_meta, run.peer_means)
        with _CONTEXTS_LOCK:
            if len(_CONTEXTS) >= _MAX_CONTEXTS:
                _CONTEXTS.clear()
            _CONTEXTS[key] = context
    return context


def employer_score(score: StoredScore, language: str) -> EmployerScorePublic:
    """Return one ranked-list entry."""
    return EmployerScorePublic(
        **_score_fields(score), risk_band_label=band_label(score.risk_band, language)
    )


def _score_fields(score: StoredScore) -> dict[str, object]:
    return {
        "employer_id": score.employer_id,
        "name": score.name,
        "industry_code": score.industry_code,
        "industry_section": score.industry_section,
        "district_code": score.district_code,
        "size_band": score.size_band,
        "insured_headcount": score.insured_headcount,
        "risk_score": score.risk_score,
        "expected_injuries": score.expected_injuries,
        "risk_band": score.risk_band,
        "risk_rank": score.risk_rank,
        "industry_percentile": score.industry_percentile,
        "district_percentile": score.district_percentile,
        "unknown_categories": list(score.unknown_categories),
    }


def risk_score(scored: ScoredState, score: StoredScore, language: str) -> RiskScorePublic:
    """Return the response of the risk endpoint."""
    return RiskScorePublic(
        **_score_fields(score),
        risk_band_label=band_label(score.risk_band, language),
        model_version=scored.state.model_version,
        as_of=scored.run.as_of,
        horizon_days=scored.run.horizon_days,
    )


def _contributions(
    context: FeatureContext, stored: StoredExplanation, language: str
) -> list[dict[str, object]]:
    # Plain dicts, because building 115 ContributionPublic objects one at a time from
    # Python costs more than the rest of the request.
    labels = context.labels_en if language == "en" else context.labels_zh
    values = stored.feature_values.tolist()
    contributions = stored.contributions.tolist()
    order = np.argsort(-np.abs(stored.contributions), kind="stable").tolist()
    items = []
    for position in order:
        name = context.feature_names[position]
        value = values[position]
        categorical = name in context.categories
        items.append(
            {
                "feature_name": name,
                "family": context.families[position],
                "label": labels[position],
                "feature_value": None if categorical or not math.isfinite(value) else value,
                "category": display_value(context, position, value) if categorical else None,
                "contribution": contributions[position],
            }
        )
    return items


def _family_label(family: str, language: str) -> str:
    zh, en = FAMILY_LABELS.get(family, (family, family))
    return en if language == "en" else zh


def explanation_data(
    scored: ScoredState, stored: StoredExplanation, language: str
) -> dict[str, object]:
    """Return the explanation endpoint's body as plain data in the shape of ExplanationPublic.

    Every number is a Python float or None. Optional values that are missing or
    not finite are None already; the serialiser writes any other NaN as null.
    The tests validate the body against the response model.
    """
    context = run_context(scored.run)
    score = stored.score
    totals = family_totals(context, stored.contributions)
    reasons = explain_reasons(
        context,
        stored.contributions,
        stored.feature_values,
        peer_key(score.industry_section, score.size_band),
        totals=totals,
    )
    return {
        "model_version": scored.state.model_version,
        "as_of": scored.run.as_of.isoformat(),
        "horizon_days": scored.run.horizon_days,
        "employer_id": score.employer_id,
        "risk_score": score.risk_score,
        "risk_band": score.risk_band,
        "risk_band_label": band_label(score.risk_band, language),
        "output_space": "log_odds",
        "note": EXPLANATION_NOTE[language],
        "base_value": scored.run.base_value,
        "margin": score.margin,
        "contributions": _contributions(context, stored, language),
        "families": [
            {"family": family, "label": _family_label(family, language), "contribution": total}
            for family, total in totals.items()
        ],
        "reasons": [
            {
                "family": reason.family,
                "feature_name": reason.feature_name,
                "contribution": reason.contribution,
                "own_value": finite_or_none(reason.own_value),
                "peer_value": finite_or_none(reason.peer_value),
                "text": reason.text_en if language == "en" else reason.text_zh,
                "text_zh": reason.text_zh,
                "text_en": reason.text_en,
            }
            for reason in reasons
        ],
        "unknown_categories": list(score.unknown_categories),
    }


def explanation(scored: ScoredState, stored: StoredExplanation, language: str) -> ExplanationPublic:
    """Return the response of the explanation endpoint as a validated model."""
    return ExplanationPublic.model_validate(explanation_data(scored, stored, language))


def explanation_response(scored: ScoredState, stored: StoredExplanation, language: str) -> Response:
    """Return the explanation endpoint's response, serialised without a second validation.

    Validating 115 contributions on every request costs as much as building
    them, so the tests check the shape instead. orjson writes the body in
    less than half the time pydantic-core's untyped serialiser takes, and
    writes NaN as null.
    """
    body = orjson.dumps(explanation_data(scored, stored, language))
    return Response(body, media_type="application/json")


def score_snapshot(score: LiveScore, language: str) -> ScoreSnapshotPublic:
    """Return a live score as a response part."""
    return ScoreSnapshotPublic(
        risk_score=score.risk_score,
        expected_injuries=score.expected_injuries,
        risk_band=score.risk_band,  # type: ignore[arg-type]
        risk_band_label=band_label(score.risk_band, language),
        margin=score.margin,
    )


def _change_value(value: float | str | None) -> float | str | None:
    return finite_or_none(value) if isinstance(value, float) else value


def what_if(
    scored: ScoredState,
    employer_id: str,
    result: WhatIfResult,
    context: FeatureContext,
    language: str,
) -> WhatIfPublic:
    """Return the response of the what-if endpoint."""
    labels = context.labels_en if language == "en" else context.labels_zh
    position = {name: index for index, name in enumerate(context.feature_names)}
    return WhatIfPublic(
        model_version=scored.state.model_version,
        as_of=scored.run.as_of,
        horizon_days=scored.run.horizon_days,
        employer_id=employer_id,
        baseline=score_snapshot(result.baseline, language),
        scenario=score_snapshot(result.scenario, language),
        changes=[
            FeatureChangePublic(
                feature_name=name,
                label=labels[position[name]],
                before=_change_value(before),
                after=_change_value(after),
            )
            for name, before, after in result.changes
        ],
        unknown_categories=result.unknown_categories,
    )


def employer_history(
    scored: ScoredState, history: EmployerHistory, past: list[PastScore]
) -> EmployerHistoryPublic:
    """Return the response of the history endpoint."""
    employer = history.employer
    return EmployerHistoryPublic(
        model_version=scored.state.model_version,
        as_of=scored.run.as_of,
        horizon_days=scored.run.horizon_days,
        employer_id=employer.employer_id,
        name=employer.name,
        industry_code=employer.industry_code,
        district_code=employer.district_code,
        headcounts=[
            HeadcountPublic(year=year, insured_headcount=count)
            for year, count in history.headcounts
        ],
        incidents=[IncidentPublic(**vars(row)) for row in history.incidents],
        hazard_findings=[FindingPublic(**vars(row)) for row in history.findings],
        training_records=[TrainingPublic(**vars(row)) for row in history.trainings],
        past_scores=[
            PastScorePublic(
                model_version=row.model_version,
                as_of=row.as_of,
                risk_score=row.risk_score,
                risk_band=row.risk_band,  # type: ignore[arg-type]
                risk_rank=row.risk_rank,
            )
            for row in past
        ],
    )
