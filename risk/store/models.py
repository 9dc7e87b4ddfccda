"""SQLAlchemy 2 models of the canonical tables.

Each table has a natural key taken from the agency's exports (the credit code,
the injury recognition number, the hazard finding number ...), so a reload of
the same export updates rows in place instead of duplicating them. Personal
data of injured workers has no column here by design.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table in the store."""


class Employer(Base):
    """用人单位: one insured employer."""

    __tablename__ = "employer"

    employer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "uscc" for a unified social credit code; public sources declare their own scheme ("msha").
    id_scheme: Mapped[str] = mapped_column(String(16), default="uscc")
    name: Mapped[str] = mapped_column(String(200))
    industry_code: Mapped[str] = mapped_column(String(8), index=True)
    district_code: Mapped[str] = mapped_column(String(12), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class EmployerHeadcount(Base):
    """参保人数: insured headcount of an employer in one calendar year."""

    __tablename__ = "employer_headcount"

    employer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("employer.employer_id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    insured_headcount: Mapped[int] = mapped_column(Integer)
    # Hours worked in the year where the source reports them (US sources); exposure for rates.
    hours_worked: Mapped[float | None] = mapped_column(Float, nullable=True)


class Incident(Base):
    """工伤事故: one recognised work injury."""

    __tablename__ = "incident"

    incident_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    employer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("employer.employer_id", ondelete="CASCADE")
    )
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    accident_type: Mapped[str] = mapped_column(String(2))
    severity: Mapped[str] = mapped_column(String(8))
    lost_workdays: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disability_grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_commuting: Mapped[bool] = mapped_column(Boolean, default=False)
    # The source's own event code (for example OIICS), kept beside the GB 6441 type.
    source_event_code: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (Index("ix_incident_employer_occurred", "employer_id", "occurred_on"),)


class HazardFinding(Base):
    """隐患: one hazard found at an on-site inspection."""

    __tablename__ = "hazard_finding"

    finding_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    employer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("employer.employer_id", ondelete="CASCADE")
    )
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    hazard_category: Mapped[str] = mapped_column(String(32))
    hazard_level: Mapped[str] = mapped_column(String(8))
    rectified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_hazard_employer_inspected", "employer_id", "inspected_on"),)


class TrainingRecord(Base):
    """培训记录: one course delivered to an employer."""

    __tablename__ = "training_record"

    record_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    employer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("employer.employer_id", ondelete="CASCADE")
    )
    course_id: Mapped[str] = mapped_column(String(32))
    delivered_on: Mapped[dt.date] = mapped_column(Date)
    attendees: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_training_employer_delivered", "employer_id", "delivered_on"),)


class Course(Base):
    """课程: one course of the prevention-training catalogue."""

    __tablename__ = "course"

    course_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # "|"-separated GB 6441 accident-type codes and GB/T 4754 sections or divisions.
    accident_types: Mapped[str] = mapped_column(String(200), default="")
    industries: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[float] = mapped_column(Float)
    mode: Mapped[str] = mapped_column(String(16))
    class_size: Mapped[int] = mapped_column(Integer)
    qualification: Mapped[str] = mapped_column(String(64), default="")


class Trainer(Base):
    """培训机构: a third-party training organisation and its capacity."""

    __tablename__ = "trainer"

    trainer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200))
    qualifications: Mapped[str] = mapped_column(String(400), default="")
    district_codes: Mapped[str] = mapped_column(String(400), default="")
    sessions_per_week: Mapped[int] = mapped_column(Integer)


class IngestRun(Base):
    """One ingest run: which files, how many rows, and whether it was committed."""

    __tablename__ = "ingest_run"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    files: Mapped[str] = mapped_column(Text)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
