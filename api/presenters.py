"""Turn stored scores and explanations into response models.

Kept apart from the routes so that handlers stay short: they read, call one
function of ``risk``, and hand the result to one function here.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from api.deps import ScoredState
from api.schemas import (
    ContributionPublic,
    EmployerHistoryPublic,
    EmployerScorePublic,
    ExplanationPublic,
    FamilyContributionPublic,
    FeatureChangePublic,
    FindingPublic,
    HeadcountPublic,
    IncidentPublic,
    PastScorePublic,
    ReasonPublic,
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
) -> list[ContributionPublic]:
    labels = context.labels_en if language == "en" else context.labels_zh
    values = stored.feature_values.tolist()
    contributions = stored.contributions.tolist()
    order = np.argsort(-np.abs(stored.contributions), kind="stable").tolist()
    items = []
    for position in order:
        category = display_value(context, position, values[position])
        is_categorical = context.feature_names[position] in context.categories
        items.append(
            ContributionPublic(
                feature_name=context.feature_names[position],
                family=context.families[position],
                label=labels[position],
                feature_value=None if is_categorical else finite_or_none(values[position]),
                category=category,
                contribution=contributions[position],
            )
        )
    return items


def _family_label(family: str, language: str) -> str:
    zh, en = FAMILY_LABELS.get(family, (family, family))
    return en if language == "en" else zh


def explanation(scored: ScoredState, stored: StoredExplanation, language: str) -> ExplanationPublic:
    """Return the response of the explanation endpoint."""
    context = run_context(scored.run)
    score = stored.score
    reasons = explain_reasons(
        context,
        stored.contributions,
        stored.feature_values,
        peer_key(score.industry_section, score.size_band),
    )
    return ExplanationPublic(
        model_version=scored.state.model_version,
        as_of=scored.run.as_of,
        horizon_days=scored.run.horizon_days,
        employer_id=score.employer_id,
        risk_score=score.risk_score,
        risk_band=score.risk_band,  # type: ignore[arg-type]
        risk_band_label=band_label(score.risk_band, language),
        note=EXPLANATION_NOTE[language],
        base_value=scored.run.base_value,
        margin=score.margin,
        contributions=_contributions(context, stored, language),
        families=[
            FamilyContributionPublic(
                family=family, label=_family_label(family, language), contribution=total
            )
            for family, total in family_totals(context, stored.contributions).items()
        ],
        reasons=[
            ReasonPublic(
                family=reason.family,
                feature_name=reason.feature_name,
                contribution=reason.contribution,
                own_value=finite_or_none(reason.own_value),
                peer_value=finite_or_none(reason.peer_value),
                text=reason.text_en if language == "en" else reason.text_zh,
                text_zh=reason.text_zh,
                text_en=reason.text_en,
            )
            for reason in reasons
        ],
        unknown_categories=list(score.unknown_categories),
    )


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
