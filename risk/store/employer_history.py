"""Read one employer's records (incidents, hazard findings, training) for display.

These readers serve one employer at a time, for the history endpoint; the
feature pipeline reads whole tables through its own functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select

from risk.store.models import (
    Employer,
    EmployerHeadcount,
    HazardFinding,
    Incident,
    TrainingRecord,
)


@dataclass(frozen=True)
class EmployerRecord:
    """An employer's master data."""

    employer_id: str
    name: str
    industry_code: str
    district_code: str


@dataclass(frozen=True)
class IncidentRecord:
    """One recognised work injury, without any personal data."""

    incident_id: str
    occurred_on: dt.date
    accident_type: str
    severity: str
    lost_workdays: int | None
    disability_grade: int | None
    is_commuting: bool


@dataclass(frozen=True)
class FindingRecord:
    """One hazard finding."""

    finding_id: str
    inspected_on: dt.date
    hazard_category: str
    hazard_level: str
    rectified_on: dt.date | None


@dataclass(frozen=True)
class TrainingRecordRow:
    """One delivered course."""

    record_id: str
    course_id: str
    delivered_on: dt.date
    attendees: int


@dataclass(frozen=True)
class EmployerHistory:
    """Everything stored about one employer, each list newest first."""

    employer: EmployerRecord
    headcounts: list[tuple[int, int]]
    incidents: list[IncidentRecord]
    findings: list[FindingRecord]
    trainings: list[TrainingRecordRow]


def read_employer_history(
    engine: Engine, employer_id: str, *, limit: int = 200
) -> EmployerHistory | None:
    """Return the employer's records, at most ``limit`` of each kind, or None if unknown."""
    with engine.connect() as connection:
        employer = connection.execute(
            select(
                Employer.employer_id, Employer.name, Employer.industry_code, Employer.district_code
            ).where(Employer.employer_id == employer_id)
        ).first()
        if employer is None:
            return None
        headcounts = connection.execute(
            select(EmployerHeadcount.year, EmployerHeadcount.insured_headcount)
            .where(EmployerHeadcount.employer_id == employer_id)
            .order_by(EmployerHeadcount.year.desc())
        ).all()
        incidents = connection.execute(
            select(
                Incident.incident_id,
                Incident.occurred_on,
                Incident.accident_type,
                Incident.severity,
                Incident.lost_workdays,
                Incident.disability_grade,
                Incident.is_commuting,
            )
            .where(Incident.employer_id == employer_id)
            .order_by(Incident.occurred_on.desc())
            .limit(limit)
        ).all()
        findings = connection.execute(
            select(
                HazardFinding.finding_id,
                HazardFinding.inspected_on,
                HazardFinding.hazard_category,
                HazardFinding.hazard_level,
                HazardFinding.rectified_on,
            )
            .where(HazardFinding.employer_id == employer_id)
            .order_by(HazardFinding.inspected_on.desc())
            .limit(limit)
        ).all()
        trainings = connection.execute(
            select(
                TrainingRecord.record_id,
                TrainingRecord.course_id,
                TrainingRecord.delivered_on,
                TrainingRecord.attendees,
            )
            .where(TrainingRecord.employer_id == employer_id)
            .order_by(TrainingRecord.delivered_on.desc())
            .limit(limit)
        ).all()
    return EmployerHistory(
        employer=EmployerRecord(*employer),
        headcounts=[(int(year), int(count)) for year, count in headcounts],
        incidents=[IncidentRecord(*row) for row in incidents],
        findings=[FindingRecord(*row) for row in findings],
        trainings=[TrainingRecordRow(*row) for row in trainings],
    )
