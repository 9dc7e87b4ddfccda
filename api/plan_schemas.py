"""Request and response models of the training-plan endpoints (``api.routes.plans``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PlanStatus = Literal["draft", "approved", "published", "superseded"]
SessionStatus = Literal["planned", "delivered"]


class PlanRequest(BaseModel):
    """A request to plan training over the latest stored scores; at least one budget is usual."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Name of the stored plan.")
    budget_employers: int | None = Field(
        None, ge=0, description="Maximum number of employers in the plan."
    )
    budget_sessions: int | None = Field(
        None, ge=0, description="Maximum number of sessions over the horizon."
    )
    budget_trainer_hours: float | None = Field(
        None, ge=0, description="Maximum total trainer hours."
    )
    weeks: int = Field(26, ge=1, le=104, description="Planning horizon in weeks.")
    start_date: dt.date | None = Field(
        None, description="Monday of week 1; default the Monday after as_of."
    )
    max_sessions_per_employer_week: int = Field(2, ge=1, le=20)
    exclude_trained_months: int = Field(12, ge=0, le=120)
    district_min: dict[str, int] = Field(
        default_factory=dict, description="Minimum employers by district."
    )
    district_max: dict[str, int] = Field(
        default_factory=dict, description="Maximum employers by district."
    )
    must_include: list[str] = Field(
        default_factory=list, description="employer_ids the plan must contain."
    )
    blackout_weeks: dict[str, list[int]] = Field(
        default_factory=dict,
        description="Weeks (1-based) in which an employer cannot host training.",
    )
    time_limit_seconds: float = Field(60.0, gt=0, le=600)
    plan_id: int | None = Field(
        None, description="Store as the next version of this plan instead of a new plan."
    )


class PlanSummaryPublic(BaseModel):
    """One stored plan version: status, solver figures and counts."""

    plan_id: int
    name: str
    version: int
    status: PlanStatus
    as_of: dt.date
    start_date: dt.date
    horizon_weeks: int
    strategy: str
    solver_status: str
    expected_injuries_averted: float
    bound: float
    gap: float
    solve_seconds: float
    employer_count: int
    session_count: int
    created_at: dt.datetime
    created_by: str


class CourseChoicePublic(BaseModel):
    """One course chosen for an employer and why."""

    course_id: str
    title: str
    sessions: int
    trainees: int
    engagement: str
    mode: str
    hours: float
    expected_injuries_averted: float
    reason: str


class PlanEmployerPublic(BaseModel):
    """One employer of a plan: its figures, courses and the rationale in the chosen language."""

    employer_id: str
    name: str
    district_code: str
    industry_code: str
    headcount: int
    risk_score: float
    expected_injuries: float
    expected_injuries_averted: float
    courses: list[CourseChoicePublic]
    rationale: str


class SessionPublic(BaseModel):
    """培训场次: one session with its trainer, week and delivery state."""

    session_id: int
    plan_id: int | None = None
    version: int | None = None
    employer_id: str
    employer_name: str | None = None
    district_code: str | None = None
    course_id: str
    trainer_id: str
    organisation: str
    week: int
    week_start: dt.date
    sequence: int
    hours: float
    mode: str
    planned_attendees: int
    status: SessionStatus
    delivered_on: dt.date | None
    attendees: int | None
    record_id: str | None


class PlanPublic(PlanSummaryPublic):
    """A plan version with its employers and sessions (limited to the key's districts)."""

    employers: list[PlanEmployerPublic]
    sessions: list[SessionPublic]


class DeliveryRequest(BaseModel):
    """Report a session as delivered."""

    model_config = ConfigDict(extra="forbid")

    delivered_on: dt.date
    attendees: int = Field(gt=0, le=10_000)
