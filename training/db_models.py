"""SQLAlchemy models of stored training plans, their versions, employers and sessions.

A plan (培训计划) is a named series of versions. Each version is the output of
one planning run and moves draft -> approved -> published; publishing a
version marks the plan's previously published version ``superseded``, so
trainers only ever see one published version of a plan. Sessions of a
published version are what trainers pull and mark delivered; delivering one
writes a ``training_record`` row.

The tables are registered on :class:`risk.store.models.Base` so the one Alembic
chain in ``risk/store/migrations`` creates them (revision 0003).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from risk.store.models import Base

PLAN_STATUSES = ("draft", "approved", "published", "superseded")
SESSION_STATUSES = ("planned", "delivered")


class TrainingPlanRow(Base):
    """培训计划: a named plan whose content lives in its versions."""

    __tablename__ = "training_plan"

    plan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # API key id, or "cli", of whoever created the plan.
    created_by: Mapped[str] = mapped_column(String(32))


class TrainingPlanVersionRow(Base):
    """One version of a plan: the request, the solver figures and the approval state."""

    __tablename__ = "training_plan_version"

    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("training_plan.plan_id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    # One of PLAN_STATUSES.
    status: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[dt.date] = mapped_column(Date)
    start_date: Mapped[dt.date] = mapped_column(Date)
    horizon_weeks: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(16))
    solver_status: Mapped[str] = mapped_column(String(16))
    # Expected injuries averted, its upper bound, the relative gap and the solve time in seconds.
    objective: Mapped[float] = mapped_column(Float)
    bound: Mapped[float] = mapped_column(Float)
    gap: Mapped[float] = mapped_column(Float)
    solve_seconds: Mapped[float] = mapped_column(Float)
    # JSON document of the budget and options the version was planned with.
    parameters: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(32))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_training_plan_version"),)


class TrainingPlanEmployerRow(Base):
    """培训方案: one employer of a plan version, its figures, courses and rationale."""

    __tablename__ = "training_plan_employer"

    version_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("training_plan_version.version_id", ondelete="CASCADE"),
        primary_key=True,
    )
    employer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(String(12))
    industry_code: Mapped[str] = mapped_column(String(8))
    headcount: Mapped[int] = mapped_column(Integer)
    risk_score: Mapped[float] = mapped_column(Float)
    expected_injuries: Mapped[float] = mapped_column(Float)
    expected_injuries_averted: Mapped[float] = mapped_column(Float)
    # JSON list of the chosen courses with their sessions and reasons.
    courses: Mapped[str] = mapped_column(Text)
    rationale_zh: Mapped[str] = mapped_column(Text)
    rationale_en: Mapped[str] = mapped_column(Text)


class TrainingPlanSessionRow(Base):
    """培训场次: one session of a plan version, planned or delivered."""

    __tablename__ = "training_plan_session"

    session_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("training_plan_version.version_id", ondelete="CASCADE")
    )
    employer_id: Mapped[str] = mapped_column(String(32))
    course_id: Mapped[str] = mapped_column(String(32))
    trainer_id: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(200))
    week: Mapped[int] = mapped_column(Integer)
    week_start: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)
    mode: Mapped[str] = mapped_column(String(16))
    planned_attendees: Mapped[int] = mapped_column(Integer)
    # One of SESSION_STATUSES; delivered sessions carry the date, attendees and record id.
    status: Mapped[str] = mapped_column(String(16))
    delivered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    attendees: Mapped[int | None] = mapped_column(Integer, nullable=True)
    record_id: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (
        Index("ix_training_plan_session_version", "version_id"),
        Index("ix_training_plan_session_organisation", "organisation", "status"),
    )


class TrainerApiKeyRow(Base):
    """Links a trainer-role API key to the training organisation whose sessions it may see."""

    __tablename__ = "trainer_api_key"

    key_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("api_key.key_id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(String(200))
