"""Turn one employer's stored records into the rows and tables of the employer page."""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache
from typing import Any

from api.web.i18n import Translator
from risk.store.employer_history import EmployerHistory
from risk.store.scores import PastScore

logger = logging.getLogger(__name__)

SEVERITY_ORDER = ("minor", "serious", "fatal")


@cache
def course_titles() -> dict[str, tuple[str, str]]:
    """Return ``course_id -> (title_zh, title_en)`` from the shipped course catalogue."""
    from training.catalog import load_courses

    try:
        courses = load_courses()
    except Exception:  # a broken catalogue must not break the employer page; ids are shown instead
        logger.exception("Could not load the course catalogue; showing course ids only")
        return {}
    return {
        str(row.course_id): (str(row.title_zh), str(row.title_en))
        for row in courses.itertuples(index=False)
    }


def _course_title(t: Translator, course_id: str) -> str:
    titles = course_titles().get(course_id)
    if titles is None:
        return course_id
    return titles[1] if t.language == "en" else titles[0]


def incident_table(t: Translator, history: EmployerHistory) -> list[dict[str, Any]]:
    """Return incident counts per accident type and severity, most frequent type first."""
    counts: dict[str, dict[str, int]] = {}
    for incident in history.incidents:
        by_severity = counts.setdefault(incident.accident_type, dict.fromkeys(SEVERITY_ORDER, 0))
        by_severity[incident.severity] = by_severity.get(incident.severity, 0) + 1
    rows = [
        {
            "code": code,
            "label": t.code("accident_type", code),
            "counts": [by_severity.get(severity, 0) for severity in SEVERITY_ORDER],
            "total": sum(by_severity.values()),
        }
        for code, by_severity in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row["total"], row["code"]))


def _finding_rows(t: Translator, history: EmployerHistory, as_of: dt.date) -> list[dict[str, Any]]:
    rows = []
    for finding in history.findings:
        is_open = finding.rectified_on is None
        rows.append(
            {
                "inspected_on": finding.inspected_on,
                "finding_id": finding.finding_id,
                "category": t.code("hazard_category", finding.hazard_category),
                "level": finding.hazard_level,
                "level_label": t.code("hazard_level", finding.hazard_level),
                "rectified_on": finding.rectified_on,
                "is_open": is_open,
                # Days open counted to the scoring date, the day the score describes.
                "days_open": max(0, (as_of - finding.inspected_on).days) if is_open else None,
            }
        )
    return rows


def history_view(
    t: Translator, history: EmployerHistory, past: list[PastScore], as_of: dt.date | None = None
) -> dict[str, Any]:
    """Return the template values of the employer's records, each list newest first."""
    today = as_of or dt.date.today()
    findings = _finding_rows(t, history, today)
    return {
        "incidents": [
            {
                "occurred_on": incident.occurred_on,
                "incident_id": incident.incident_id,
                "accident_type": t.code("accident_type", incident.accident_type),
                "severity": incident.severity,
                "severity_label": t.code("severity", incident.severity),
                "lost_workdays": incident.lost_workdays,
                "disability_grade": incident.disability_grade,
                "is_commuting": incident.is_commuting,
            }
            for incident in history.incidents
        ],
        "incident_table": incident_table(t, history),
        "severity_labels": [t.code("severity", code) for code in SEVERITY_ORDER],
        "findings": findings,
        "open_findings": sum(1 for row in findings if row["is_open"]),
        "trainings": [
            {
                "delivered_on": row.delivered_on,
                "record_id": row.record_id,
                "course_id": row.course_id,
                "title": _course_title(t, row.course_id),
                "attendees": row.attendees,
            }
            for row in history.trainings
        ],
        "headcounts": history.headcounts,
        "past_scores": past,
    }
