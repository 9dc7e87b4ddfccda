"""培训计划: a trainer's sessions with downloads and "mark delivered"; plan downloads for planners.

Access follows the plan endpoints of the API. Trainers see the published
sessions of the organisation their account is linked to, and mark them
delivered. Administrators and inspectors list plans and download them,
limited to their districts. Data scientists have no access.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from api.auth import Role
from api.web.context import Page, PageDep, PageError
from api.web.employer_view import course_titles
from api.web.exports import to_xlsx
from training.errors import PlanNotFoundError, PlanStateError
from training.export import MEDIA_TYPES, SESSION_HEADERS, export_bytes, to_csv, to_ics
from training.records import (
    StoredPlan,
    list_plans,
    list_trainer_sessions,
    mark_session_delivered,
    read_plan,
    trainer_organisation,
)

logger = logging.getLogger(__name__)

router = APIRouter()

PLAN_READERS = frozenset({Role.ADMIN, Role.INSPECTOR})
TRAINING_PAGE_ROLES = frozenset({Role.ADMIN, Role.INSPECTOR, Role.TRAINER})
_FORMATS = ("xlsx", "csv", "ics")


def _organisation(page: Page) -> str | None:
    return trainer_organisation(page.services.engine, page.principal.key_id)


def _with_titles(sessions: pd.DataFrame) -> pd.DataFrame:
    titles = course_titles()
    return sessions.assign(
        title_zh=sessions["course_id"].map(lambda code: titles.get(code, (code, code))[0]),
        title_en=sessions["course_id"].map(lambda code: titles.get(code, (code, code))[1]),
    )


def _as_date(value: object) -> dt.date | None:
    # SQLite hands dates back as ISO strings through pandas, PostgreSQL as dates.
    if value is None or (not isinstance(value, str | dt.date) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _session_rows(page: Page, sessions: pd.DataFrame) -> list[dict[str, Any]]:
    title_column = "title_en" if page.language == "en" else "title_zh"
    return [
        {
            "session_id": int(row["session_id"]),
            "week": int(row["week"]),
            "week_start": _as_date(row["week_start"]),
            "employer_name": row["employer_name"],
            "employer_id": row["employer_id"],
            "district": page.t.code("district", row["district_code"]),
            "course": row[title_column],
            "course_id": row["course_id"],
            "hours": row["hours"],
            "mode": row["mode"],
            "planned_attendees": int(row["planned_attendees"]),
            "status": row["status"],
            "delivered_on": _as_date(row["delivered_on"]),
            "attendees": None if pd.isna(row["attendees"]) else int(row["attendees"]),
        }
        for row in sessions.to_dict("records")
    ]


def _visible_plan(stored: StoredPlan, page: Page) -> StoredPlan:
    # As in the API, a district-scoped user gets the plan's employers and sessions
    # of its districts only.
    scope = page.principal.district_codes
    if not scope:
        return stored
    employers = stored.employers[stored.employers["district_code"].isin(scope)]
    sessions = stored.sessions[stored.sessions["employer_id"].isin(employers["employer_id"])]
    return StoredPlan(stored.info, employers, sessions)


@router.get("/training")
def read_training_page(page: PageDep, delivered: int | None = None) -> Response:
    """Show a trainer's sessions, or the stored plans to administrators and inspectors."""
    page.require_role(TRAINING_PAGE_ROLES)
    if page.principal.role != Role.TRAINER:
        plans = list_plans(page.services.engine)
        return page.render(
            "training.html", plans=plans, organisation=None, sessions=[], linked=True
        )
    organisation = _organisation(page)
    sessions = (
        []
        if organisation is None
        else _session_rows(
            page, _with_titles(list_trainer_sessions(page.services.engine, organisation))
        )
    )
    return page.render(
        "training.html",
        plans=None,
        organisation=organisation,
        sessions=sessions,
        linked=organisation is not None,
        delivered=delivered,
        today=dt.date.today(),
    )


@router.get("/training/sessions.{file_format}")
def read_trainer_sessions_file(file_format: str, page: PageDep) -> Response:
    """Download the trainer's sessions as XLSX, CSV (UTF-8 with BOM) or ICS (planned ones)."""
    page.require_role(frozenset({Role.TRAINER}))
    organisation = _organisation(page)
    if file_format not in _FORMATS or organisation is None:
        raise PageError(page, 404, "training.no_file")
    status = "planned" if file_format == "ics" else None
    sessions = _with_titles(list_trainer_sessions(page.services.engine, organisation, status))
    if file_format == "ics":
        body = to_ics(sessions, f"培训计划 {organisation}")
    elif file_format == "csv":
        body = to_csv(sessions)
    else:
        columns = [column for column in SESSION_HEADERS if column in sessions.columns]
        rows = (
            sessions[columns].astype(object).where(sessions[columns].notna(), None).values.tolist()
        )
        body = to_xlsx(
            page.t("training.title"), [SESSION_HEADERS[column] for column in columns], rows
        )
    filename = f"training-sessions.{file_format}"
    return page.finish(
        Response(
            body,
            media_type=MEDIA_TYPES[file_format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    )


@router.get("/training/plans/{plan_id}/export.{file_format}")
def read_plan_file(
    plan_id: Annotated[int, Path(ge=1)], file_format: str, page: PageDep, version: int | None = None
) -> Response:
    """Download one plan version (latest by default) as XLSX, CSV or ICS."""
    page.require_role(PLAN_READERS)
    if file_format not in _FORMATS:
        raise PageError(page, 404, "training.no_file")
    try:
        stored = _visible_plan(read_plan(page.services.engine, plan_id, version), page)
    except PlanNotFoundError as exc:
        raise PageError(page, 404, "training.no_file") from exc
    filename = f"plan-{plan_id}-v{stored.info.version}.{file_format}"
    return page.finish(
        Response(
            export_bytes(stored, file_format),
            media_type=MEDIA_TYPES[file_format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    )


@router.post("/training/sessions/{session_id}/delivered")
def create_delivery(
    session_id: Annotated[int, Path(ge=1)],
    page: PageDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    delivered_on: Annotated[str, Form(max_length=10)] = "",
    attendees: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Mark one of the trainer's sessions delivered, which writes a training record."""
    page.check_csrf(csrf_token)
    page.require_role(frozenset({Role.TRAINER}))
    organisation = _organisation(page)
    if organisation is None:
        raise PageError(page, 403, "training.not_linked")
    try:
        day = dt.date.fromisoformat(delivered_on)
        count = int(attendees)
    except ValueError as exc:
        raise PageError(page, 422, "training.invalid_delivery") from exc
    if day > dt.date.today():
        raise PageError(page, 422, "training.future_date")
    try:
        mark_session_delivered(page.services.engine, session_id, day, count, organisation)
    except PlanNotFoundError as exc:
        raise PageError(page, 404, "training.session_not_found", session_id=session_id) from exc
    except PlanStateError as exc:
        raise PageError(page, 409, "training.not_deliverable", reason=str(exc)) from exc
    return page.finish(RedirectResponse(f"/web/training?delivered={session_id}", status_code=303))
