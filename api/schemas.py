"""Request and response models of the HTTP API.

Every field has a plain JSON type: floats are finite or null, never NaN,
and no numpy scalar reaches a response. Every ``...Public`` model of an
employer resource carries ``model_version`` and ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RiskBand = Literal["red", "orange", "yellow", "blue"]
SizeBand = Literal["micro", "small", "medium", "large", "unknown"]


class _Public(BaseModel):
    model_config = ConfigDict(protected_namespaces=())


class ScoreStamp(_Public):
    """Which model version and as-of date a response was computed from."""

    model_version: str = Field(description="Registered model version of the champion served.")
    as_of: dt.date = Field(description="评估基准日: date of the features that were scored.")
    horizon_days: int = Field(description="Outcome window of risk_score, in days.")


# Output: one employer in the ranked list and the core of RiskScorePublic.
class EmployerScorePublic(_Public):
    """One employer's risk score, band and percentiles."""

    employer_id: str
    name: str | None
    industry_code: str
    industry_section: str
    district_code: str
    size_band: SizeBand
    insured_headcount: int | None
    risk_score: float = Field(
        description="Calibrated probability of at least one injury in the horizon."
    )
    expected_injuries: float = Field(description="Expected number of injuries in the horizon.")
    risk_band: RiskBand
    risk_band_label: str = Field(description="Band name in the response language (重大风险 ...).")
    risk_rank: int = Field(description="1 is the riskiest employer of the scoring run.")
    industry_percentile: float = Field(
        description="Share of the industry section scoring at or below, in %."
    )
    district_percentile: float = Field(
        description="Share of the district scoring at or below, in %."
    )
    unknown_categories: list[str] = Field(
        description="Categorical features whose value was unseen in training and scored as missing."
    )


# Output: GET /v1/employers/{employer_id}/risk.
class RiskScorePublic(EmployerScorePublic, ScoreStamp):
    """One employer's risk score with the model version and as-of date."""


# Output: GET /v1/risk.
class RiskListPublic(ScoreStamp):
    """One page of the ranked list, riskiest first."""

    total: int = Field(description="Employers matching the filters.")
    offset: int
    limit: int
    data: list[EmployerScorePublic]


class ContributionPublic(_Public):
    """One feature's SHAP contribution, in log-odds of the uncalibrated booster."""

    feature_name: str
    family: str
    label: str
    feature_value: float | None = Field(
        description="Numeric value; null for categorical or missing."
    )
    category: str | None = Field(description="Category code of a categorical feature, else null.")
    contribution: float


class FamilyContributionPublic(_Public):
    """Summed contribution of one feature family."""

    family: str
    label: str
    contribution: float


class ReasonPublic(_Public):
    """A plain-language reason built from one family's contributions."""

    family: str
    feature_name: str
    contribution: float
    own_value: float | None
    peer_value: float | None = Field(
        description="Mean of employers of the same industry section and size band."
    )
    text: str = Field(description="The reason in the response language.")
    text_zh: str
    text_en: str


# Output: GET /v1/employers/{employer_id}/explanation.
class ExplanationPublic(ScoreStamp):
    """Why an employer scores as it does: every SHAP contribution and the main reasons."""

    employer_id: str
    risk_score: float
    risk_band: RiskBand
    risk_band_label: str
    output_space: Literal["log_odds"] = "log_odds"
    note: str = Field(description="States what the contributions explain.")
    base_value: float = Field(description="Booster log-odds before any feature is known.")
    margin: float = Field(
        description="Booster log-odds of this employer: base_value + sum of contributions."
    )
    contributions: list[ContributionPublic] = Field(
        description="Every feature, largest |contribution| first."
    )
    families: list[FamilyContributionPublic]
    reasons: list[ReasonPublic]
    unknown_categories: list[str]


class IncidentPublic(_Public):
    """One recognised work injury (no personal data)."""

    incident_id: str
    occurred_on: dt.date
    accident_type: str
    severity: str
    lost_workdays: int | None
    disability_grade: int | None
    is_commuting: bool


class FindingPublic(_Public):
    """One hazard finding."""

    finding_id: str
    inspected_on: dt.date
    hazard_category: str
    hazard_level: str
    rectified_on: dt.date | None


class TrainingPublic(_Public):
    """One delivered course."""

    record_id: str
    course_id: str
    delivered_on: dt.date
    attendees: int


class PastScorePublic(_Public):
    """One earlier score of the employer."""

    model_version: str
    as_of: dt.date
    risk_score: float
    risk_band: RiskBand
    risk_rank: int


class HeadcountPublic(_Public):
    """Insured headcount of one year."""

    year: int
    insured_headcount: int


# Output: GET /v1/employers/{employer_id}/history.
class EmployerHistoryPublic(ScoreStamp):
    """An employer's records and past scores, newest first."""

    employer_id: str
    name: str
    industry_code: str
    district_code: str
    headcounts: list[HeadcountPublic]
    incidents: list[IncidentPublic]
    hazard_findings: list[FindingPublic]
    training_records: list[TrainingPublic]
    past_scores: list[PastScorePublic]


# Input: POST /v1/employers/{employer_id}/what-if.
class WhatIfRequest(_Public):
    """Changes to score an employer with; unchanged features keep their stored values."""

    model_config = ConfigDict(extra="forbid")

    rectify_open_hazards: bool = Field(
        False, description="Score as if every open hazard were rectified and none overdue."
    )
    feature_values: dict[str, float | str | None] = Field(
        default_factory=dict,
        description="Feature name -> new value (number, category code, or null for missing).",
    )


class ScoreSnapshotPublic(_Public):
    """A score computed live by the served model."""

    risk_score: float
    expected_injuries: float
    risk_band: RiskBand
    risk_band_label: str
    margin: float


class FeatureChangePublic(_Public):
    """One feature changed by the scenario."""

    feature_name: str
    label: str
    before: float | str | None
    after: float | str | None


# Output: POST /v1/employers/{employer_id}/what-if.
class WhatIfPublic(ScoreStamp):
    """The employer's score before and after the changes."""

    employer_id: str
    baseline: ScoreSnapshotPublic
    scenario: ScoreSnapshotPublic
    changes: list[FeatureChangePublic]
    unknown_categories: list[str]


# Output: GET /v1/model.
class ModelPublic(_Public):
    """The served champion: version, metrics and the scoring run it serves."""

    model_name: str
    model_version: str
    as_of: dt.date | None
    horizon_days: int | None
    champion_version: str = Field(
        description="Version the registry's champion alias points to now."
    )
    loaded_at: dt.datetime
    scored_employers: int
    base_value: float | None
    band_thresholds: dict[str, float]
    metrics: dict[str, float | None]


class AuditEntryPublic(_Public):
    """One audit row."""

    key_id: str
    role: str
    employer_id: str | None
    endpoint: str
    at: dt.datetime
    status: int
    model_version: str | None
    as_of: dt.date | None


# Output: GET /v1/audit.
class AuditLogPublic(_Public):
    """One page of the audit log, newest first, with the served model's stamp."""

    model_version: str | None
    as_of: dt.date | None
    total: int
    offset: int
    limit: int
    data: list[AuditEntryPublic]


# Output: GET /healthz and GET /readyz.
class HealthPublic(_Public):
    """Liveness or readiness, with the served model version when there is one."""

    status: Literal["ok", "unavailable"]
    model_version: str | None = None
    as_of: dt.date | None = None
    checks: dict[str, str] = Field(default_factory=dict)
